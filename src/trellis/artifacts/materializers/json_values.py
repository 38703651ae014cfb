"""JSON for ``None``, ``bool``, ``int``, ``float``, ``str`` and plain containers of them."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from trellis.artifacts.materializers._json_or_pickle import JSON_FILE, JsonOrPickleMaterializer

__all__ = ["JsonMaterializer"]

_SCALARS = frozenset({type(None), bool, int, float, str})
_UNORDERED = (set, frozenset)


def _plain(value: Any) -> bool:
    """True when JSON gives back exactly ``value``: same types, also nested."""
    t = type(value)
    if t in _SCALARS:
        return True
    if t is list:
        return all(_plain(item) for item in value)
    if t is dict:
        return all(type(key) is str and _plain(item) for key, item in value.items())
    return False


def _set_order(value: Any) -> tuple[str, str]:
    # Set iteration order depends on the hash seed; sort so equal sets give equal bytes.
    return (type(value).__name__, repr(value))


class JsonMaterializer(JsonOrPickleMaterializer):
    """Save primitives and containers as ``data.json``; cloudpickle what JSON would change.

    A value is written as JSON when loading it gives back an equal value of the same
    type: the top level may be a ``tuple``, ``set`` or ``frozenset`` (rebuilt from the
    recorded data type); nested values must be ``None``, ``bool``, ``int``, ``float``,
    ``str``, ``list`` or ``dict`` with ``str`` keys. Anything else (nested tuples,
    ``int`` keys, subclasses such as ``OrderedDict``) is pickled, without a warning.

    Example:
        >>> store.save({"lr": 0.1, "layers": [64]}, scope="run/train/config/0")  # doctest: +SKIP
    """

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (
        type(None),
        bool,
        int,
        float,
        str,
        dict,
        list,
        tuple,
        set,
        frozenset,
    )

    def encode(self, data: Any) -> bytes | None:
        """Return compact JSON bytes, or ``None`` when JSON would not round-trip."""
        t = type(data)
        try:
            if t is tuple:
                if not all(_plain(item) for item in data):
                    return None
                data = list(data)
            elif t in _UNORDERED:
                # NaN != NaN lets a set hold several; JSON would load them as one object.
                if not all(type(item) in _SCALARS and item == item for item in data):
                    return None
                data = sorted(data, key=_set_order)
            elif not _plain(data):
                return None
            return json.dumps(data, separators=(",", ":")).encode("ascii")
        except (ValueError, RecursionError):  # cycles, ints beyond the str-digits limit
            return None

    def decode(self, raw: bytes, data_type: type[Any]) -> Any:
        """Parse JSON; rebuild a top-level ``tuple``, ``set`` or ``frozenset``."""
        value = json.loads(raw)
        if data_type is tuple or data_type in _UNORDERED:
            return data_type(value)
        return value

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        """Record the length of strings and containers."""
        if isinstance(data, (str, dict, list, tuple, set, frozenset)):
            return {"length": len(data)}
        return {}

    def save_visualizations(self, data: Any) -> dict[str, str]:
        """Show a ``dict`` or ``list`` as indented JSON (``data.json``).

        Values that are pickled, or hold NaN or infinity (not valid JSON), get none.
        """
        if type(data) not in (dict, list) or not _plain(data):
            return {}
        try:
            text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)
        except (ValueError, RecursionError):
            return {}
        with self.open(JSON_FILE, "wb") as f:
            f.write(text.encode("utf-8"))
        return {JSON_FILE: "json"}
