"""Parameters are values recorded as JSON: check them and keep their JSON form."""

from __future__ import annotations

from functools import cache
from typing import Any

from trellis.exceptions import ParameterError

_NATIVE = frozenset({str, int, float, bool, type(None)})


@cache
def _any_adapter() -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(Any)


def _native(value: Any) -> Any:
    """JSON form of plain JSON values, or ``NotImplemented`` when pydantic must try."""
    kind = type(value)
    if kind in _NATIVE:
        return value
    if kind is list or kind is tuple:
        items = [_native(item) for item in value]
        return NotImplemented if NotImplemented in items else items
    if kind is dict and all(type(key) is str for key in value):
        converted = {key: _native(item) for key, item in value.items()}
        return NotImplemented if NotImplemented in converted.values() else converted
    return NotImplemented


def parameter_json(value: Any, *, name: str, where: str) -> Any:
    """The JSON form of a parameter value, or a :class:`ParameterError` saying what to do.

    Accepts JSON values and what pydantic serializes to JSON: datetime, UUID, Enum,
    Path, Decimal, pydantic models, dataclasses.

    Example:
        >>> parameter_json({"lr": 0.1}, name="config", where="step `train`")
        {'lr': 0.1}
    """
    result = _native(value)
    if result is not NotImplemented:
        return result
    try:
        return _any_adapter().dump_python(value, mode="json")
    except Exception as exc:
        raise ParameterError(
            f"Parameter `{name}` of {where} is a {type(value).__module__}."
            f"{type(value).__qualname__}, which is not JSON-serializable ({exc}). "
            "Parameters must be JSON values or types pydantic serializes (datetime, UUID, "
            "Enum, Path, Decimal, pydantic models, dataclasses); pass anything else as an "
            "artifact: return it from an upstream step and pass that step's output."
        ) from None
