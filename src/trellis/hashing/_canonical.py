"""Canonical JSON: one byte string per value, whatever the dict order."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> str:
    """Serialize a JSON-able value with sorted keys and no insignificant whitespace.

    Floats use Python's shortest round-trip ``repr``, so equal floats always give
    equal text.

    Example:
        >>> canonical_json({"b": 1, "a": [1.5, None]})
        '{"a":[1.5,null],"b":1}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(data: str | bytes) -> str:
    """Hex sha256 of text (UTF-8) or bytes."""
    if isinstance(data, str):
        data = data.encode()
    return hashlib.sha256(data).hexdigest()


def hash_json(value: Any) -> str:
    """Hex sha256 of :func:`canonical_json` of ``value``."""
    return sha256_hex(canonical_json(value))
