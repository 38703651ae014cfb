"""Normalized source code: reformatting, comments and docstrings do not change the hash."""

from __future__ import annotations

import ast
import textwrap

from trellis.hashing._canonical import sha256_hex


def _strip_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        return body[1:] or [ast.Pass()]
    return body


class _Normalizer(ast.NodeTransformer):
    def _definition(self, node: ast.AST) -> ast.AST:
        assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        node.decorator_list = []
        node.body = _strip_docstring(node.body)
        self.generic_visit(node)
        return node

    visit_FunctionDef = _definition
    visit_AsyncFunctionDef = _definition
    visit_ClassDef = _definition


def normalize_source(source: str) -> str:
    """Return ``source`` re-rendered from its AST without decorators and docstrings.

    Comments and formatting disappear in the round trip through the AST, so only
    a change of logic changes the result.

    Example:
        >>> normalize_source("@step\\ndef f(x):\\n    '''Doc.'''\\n    return x  # note\\n")
        'def f(x):\\n    return x'
    """
    tree = ast.parse(textwrap.dedent(source))
    tree = _Normalizer().visit(tree)
    return ast.unparse(tree)


def source_hash(source: str) -> str:
    """Hex sha256 of :func:`normalize_source` of ``source``."""
    return sha256_hex(normalize_source(source))
