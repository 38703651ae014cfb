"""One metadata store per database URL and process (opening one checks the schema)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trellis.metadata import MetadataStore

_lock = threading.Lock()
_stores: dict[str, MetadataStore] = {}


def open_metadata_store(url: str) -> MetadataStore:
    """The process-wide :class:`MetadataStore` for ``url`` (opened on first use)."""
    store = _stores.get(url)
    if store is not None:
        return store
    with _lock:
        store = _stores.get(url)
        if store is None:
            from trellis.metadata import MetadataStore

            store = _stores[url] = MetadataStore(url)
        return store


def close_metadata_stores() -> None:
    """Close every cached store (tests call this between temporary homes)."""
    with _lock:
        for store in _stores.values():
            store.close()
        _stores.clear()
