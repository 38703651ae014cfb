"""JSON for dataclass instances, through a pydantic ``TypeAdapter``."""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from trellis.artifacts.materializers._json_or_pickle import JsonOrPickleMaterializer

if TYPE_CHECKING:
    from pydantic import TypeAdapter

__all__ = ["DataclassMaterializer"]

logger = logging.getLogger(__name__)


def _adapter(data_type: type[Any]) -> TypeAdapter[Any]:
    return _cached_adapter(cast("Hashable", data_type))


@functools.lru_cache(maxsize=256)
def _cached_adapter(data_type: Any) -> TypeAdapter[Any]:
    # Building an adapter compiles a validator: do it once per class.
    from pydantic import TypeAdapter

    return TypeAdapter(data_type)


class DataclassMaterializer(JsonOrPickleMaterializer):
    """Save a dataclass instance as ``data.json`` using a pydantic ``TypeAdapter``.

    The registry picks it for any class that ``dataclasses.is_dataclass`` accepts.
    An instance that JSON does not give back equal (fields of arbitrary types,
    ``eq=False`` dataclasses, annotations pydantic cannot resolve) is pickled
    instead, without a warning.

    Example:
        >>> store.save(Split(train=0.8, test=0.2), scope="run/split/sizes/0")  # doctest: +SKIP
    """

    # Matched by a registry hook: dataclasses share no base class.
    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = ()

    def encode(self, data: Any) -> bytes | None:
        """Return the adapter's JSON bytes if they validate back to an equal instance."""
        try:
            adapter = _adapter(type(data))
            raw = adapter.dump_json(data, warnings=False)
            if adapter.validate_json(raw) == data:
                return raw
        except Exception as exc:  # any failure means: keep the exact value with pickle
            logger.debug("%s is pickled, JSON failed: %r", type(data).__qualname__, exc)
        return None

    def decode(self, raw: bytes, data_type: type[Any]) -> Any:
        """Validate the JSON into an instance of ``data_type``."""
        return _adapter(data_type).validate_json(raw)

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        """Record the names of the fields."""
        return {"fields": [field.name for field in dataclasses.fields(data)]}
