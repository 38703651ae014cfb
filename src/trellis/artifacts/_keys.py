"""Relative keys inside an artifact store: scopes of saves and names of raw files."""

from __future__ import annotations

__all__ = ["RESERVED_FOLDERS", "is_relative_key"]

#: Top-level folders the store manages itself; raw files may not be written there.
RESERVED_FOLDERS = frozenset({".tmp", "attempts", "objects", "visualizations"})


def is_relative_key(key: str) -> bool:
    """Return whether ``key`` is a ``/``-separated relative path that stays inside a folder.

    Empty keys, absolute paths and keys with empty, ``.`` or ``..`` parts are refused.

    Example:
        >>> is_relative_key("logs/run-1/train-1.log"), is_relative_key("../etc/passwd")
        (True, False)
    """
    if not key or key.startswith("/"):
        return False
    return all(part not in ("", ".", "..") for part in key.split("/"))
