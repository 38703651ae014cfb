"""JSON for pydantic models."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from trellis.artifacts.materializers._json_or_pickle import JsonOrPickleMaterializer

__all__ = ["PydanticMaterializer"]

logger = logging.getLogger(__name__)


class PydanticMaterializer(JsonOrPickleMaterializer):
    """Save a pydantic ``BaseModel`` as ``data.json`` via ``model_dump_json``.

    Loading calls ``model_validate_json`` on the recorded model class. A model that
    JSON does not give back equal (fields of arbitrary types, a subclass instance in
    a field typed as its base, ...) is pickled instead, without a warning.

    Example:
        >>> store.save(TrainConfig(lr=0.1), scope="run/setup/config/0")  # doctest: +SKIP
    """

    # Registered lazily by the import path "pydantic:BaseModel"; importing pydantic
    # here would make `import trellis.artifacts` slow.
    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = ()

    def encode(self, data: Any) -> bytes | None:
        """Return ``model_dump_json`` bytes if they validate back to an equal model."""
        try:
            raw: bytes = data.model_dump_json(warnings=False).encode("utf-8")
            if type(data).model_validate_json(raw) == data:
                return raw
        except Exception as exc:  # any failure means: keep the exact value with pickle
            logger.debug("%s is pickled, JSON failed: %r", type(data).__qualname__, exc)
        return None

    def decode(self, raw: bytes, data_type: type[Any]) -> Any:
        """Validate the JSON with ``data_type.model_validate_json``."""
        return data_type.model_validate_json(raw)

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        """Record the names of the fields."""
        return {"fields": list(type(data).model_fields)}
