"""The artifact store: write values as content-addressed folders, read them back."""

from __future__ import annotations

import os
import shutil
from typing import Any

from trellis.artifacts._import_paths import import_path, type_name
from trellis.artifacts._keys import is_relative_key
from trellis.artifacts._local_disk import LocalDisk
from trellis.artifacts._materializer import BaseMaterializer
from trellis.artifacts._materializer_calls import data_type_for, materializer_class
from trellis.artifacts._metadata import CONTENT_HASH, STORAGE_SIZE
from trellis.artifacts._metadata import extract_metadata as _extract
from trellis.artifacts._object_writers import save_local, save_remote
from trellis.artifacts._opening import CONFIGURE_HINT, open_filesystem
from trellis.artifacts._raw_files import read_raw, write_raw
from trellis.artifacts._records import StoredArtifact
from trellis.artifacts._registry import MaterializerRegistry, materializer_registry
from trellis.artifacts._visualizations import Visualizations, VisualizationWriter
from trellis.exceptions import ArtifactStoreError, MaterializerError, TrellisError

__all__ = ["ArtifactStore"]


class ArtifactStore:
    """Files of artifacts on any fsspec filesystem: a local folder, ``s3://``, ``memory://``.

    Values are written by a materializer into a fresh folder first. On a local
    disk the folder is then renamed to ``objects/{hash[:2]}/{hash}``, so identical
    content is stored once and no half-written folder is ever visible there. On
    other filesystems, where a rename is not atomic, each save writes to its own
    folder under ``attempts/{scope}/``. Either way an artifact only exists once
    the driver commits its metadata row; a crash before that leaves orphan files.
    Visualizations go to ``visualizations/{content_hash}/`` and raw files such as
    step logs to keys of their own (:meth:`write_file`).

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
        self._disk = LocalDisk(self._root) if self.is_local else None
        self._visualizations = VisualizationWriter(self._fs, self._root, self._disk)
        if self._disk is not None:
            try:
                self._disk.make_tmp_root()
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
        extract_metadata: bool = True,
        visualize: bool = True,
    ) -> StoredArtifact:
        """Write ``value`` and return where it went, its content hash and metadata.

        Args:
            value: The value to store.
            scope: A relative key of this save, like ``"{run_id}/{step}/{output}/{attempt}"``;
                it names the folder on stores without atomic rename.
            materializer: The materializer class to use; by default the registry's
                choice for ``type(value)``.
            extract_metadata: Ask the materializer for metadata (shape, rows, ...).
                ``storage_size`` and ``content_hash`` are recorded either way; a
                failing ``extract_metadata`` is logged as a warning.
            visualize: Let the materializer render visualizations into
                ``visualizations/{content_hash}/``; a failure is logged as a warning.

        Returns:
            The stored artifact; it is not an artifact version until its metadata is committed.

        Raises:
            ValueError: ``scope`` is not a relative key.
            MaterializerError: No materializer can save the value, or it failed.
            ArtifactStoreError: The store cannot be written.

        Example:
            >>> stored = store.save({"lr": 0.1}, scope="run-1/train/config/0")  # doctest: +SKIP
            >>> stored.metadata  # doctest: +SKIP
            {'length': 1, 'storage_size': 10, 'content_hash': '9c1e...'}
        """
        if not is_relative_key(scope):
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

        def describe(instance: BaseMaterializer) -> dict[str, Any]:
            return _extract(instance, value, where=scope) if extract_metadata else {}

        try:
            if self._disk is not None:
                saved = save_local(self._fs, self._root, self._disk, value, cls, describe)
            else:
                saved = save_remote(self._fs, self._root, value, cls, scope, describe)
        except OSError as exc:
            raise ArtifactStoreError(
                f"cannot write to the artifact store {self.url!r} ({type(exc).__name__}: "
                f"{exc}). Check free space and permissions; nothing was stored."
            ) from exc
        uri, digest, size, metadata = saved
        metadata.update({STORAGE_SIZE: size, CONTENT_HASH: digest})
        visualizations: Visualizations = ()
        if visualize:
            visualizations = self._visualizations.write(cls, value, digest, where=scope)
        names = import_path(cls), import_path(type(value))
        return StoredArtifact(uri, *names, digest, size, metadata, visualizations)

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

    # -- raw files -----------------------------------------------------------------

    def write_file(self, key: str, data: bytes) -> str:
        """Write the bytes ``data`` to ``{store}/{key}``, replacing an existing file.

        On a local disk the file is written under a temporary name and renamed into
        place, so readers never see half of it. Folders are created as needed.

        Args:
            key: A relative ``/``-separated path such as ``"logs/run-1/train-1.log"``;
                the store's own folders (``objects``, ``attempts``, ``visualizations``,
                ``.tmp``) are refused.
            data: The file's content.

        Returns:
            The file's full uri, for :meth:`read_file`.

        Raises:
            ValueError: ``key`` is absolute, has ``..``, ``.`` or empty parts, or
                names one of the store's own folders.
            ArtifactStoreError: The store cannot be written.

        Example:
            >>> uri = store.write_file("logs/run-1/train-1.log", b"epoch 1\\n")
            >>> store.read_file(uri)
            b'epoch 1\\n'
        """
        return write_raw(self._fs, self._root, self._disk, key, data)

    def read_file(self, uri: str) -> bytes:
        """Return the bytes of the file ``uri``, as returned by :meth:`write_file`.

        Raises:
            ArtifactStoreError: The file does not exist, or cannot be read.

        Example:
            >>> store.read_file(store.write_file("notes/a.txt", b"hi"))
            b'hi'
        """
        self._check_filesystem(uri)
        return read_raw(self._fs, self._root, self._disk, uri)

    def read_visualization(self, uri: str) -> bytes:
        """Return the bytes of a visualization file, a uri of :attr:`StoredArtifact.visualizations`.

        Raises:
            ArtifactStoreError: The file does not exist, or cannot be read.

        Example:
            >>> kind, uri = stored.visualizations[0]  # doctest: +SKIP
            >>> store.read_visualization(uri)[:15]  # doctest: +SKIP
            b'<table border="'
        """
        return self.read_file(uri)

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
