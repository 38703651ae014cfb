"""Source and hash of a step's code (read once per function and process)."""

from __future__ import annotations

import inspect
import marshal
import types
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from trellis.hashing import sha256_hex, source_hash


@dataclass(frozen=True, slots=True)
class CodeInfo:
    source: str | None
    hash: str


@lru_cache(maxsize=4096)
def code_info(func: Callable[..., Any]) -> CodeInfo:
    """The function's source and the hash of its normalized source.

    Functions without retrievable source (defined in ``python -c`` or a REPL) are
    hashed by their compiled code object instead.
    """
    target = inspect.unwrap(func)
    try:
        source = inspect.getsource(target)
        return CodeInfo(source, source_hash(source))
    except (OSError, TypeError, SyntaxError):
        code = getattr(target, "__code__", None)
        data = marshal.dumps(code) if code is not None else repr(target).encode()
        return CodeInfo(None, sha256_hex(data))


@lru_cache(maxsize=4096)
def object_source_hash(obj: Any) -> str:
    """Hash of the normalized source of a function, class or module (a ``Step``: its function)."""
    entrypoint = getattr(obj, "entrypoint", None)
    if entrypoint is not None:
        return code_info(entrypoint).hash
    try:
        return source_hash(inspect.getsource(obj))
    except (OSError, TypeError, SyntaxError):
        code = getattr(obj, "__code__", None)
        return sha256_hex(marshal.dumps(code) if code is not None else repr(obj).encode())


_CONSTANT_TYPES = (type(None), bool, int, float, str, bytes)


def _constant(value: Any) -> Any:
    """A JSON-able fingerprint of an immutable constant, or ``None`` if it is not one."""
    if isinstance(value, bytes):
        return {"bytes": sha256_hex(value)}
    if isinstance(value, _CONSTANT_TYPES):
        return {"value": value}
    if isinstance(value, tuple | frozenset):
        items = [_constant(item) for item in value]
        if any(item is None for item in items):
            return None
        if isinstance(value, frozenset):
            items.sort(key=repr)
        return {type(value).__name__: items}
    return None


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _fingerprint(value: Any, module: str, *, from_closure: bool) -> Any:
    constant = _constant(value)
    if constant is not None:
        return constant
    is_code = inspect.isfunction(value) or inspect.isclass(value)
    # helpers defined next to the step (same module, or in the enclosing function)
    if is_code and (from_closure or getattr(value, "__module__", None) == module):
        return {"source": object_source_hash(value)}
    return None


def captured_values(func: Callable[..., Any]) -> dict[str, Any]:
    """What the step's code reads besides its arguments, when it can be fingerprinted.

    Closure variables and module globals that are immutable constants (numbers,
    strings, tuples of them), and functions or classes defined in the step's own
    module or enclosing function (by normalized source). Mutable objects and
    imported helpers are left out: list those in ``CachePolicy.source_dependencies``.
    """
    target = inspect.unwrap(func)
    code = getattr(target, "__code__", None)
    if code is None:
        return {}
    module = getattr(target, "__module__", "")
    captured: dict[str, Any] = {}
    for name, cell in zip(
        code.co_freevars, getattr(target, "__closure__", None) or (), strict=False
    ):
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell: defined later in the enclosing scope
            continue
        if value is target:
            continue
        fingerprint = _fingerprint(value, module, from_closure=True)
        if fingerprint is not None:
            captured[name] = fingerprint
    namespace = getattr(target, "__globals__", {})
    for name in sorted(_names(code)):
        if name in namespace and namespace[name] is not target:
            fingerprint = _fingerprint(namespace[name], module, from_closure=False)
            if fingerprint is not None:
                captured[name] = fingerprint
    return captured
