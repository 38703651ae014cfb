"""Raw files of an artifact store, such as step logs: written under a key, read by uri."""

from __future__ import annotations

from typing import TYPE_CHECKING

from trellis.artifacts._keys import RESERVED_FOLDERS, is_relative_key
from trellis.exceptions import ArtifactStoreError

if TYPE_CHECKING:
    import fsspec

    from trellis.artifacts._local_disk import LocalDisk

__all__ = ["read_raw", "write_raw"]


def write_raw(
    fs: fsspec.AbstractFileSystem, root: str, disk: LocalDisk | None, key: str, data: bytes
) -> str:
    """Write ``data`` to ``{root}/{key}`` (atomically on a local disk); return its uri.

    Raises:
        ValueError: ``key`` is not a relative key, or names a folder of the store's own.
        ArtifactStoreError: The file cannot be written.
    """
    if not is_relative_key(key) or key.split("/", 1)[0] in RESERVED_FOLDERS:
        raise ValueError(
            f"key {key!r} must be a relative path like 'logs/run_id/step-1.log' without "
            "empty, '.' or '..' parts, outside the store's own folders "
            f"({', '.join(sorted(RESERVED_FOLDERS))})."
        )
    path = f"{root.rstrip('/')}/{key}"
    try:
        if disk is not None:
            disk.write_file(path, data)
            return path
        fs.pipe_file(path, bytes(data))
    except OSError as exc:
        raise ArtifactStoreError(
            f"cannot write {key!r} to the artifact store {_url(fs, root, disk)!r} "
            f"({type(exc).__name__}: {exc}). Check free space and permissions."
        ) from exc
    return str(fs.unstrip_protocol(path))


def read_raw(fs: fsspec.AbstractFileSystem, root: str, disk: LocalDisk | None, uri: str) -> bytes:
    """Return the bytes of the file ``uri``.

    Raises:
        ArtifactStoreError: There is no such file, or it cannot be read.
    """
    path = fs._strip_protocol(uri)
    try:
        if disk is not None:
            with open(path, "rb") as f:
                return f.read()
        return bytes(fs.cat_file(path))
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
        raise ArtifactStoreError(
            f"cannot read {uri!r}: there is no such file in the artifact store "
            f"{_url(fs, root, disk)!r}. It may have been deleted; re-run the step that wrote it."
        ) from exc
    except OSError as exc:
        raise ArtifactStoreError(
            f"cannot read {uri!r} from the artifact store {_url(fs, root, disk)!r} "
            f"({type(exc).__name__}: {exc}). Check the store's permissions."
        ) from exc


def _url(fs: fsspec.AbstractFileSystem, root: str, disk: LocalDisk | None) -> str:
    return root if disk is not None else str(fs.unstrip_protocol(root))
