"""Opening artifact stores by URL: fsspec filesystems, and one store per URL per process."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from trellis.exceptions import ArtifactStoreError

if TYPE_CHECKING:
    import fsspec

    from trellis.artifacts._artifact_store import ArtifactStore

__all__ = ["CONFIGURE_HINT", "open_artifact_store", "open_filesystem"]

CONFIGURE_HINT = "or set TRELLIS_ARTIFACTS to a store URL that works"

_lock = threading.Lock()
_stores: dict[str, ArtifactStore] = {}


def open_artifact_store(url: str) -> ArtifactStore:
    """Return the :class:`ArtifactStore` for ``url``, opened once per process.

    Workers call this for every step; reusing the store keeps the folders it has
    already created in memory.

    Args:
        url: A local path or fsspec URL.

    Raises:
        ArtifactStoreError: The URL cannot be opened.

    Example:
        >>> open_artifact_store("/tmp/trellis-artifacts") is open_artifact_store(
        ...     "/tmp/trellis-artifacts"
        ... )
        True
    """
    with _lock:
        store = _stores.get(url)
    if store is None:
        from trellis.artifacts._artifact_store import ArtifactStore

        opened = ArtifactStore(url)
        with _lock:
            store = _stores.setdefault(url, opened)
    return store


def open_filesystem(url: str) -> tuple[fsspec.AbstractFileSystem, str]:
    """Return the fsspec filesystem of ``url`` and the path of its root.

    Raises:
        ArtifactStoreError: The protocol is unknown or its driver is not installed.
    """
    from fsspec.core import url_to_fs

    try:
        fs, root = url_to_fs(url)
    except ImportError as exc:
        raise ArtifactStoreError(
            f"cannot open the artifact store {url!r}: the fsspec driver for it is not "
            f"installed ({exc}). Install it (for example `pip install s3fs` for s3://), "
            f"{CONFIGURE_HINT}."
        ) from exc
    except (ValueError, OSError) as exc:
        raise ArtifactStoreError(
            f"cannot open the artifact store {url!r}: {exc}. Check the URL (a folder path, "
            f"file://, memory://, s3://, gs://, az://, ...), {CONFIGURE_HINT}."
        ) from exc
    return fs, str(root)
