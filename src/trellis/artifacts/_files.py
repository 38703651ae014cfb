"""List, measure and hash the files of an artifact folder, locally or through fsspec."""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import fsspec

__all__ = ["FileEntry", "artifact_hash", "hash_files", "list_local", "list_remote"]

_CHUNK = 1 << 20
_FORMAT = "trellis-artifact-v1"


class FileEntry(NamedTuple):
    """One file of an artifact folder."""

    relative: str  # "/"-separated, relative to the folder
    path: str  # what the filesystem opens
    size: int


def list_local(folder: str) -> list[FileEntry]:
    """Return the files under a local ``folder``, sorted by relative path."""
    entries: list[FileEntry] = []
    pending = [(folder, "")]
    while pending:
        current, prefix = pending.pop()
        with os.scandir(current) as scan:
            for entry in scan:
                relative = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, relative + "/"))
                else:
                    entries.append(FileEntry(relative, entry.path, entry.stat().st_size))
    entries.sort()
    return entries


def list_remote(fs: fsspec.AbstractFileSystem, folder: str) -> list[FileEntry]:
    """Return the files under ``folder`` (a path without protocol) of ``fs``, sorted."""
    prefix = folder.rstrip("/") + "/"
    found = fs.find(folder, detail=True)
    entries = [
        FileEntry(name[len(prefix) :], name, int(info.get("size") or 0))
        for name, info in found.items()
        if info.get("type", "file") == "file"
    ]
    entries.sort()
    return entries


def hash_files(entries: list[FileEntry], fs: fsspec.AbstractFileSystem | None = None) -> str:
    """Return the sha256 of the relative paths, sizes and bytes of ``entries``.

    Files are streamed in 1 MiB chunks; ``fs=None`` reads them with the builtin
    ``open`` (local paths).
    """
    digest = hashlib.sha256()
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    for entry in entries:
        digest.update(f"{entry.relative}\0{entry.size}\0".encode())
        if fs is None:
            with open(entry.path, "rb") as f:
                while count := f.readinto(buffer):
                    digest.update(view[:count])
        else:
            with fs.open(entry.path, "rb") as f:
                while chunk := f.read(_CHUNK):
                    digest.update(chunk)
    return digest.hexdigest()


def artifact_hash(materializer: str, data_type: str, kind: str, inner: str) -> str:
    """Combine a value or file hash with what is needed to load it back.

    The materializer and the data type are part of the hash so that two artifacts
    share a content-addressed folder only when they load to the same value.
    """
    key = f"{_FORMAT}\0{materializer}\0{data_type}\0{kind}\0{inner}"
    return hashlib.sha256(key.encode()).hexdigest()
