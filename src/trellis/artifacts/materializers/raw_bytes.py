"""Raw files for ``bytes`` and ``bytearray``."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from trellis.artifacts._materializer import BaseMaterializer
from trellis.artifacts.materializers._pickling import read_pickle, write_pickle

__all__ = ["BytesMaterializer"]

_BYTES_FILE = "data.bin"
_EXACT = (bytes, bytearray)


class BytesMaterializer(BaseMaterializer):
    """Save ``bytes`` and ``bytearray`` as the raw file ``data.bin``.

    Subclass instances, which may carry more state, are pickled without a warning.

    Example:
        >>> store.save(b"\\x89PNG...", scope="run/render/image/0")  # doctest: +SKIP
    """

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = _EXACT

    def save(self, data: Any) -> None:
        """Write the bytes as they are."""
        if type(data) not in _EXACT:
            write_pickle(self, data)
            return
        with self.open(_BYTES_FILE, "wb") as f:
            f.write(data)

    def load(self, data_type: type[Any]) -> Any:
        """Read the bytes back as ``data_type``."""
        try:
            f = self.open(_BYTES_FILE, "rb")
        except FileNotFoundError:
            return read_pickle(self)
        with f:
            raw = f.read()
        return raw if data_type is bytes else data_type(raw)

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        """Record the length."""
        return {"length": len(data)}

    def content_hash(self, data: Any) -> str | None:
        """Hash the bytes themselves, without reading the file back."""
        return hashlib.sha256(data).hexdigest() if type(data) in _EXACT else None
