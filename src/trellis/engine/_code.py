"""Source and hash of a step's code (read once per function and process)."""

from __future__ import annotations

import inspect
import marshal
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
