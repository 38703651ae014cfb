"""The artifact store: write values as content-addressed folders, read them back."""

from __future__ import annotations

import logging
import os
import shutil
import threading
from typing import Any

from trellis.artifacts._files import (
    FileEntry,
    artifact_hash,
    hash_files,
    list_local,
    list_remote,
)
from trellis.artifacts._import_paths import import_path, type_name
from trellis.artifacts._materializer import BaseMaterializer
from trellis.artifacts._materializer_calls import (
    call_materializer,
    data_type_for,
    materializer_class,
)
from trellis.artifacts._opening import CONFIGURE_HINT, open_filesystem
from trellis.artifacts._records import StoredArtifact
from trellis.artifacts._registry import MaterializerRegistry, materializer_registry
from trellis.exceptions import ArtifactStoreError, MaterializerError, TrellisError

__all__ = ["ArtifactStore"]

logger = logging.getLogger(__name__)


class ArtifactStore:
    """Files of artifacts on any fsspec filesystem: a local folder, ``s3://``, ``memory://``.

    Values are written by a materializer into a fresh folder first. On a local
    disk the folder is then renamed to ``objects/{hash[:2]}/{hash}``, so identical
    content is stored once and no half-written folder is ever visible there. On
    other filesystems, where a rename is not atomic, each save writes to its own
    folder under ``attempts/{scope}/``. Either way an artifact only exists once
    the driver commits its metadata row; a crash before that leaves orphan files.

    Instances are safe to use from several threads.

    Args:
        url: A local path, ``file://`` URL or any fsspec URL (``s3://bucket/prefix``).
        registry: The materializer registry; defaults to the global one.

    Raises:
        ArtifactStoreError: The URL cannot be opened.

    Example:
        >>> store = ArtifactStore("/tmp/trellis-artifacts")
        >>> stored = store.save([1, 2, 3], scope="run-1/load/data/0")
        >>> store.load(stored.uri, materializer=stored.materializer, data_type=stored.data_type)
        [1, 2, 3]
    """

    def __init__(self, url: str, *, registry: MaterializerRegistry | None = None) -> None:
        self._registry = registry or materializer_registry
        self._fs, root = open_filesystem(url)
        protocol = self._fs.protocol
        protocols = (protocol,) if isinstance(protocol, str) else tuple(protocol)
        self._protocols = frozenset(protocols)
        self.is_local: bool = "file" in protocols
        self._root: str = root.rstrip("/") or "/"
        self.url: str = self._root if self.is_local else self._fs.unstrip_protocol(self._root)
        self._lock = threading.Lock()
        self._made_dirs: set[str] = set()
        if self.is_local:
            try:
                os.makedirs(self._join(".tmp"), exist_ok=True)
            except OSError as exc:
                why = "it is a file, not a folder" if os.path.isfile(self._root) else str(exc)
                raise ArtifactStoreError(
                    f"cannot open the artifact store {url!r}: {why}. Point it to a folder "
                    f"that you can write, {CONFIGURE_HINT}."
                ) from exc

    def __repr__(self) -> str:
        return f"ArtifactStore({self.url!r})"

    def save(
        self,
        value: Any,
        *,
        scope: str,
        materializer: type[BaseMaterializer] | None = None,
    ) -> StoredArtifact:
        """Write ``value`` and return where it went and its content hash.

        Args:
            value: The value to store.
            scope: A relative key of this save, like ``"{run_id}/{step}/{output}/{attempt}"``;
                it names the folder on stores without atomic rename.
            materializer: The materializer class to use; by default the registry's
                choice for ``type(value)``.

        Returns:
            The stored artifact; it is not an artifact version until its metadata is committed.

        Raises:
            MaterializerError: No materializer can save the value, or it failed.
            ArtifactStoreError: The store cannot be written.

        Example:
            >>> store.save({"lr": 0.1}, scope="run-1/train/config/0").uri  # doctest: +SKIP
            '/home/me/.trellis/artifacts/objects/9c/9c1e...'
        """
        parts = scope.split("/")
        if not scope or scope.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise ValueError(
                f"scope {scope!r} must be a relative key like 'run_id/step/output/attempt' "
                "without empty, '.' or '..' parts."
            )
        cls = materializer or self._registry.for_type(type(value))
        if cls is None:
            raise MaterializerError(
                f"no materializer is registered for {type_name(type(value))} and the "
                "registry has no fallback. Register one with "
                "`trellis.register_materializer(MyMaterializer, MyType)`."
            )
        try:
            if self.is_local:
                return self._save_local(value, cls)
            return self._save_remote(value, cls, scope)
        except OSError as exc:
            raise ArtifactStoreError(
                f"cannot write to the artifact store {self.url!r} ({type(exc).__name__}: "
                f"{exc}). Check free space and permissions; nothing was stored."
            ) from exc

    def load(
        self,
        uri: str,
        *,
        materializer: str,
        data_type: str,
        expected_type: type | None = None,
    ) -> Any:
        """Read a stored value back.

        Args:
            uri: The artifact folder, as in :attr:`StoredArtifact.uri`.
            materializer: Import path of the materializer class that saved it.
            data_type: Import path of the saved value's type.
            expected_type: Used when ``data_type`` cannot be imported here (a class
                from another process's ``__main__``, say).

        Returns:
            The value.

        Raises:
            ArtifactStoreError: The artifact's files are gone.
            MaterializerError: The materializer or data type cannot be imported, or
                the materializer failed.

        Example:
            >>> a = store.save(42, scope="run-1/answer/output/0")
            >>> store.load(a.uri, materializer=a.materializer, data_type=a.data_type)
            42
        """
        cls = materializer_class(materializer, uri)
        target_type = data_type_for(data_type, expected_type, cls, uri)
        self._check_filesystem(uri)
        instance = cls(uri, self._fs)
        try:
            return instance.load(target_type)
        except TrellisError:
            raise
        except Exception as exc:
            if not self.exists(uri):
                raise ArtifactStoreError(
                    f"cannot load the artifact at {uri!r}: its files were deleted from the "
                    f"artifact store {self.url!r}. Re-run the step that made it with caching "
                    "disabled to create it again."
                ) from exc
            raise MaterializerError(
                f"{cls.__qualname__} failed to load the artifact at {uri!r} as {data_type} "
                f"({type(exc).__name__}: {exc}). Check that the installed libraries can read "
                "what was saved, or load it with the materializer that saved it."
            ) from exc

    def exists(self, uri: str) -> bool:
        """Return whether the artifact folder ``uri`` is present in the store.

        Example:
            >>> store.exists(stored.uri)  # doctest: +SKIP
            True
        """
        self._check_filesystem(uri)
        path = self._fs._strip_protocol(uri)
        if self.is_local:
            return os.path.isdir(path)
        return bool(self._fs.exists(path))

    def delete(self, uri: str) -> None:
        """Delete the artifact folder ``uri``; deleting a missing folder does nothing.

        On a local store identical content is stored once: delete a folder only
        when no artifact version refers to it any more.

        Raises:
            ArtifactStoreError: ``uri`` is not an artifact folder of this store.

        Example:
            >>> store.delete(stored.uri)  # doctest: +SKIP
        """
        self._check_filesystem(uri)
        path = self._fs._strip_protocol(uri).rstrip("/")
        inside = any(path.startswith(self._join(area) + "/") for area in ("objects", "attempts"))
        if not inside or "/../" in path + "/":
            raise ArtifactStoreError(
                f"refusing to delete {uri!r}: it is not an artifact folder of the store "
                f"{self.url!r}. Pass a uri returned by this store's save()."
            )
        try:
            if self.is_local:
                shutil.rmtree(path)
            else:
                self._fs.rm(path, recursive=True)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise ArtifactStoreError(
                f"cannot delete {uri!r} from the artifact store {self.url!r}: {exc}. "
                "Check the store's permissions and try again."
            ) from exc

    # -- writing -------------------------------------------------------------------

    def _save_local(self, value: Any, cls: type[BaseMaterializer]) -> StoredArtifact:
        names = import_path(cls), import_path(type(value))
        tmp = self._join(f".tmp/{os.urandom(16).hex()}")
        instance = cls(tmp, self._fs)
        value_hash = call_materializer(instance.content_hash, value, cls, "hash")
        if value_hash is not None:
            digest = artifact_hash(*names, "value", value_hash)
            final = self._object_path(digest)
            if os.path.isdir(final):  # saved before: skip writing it again
                metadata = call_materializer(instance.extract_metadata, value, cls, "describe")
                size = sum(e.size for e in list_local(final))
                return StoredArtifact(final, *names, digest, size, metadata)
        self._make_tmp(tmp)
        try:
            call_materializer(instance.save, value, cls, "save")
            metadata = call_materializer(instance.extract_metadata, value, cls, "describe")
            files = list_local(tmp)
            if value_hash is None:
                digest = artifact_hash(*names, "files", hash_files(files))
            final = self._object_path(digest)
            self._commit(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return StoredArtifact(final, *names, digest, _size(files), metadata)

    def _save_remote(self, value: Any, cls: type[BaseMaterializer], scope: str) -> StoredArtifact:
        names = import_path(cls), import_path(type(value))
        # A unique leaf: an engine may run the same attempt twice (a worker that was
        # presumed dead); the two writers must never mix their files.
        folder = self._join(f"attempts/{scope}/{os.urandom(8).hex()}")
        uri = self._fs.unstrip_protocol(folder)
        instance = cls(uri, self._fs)
        try:
            value_hash = call_materializer(instance.content_hash, value, cls, "hash")
            self._fs.makedirs(folder, exist_ok=True)
            call_materializer(instance.save, value, cls, "save")
            metadata = call_materializer(instance.extract_metadata, value, cls, "describe")
            files = list_remote(self._fs, folder)
            if value_hash is None:
                digest = artifact_hash(*names, "files", hash_files(files, self._fs))
            else:
                digest = artifact_hash(*names, "value", value_hash)
        except BaseException:
            try:
                self._fs.rm(folder, recursive=True)
            except Exception:
                logger.debug("could not remove the failed attempt %s", folder, exc_info=True)
            raise
        return StoredArtifact(uri, *names, digest, _size(files), metadata)

    def _make_tmp(self, tmp: str) -> None:
        try:
            os.mkdir(tmp)
        except FileNotFoundError:  # someone removed .tmp since the store was opened
            os.makedirs(tmp)

    def _commit(self, tmp: str, final: str) -> None:
        """Rename ``tmp`` to ``final``, or drop it if ``final`` already exists."""
        parent = os.path.dirname(final)
        with self._lock:
            known = parent in self._made_dirs
        if not known:
            os.makedirs(parent, exist_ok=True)
            with self._lock:
                self._made_dirs.add(parent)
        try:
            os.rename(tmp, final)
        except OSError:
            if not os.path.isdir(final):
                raise
            # Identical content was stored before (or just now, by another thread).
            shutil.rmtree(tmp, ignore_errors=True)

    def _object_path(self, digest: str) -> str:
        return self._join(f"objects/{digest[:2]}/{digest}")

    def _join(self, relative: str) -> str:
        return f"{self._root.rstrip('/')}/{relative}"

    def _check_filesystem(self, uri: str) -> None:
        protocol, sep, _ = uri.partition("://")
        if sep and "::" not in protocol and protocol not in self._protocols:
            raise ArtifactStoreError(
                f"the artifact {uri!r} is not on the filesystem of the artifact store "
                f"{self.url!r}. Open an ArtifactStore for {protocol}:// to read it, "
                f"{CONFIGURE_HINT}."
            )


def _size(files: list[FileEntry]) -> int:
    return sum(entry.size for entry in files)
