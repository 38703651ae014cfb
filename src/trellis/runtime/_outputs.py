"""Check what a step returned against the outputs it declared."""

from __future__ import annotations

import json
import types
import typing
from typing import Any, get_args, get_origin

from trellis.exceptions import StepOutputError
from trellis.graph import OutputSpec


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__qualname__
    return str(annotation).replace("typing.", "")


def matches(value: Any, annotation: Any) -> bool:
    """A shallow runtime check of ``value`` against a type annotation.

    Containers are checked by their own type only, unions by any member; ``Any``,
    type variables and forward references (strings) always match; an ``int`` is a
    valid ``float`` (PEP 484's numeric tower).
    """
    if annotation is Any or isinstance(annotation, typing.TypeVar | str):
        return True
    if annotation is None or annotation is type(None):
        return value is None
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return matches(value, get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        return any(matches(value, arg) for arg in get_args(annotation))
    if origin is typing.Literal:
        return value in get_args(annotation)
    if origin is not None:
        annotation = origin
    if not isinstance(annotation, type):
        return True
    if annotation is float and type(value) is int:
        return True
    if annotation is complex and type(value) in (int, float):
        return True
    try:
        return isinstance(value, annotation)
    except TypeError:  # a subscripted generic or protocol we cannot check at run time
        return True


def split_outputs(value: Any, outputs: tuple[OutputSpec, ...], where: str) -> dict[str, Any]:
    """Map a returned value to output names, checking count and types."""
    if not outputs:
        if value is not None:
            raise StepOutputError(
                f"{where} is declared `-> None` but returned {_describe(value)}. "
                "Return nothing, or annotate the output type."
            )
        return {}
    if len(outputs) == 1:
        values: tuple[Any, ...] = (value,)
    else:
        names = ", ".join(o.name for o in outputs)
        if not isinstance(value, tuple | list):
            raise StepOutputError(
                f"{where} declares {len(outputs)} outputs ({names}) but returned one "
                f"{type(value).__qualname__}; return a tuple of {len(outputs)} values."
            )
        if len(value) != len(outputs):
            raise StepOutputError(
                f"{where} declares {len(outputs)} outputs ({names}) but returned "
                f"{len(value)} values; return exactly one value per declared output."
            )
        values = tuple(value)
    result: dict[str, Any] = {}
    for spec, item in zip(outputs, values, strict=True):
        if not matches(item, spec.annotation):
            raise StepOutputError(
                f"{where}: output `{spec.name}` is declared as {_type_name(spec.annotation)} "
                f"but the step returned a {type(item).__qualname__} ({_describe(item)}). "
                "Fix the return value or the return annotation."
            )
        result[spec.name] = item
    return result


def check_metadata(metadata: Any, output: str, materializer: str, where: str) -> None:
    """Materializer metadata must be JSON: the driver records it in the database."""
    try:
        json.dumps(metadata)
    except (TypeError, ValueError) as exc:
        raise StepOutputError(
            f"{where}: materializer {materializer} extracted metadata for output `{output}` "
            f"that is not JSON ({exc}). Return only JSON values (numbers, strings, lists, "
            "dicts) from its extract_metadata()."
        ) from exc
