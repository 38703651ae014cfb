"""Shared cloudpickle reading and writing, and the advice given when pickling is not wanted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trellis.artifacts._import_paths import type_name
from trellis.exceptions import MaterializerError

if TYPE_CHECKING:
    from trellis.artifacts._materializer import BaseMaterializer

__all__ = ["PICKLE_FILE", "read_pickle", "register_advice", "write_pickle"]

PICKLE_FILE = "data.pkl"


def register_advice(t: type) -> str:
    """Say how a user gets a proper materializer for values of type ``t``."""
    return (
        f"Register a materializer with `trellis.register_materializer(MyMaterializer, "
        f"{t.__name__})`, or choose one for this output with "
        "`@step(output_materializers=...)`."
    )


def write_pickle(materializer: BaseMaterializer, data: Any, name: str = PICKLE_FILE) -> None:
    """Write ``data`` with cloudpickle to ``name`` in the materializer's folder.

    Raises:
        MaterializerError: cloudpickle cannot pickle ``data``.
    """
    import cloudpickle

    with materializer.open(name, "wb") as f:
        try:
            cloudpickle.dump(data, f, protocol=cloudpickle.DEFAULT_PROTOCOL)
        except Exception as exc:  # pickling raises TypeError, PicklingError, AttributeError, ...
            raise MaterializerError(
                f"cannot save a value of type {type_name(type(data))}: no materializer "
                f"handles it and cloudpickle failed ({type(exc).__name__}: {exc}). "
                + register_advice(type(data))
            ) from exc


def read_pickle(materializer: BaseMaterializer, name: str = PICKLE_FILE) -> Any:
    """Read a value written by :func:`write_pickle`."""
    import cloudpickle

    with materializer.open(name, "rb") as f:
        return cloudpickle.load(f)
