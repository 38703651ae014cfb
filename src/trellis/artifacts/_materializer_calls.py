"""Calling materializers safely: translate their errors, resolve what ``load`` needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from trellis.artifacts._import_paths import import_object, type_name
from trellis.artifacts._materializer import BaseMaterializer
from trellis.exceptions import ArtifactStoreError, MaterializerError, TrellisError

__all__ = ["call_materializer", "data_type_for", "materializer_class"]


def call_materializer(
    method: Callable[[Any], Any], value: Any, cls: type[BaseMaterializer], verb: str
) -> Any:
    """Run ``method(value)`` of a materializer; translate foreign errors into ours.

    Args:
        method: A bound method such as ``instance.save``.
        value: The value being saved.
        cls: The materializer class, for the message.
        verb: What the method does, for the message ("save", "hash", "describe").
    """
    try:
        return method(value)
    except (TrellisError, Warning):  # warnings turned into errors stay what they are
        raise
    except OSError as exc:
        raise ArtifactStoreError(
            f"{cls.__qualname__} could not write a value of type {type_name(type(value))} "
            f"to the artifact store ({type(exc).__name__}: {exc}). Check free space and "
            "permissions; nothing was stored."
        ) from exc
    except Exception as exc:
        raise MaterializerError(
            f"{cls.__qualname__} failed to {verb} a value of type {type_name(type(value))} "
            f"({type(exc).__name__}: {exc}); nothing was stored. Fix the materializer or "
            "choose another one with `@step(output_materializers=...)`."
        ) from exc


def materializer_class(path: str, uri: str) -> type[BaseMaterializer]:
    """Import the materializer class recorded for the artifact at ``uri``."""
    try:
        cls = import_object(path)
    except ImportError as exc:
        raise MaterializerError(f"cannot load the artifact at {uri!r}: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, BaseMaterializer)):
        raise MaterializerError(
            f"cannot load the artifact at {uri!r}: {path!r} is not a materializer class. "
            "Pass the materializer import path recorded when the artifact was saved."
        )
    return cls


def data_type_for(
    path: str, expected: type | None, cls: type[BaseMaterializer], uri: str
) -> type[Any]:
    """Import the recorded data type, or fall back to ``expected``.

    Materializers that rebuild values without it (cloudpickle) get ``object`` when
    neither is available.
    """
    try:
        found = import_object(path)
    except ImportError as exc:
        if expected is not None:
            return expected
        if cls.LOADS_WITHOUT_DATA_TYPE:
            return object
        raise MaterializerError(
            f"cannot load the artifact at {uri!r}: its data type is not importable here "
            f"({exc}) and {cls.__qualname__} needs it. Pass expected_type= to load(), or "
            "annotate the step input with the type."
        ) from exc
    if not isinstance(found, type):
        raise MaterializerError(
            f"cannot load the artifact at {uri!r}: its data type {path!r} is not a class."
        )
    return found
