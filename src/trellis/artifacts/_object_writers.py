"""Writing artifact folders: content-addressed on local disks, attempt-scoped elsewhere."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from trellis.artifacts._files import (
    FileEntry,
    artifact_hash,
    hash_files,
    list_local,
    list_remote,
)
from trellis.artifacts._import_paths import import_path
from trellis.artifacts._materializer import BaseMaterializer
from trellis.artifacts._materializer_calls import call_materializer

if TYPE_CHECKING:
    import fsspec

    from trellis.artifacts._local_disk import LocalDisk

__all__ = ["Describe", "Saved", "save_local", "save_remote"]

logger = logging.getLogger(__name__)

#: Extracts an artifact's metadata with the materializer instance that saved it.
Describe = Callable[[BaseMaterializer], dict[str, Any]]
#: What the writers return: uri, content hash, size in bytes, extracted metadata.
Saved = tuple[str, str, int, dict[str, Any]]


def save_local(
    fs: fsspec.AbstractFileSystem,
    root: str,
    disk: LocalDisk,
    value: Any,
    cls: type[BaseMaterializer],
    describe: Describe,
) -> Saved:
    """Write ``value`` under ``.tmp``, hash it and rename it to ``objects/{hash[:2]}/{hash}``.

    A materializer's value hash that names an existing folder skips writing.
    """
    names = import_path(cls), import_path(type(value))
    tmp = disk.tmp_path()
    instance = cls(tmp, fs)
    if _is_large(value):
        return _save_large_local(root, disk, value, cls, instance, tmp, names, describe)
    value_hash = call_materializer(instance.content_hash, value, cls, "hash")
    if value_hash is not None:
        digest = artifact_hash(*names, "value", value_hash)
        final = object_path(root, digest)
        if os.path.isdir(final):  # saved before: skip writing it again
            return final, digest, _size(list_local(final)), describe(instance)
    disk.make_tmp_folder(tmp)
    try:
        call_materializer(instance.save, value, cls, "save")
        metadata = describe(instance)  # while the files are still at instance.uri
        files = list_local(tmp)
        if value_hash is None:
            digest = artifact_hash(*names, "files", hash_files(files))
        final = object_path(root, digest)
        disk.commit_folder(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final, digest, _size(files), metadata


#: Above this many bytes, a value's hash is computed while its files are written.
LARGE_VALUE_BYTES = 16 * 2**20


def _is_large(value: Any) -> bool:
    nbytes = getattr(value, "nbytes", None)  # NumPy arrays and friends
    return isinstance(nbytes, int) and nbytes >= LARGE_VALUE_BYTES


def _save_large_local(
    root: str,
    disk: LocalDisk,
    value: Any,
    cls: type[BaseMaterializer],
    instance: BaseMaterializer,
    tmp: str,
    names: tuple[str, str],
    describe: Describe,
) -> Saved:
    """Hash in a second thread while the materializer writes: both release the GIL.

    For a large array the hash would otherwise add ~40% to the save; the price
    is writing it even when identical content is already stored.
    """
    from concurrent.futures import ThreadPoolExecutor

    disk.make_tmp_folder(tmp)
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="trellis-hash") as pool:
            hashing = pool.submit(call_materializer, instance.content_hash, value, cls, "hash")
            call_materializer(instance.save, value, cls, "save")
            value_hash = hashing.result()
        metadata = describe(instance)
        files = list_local(tmp)
        if value_hash is None:
            digest = artifact_hash(*names, "files", hash_files(files))
        else:
            digest = artifact_hash(*names, "value", value_hash)
        final = object_path(root, digest)
        disk.commit_folder(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final, digest, _size(files), metadata


def save_remote(
    fs: fsspec.AbstractFileSystem,
    root: str,
    value: Any,
    cls: type[BaseMaterializer],
    scope: str,
    describe: Describe,
) -> Saved:
    """Write ``value`` into a fresh folder under ``attempts/{scope}/`` and hash it there."""
    names = import_path(cls), import_path(type(value))
    # A unique leaf: an engine may run the same attempt twice (a worker that was
    # presumed dead); the two writers must never mix their files.
    folder = f"{root.rstrip('/')}/attempts/{scope}/{os.urandom(8).hex()}"
    uri: str = fs.unstrip_protocol(folder)
    instance = cls(uri, fs)
    try:
        value_hash = call_materializer(instance.content_hash, value, cls, "hash")
        fs.makedirs(folder, exist_ok=True)
        call_materializer(instance.save, value, cls, "save")
        metadata = describe(instance)
        files = list_remote(fs, folder)
        if value_hash is None:
            digest = artifact_hash(*names, "files", hash_files(files, fs))
        else:
            digest = artifact_hash(*names, "value", value_hash)
    except BaseException:
        try:
            fs.rm(folder, recursive=True)
        except Exception:
            logger.debug("could not remove the failed attempt %s", folder, exc_info=True)
        raise
    return uri, digest, _size(files), metadata


def object_path(root: str, digest: str) -> str:
    """Return the content-addressed folder of ``digest`` in a local store."""
    return f"{root.rstrip('/')}/objects/{digest[:2]}/{digest}"


def _size(files: list[FileEntry]) -> int:
    return sum(entry.size for entry in files)
