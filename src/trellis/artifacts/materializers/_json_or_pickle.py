"""Base for materializers that write JSON when it round-trips exactly, else cloudpickle."""

from __future__ import annotations

import hashlib
from typing import Any

from trellis.artifacts._materializer import BaseMaterializer
from trellis.artifacts.materializers._pickling import read_pickle, write_pickle

__all__ = ["JSON_FILE", "JsonOrPickleMaterializer"]

JSON_FILE = "data.json"


class JsonOrPickleMaterializer(BaseMaterializer):
    """Write ``data.json`` when :meth:`encode` succeeds, else ``data.pkl`` (no warning).

    Subclasses implement :meth:`encode`, returning ``None`` for values that would
    not survive a JSON round trip exactly, and :meth:`decode`.
    """

    _memo: tuple[Any, bytes | None] | None = None

    def encode(self, data: Any) -> bytes | None:
        """Return the JSON bytes of ``data``, or ``None`` when JSON would lose something."""
        raise NotImplementedError

    def decode(self, raw: bytes, data_type: type[Any]) -> Any:
        """Rebuild a value of ``data_type`` from the bytes :meth:`encode` made."""
        raise NotImplementedError

    def _encoded(self, data: Any) -> bytes | None:
        # The store asks for the content hash and then saves: encode only once.
        memo = self._memo
        if memo is None or memo[0] is not data:
            memo = (data, self.encode(data))
            self._memo = memo
        return memo[1]

    def save(self, data: Any) -> None:
        """Write ``data.json``, or pickle ``data`` when JSON cannot hold it exactly."""
        payload = self._encoded(data)
        if payload is None:
            write_pickle(self, data)
            return
        with self.open(JSON_FILE, "wb") as f:
            f.write(payload)

    def load(self, data_type: type[Any]) -> Any:
        """Read ``data.json`` (or ``data.pkl``) back into a value of ``data_type``."""
        try:
            f = self.open(JSON_FILE, "rb")
        except FileNotFoundError:
            return read_pickle(self)
        with f:
            raw = f.read()
        return self.decode(raw, data_type)

    def content_hash(self, data: Any) -> str | None:
        """Hash the JSON bytes; pickled values are hashed from their file by the store."""
        payload = self._encoded(data)
        return None if payload is None else hashlib.sha256(payload).hexdigest()
