"""Visualizations of artifacts: files a materializer renders, stored once per content hash."""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from trellis.artifacts._files import FileEntry, list_local, list_remote
from trellis.artifacts._import_paths import type_name
from trellis.artifacts._keys import is_relative_key
from trellis.artifacts._materializer import BaseMaterializer

if TYPE_CHECKING:
    import fsspec

    from trellis.artifacts._local_disk import LocalDisk

__all__ = ["MANIFEST", "VisualizationType", "VisualizationWriter", "Visualizations"]

logger = logging.getLogger(__name__)

#: Written last into a visualization folder: it lists the files and marks the folder complete.
MANIFEST = ".trellis-visualizations.json"
_FORMAT = "trellis-visualizations-v1"

#: ``((type, uri), ...)`` as in :attr:`StoredArtifact.visualizations`.
Visualizations = tuple[tuple[str, str], ...]


class VisualizationType(StrEnum):
    """The kinds of visualization files; plain strings such as ``"html"`` work as well.

    Example:
        >>> VisualizationType.PNG == "png"
        True
    """

    HTML = "html"
    MARKDOWN = "markdown"
    PNG = "png"
    CSV = "csv"
    JSON = "json"


class VisualizationWriter:
    """Renders visualizations into ``{root}/visualizations/{content_hash}/``.

    Identical content has identical visualizations, so a folder whose manifest
    exists is reused as it is. On a local disk the folder is rendered under
    ``.tmp`` and renamed into place; elsewhere files are written in place and
    the manifest last. Failures are logged, never raised: a visualization must
    not cost the artifact.

    Args:
        fs: The store's fsspec filesystem.
        root: The store's root path, without protocol.
        disk: The local-disk helper on a local store; ``None`` elsewhere.
    """

    def __init__(self, fs: fsspec.AbstractFileSystem, root: str, disk: LocalDisk | None) -> None:
        self._fs = fs
        self._root = root.rstrip("/")
        self._disk = disk

    def write(
        self, cls: type[BaseMaterializer], value: Any, content_hash: str, *, where: str
    ) -> Visualizations:
        """Render (or reuse) the visualizations of ``value`` and return ``((type, uri), ...)``.

        Args:
            cls: The materializer class that saved ``value``.
            value: The saved value.
            content_hash: The artifact's content hash, which names the folder.
            where: Names the save in a warning, like ``"run-1/train/model/0"``.
        """
        if cls.save_visualizations is BaseMaterializer.save_visualizations:
            return ()  # the default renders nothing: do not even look
        final = f"{self._root}/visualizations/{content_hash}"
        try:
            files = self._read_manifest(final)
            if files is None and self._disk is not None:
                files = self._render_local(cls, value, final, self._disk)
            elif files is None:
                files = self._render_remote(cls, value, final)
        except Exception as exc:  # a visualization must never fail the save
            logger.warning(
                "%s could not save visualizations of a value of type %s saved as %s "
                "(%s: %s); the artifact is saved without them. Fix its "
                "save_visualizations(), or turn them off with "
                "@step(enable_artifact_visualization=False).",
                cls.__qualname__,
                type_name(type(value)),
                where,
                type(exc).__name__,
                exc,
            )
            return ()
        return tuple((kind, self._uri(f"{final}/{name}")) for name, kind in sorted(files.items()))

    def _render_local(
        self, cls: type[BaseMaterializer], value: Any, final: str, disk: LocalDisk
    ) -> dict[str, str]:
        # The folder appears when the materializer opens its first file (BaseMaterializer
        # .open creates folders): most values render nothing, and a mkdir costs.
        tmp = disk.tmp_path()
        try:
            files = _render(
                cls(tmp, self._fs), value, lambda: list_local(tmp) if os.path.isdir(tmp) else []
            )
            if not files:
                return {}
            with open(f"{tmp}/{MANIFEST}", "wb") as f:
                f.write(_manifest(files))
            if disk.commit_folder(tmp, final):
                return files
            return self._read_manifest(final) or files  # another save got there first
        finally:
            if os.path.isdir(tmp):
                shutil.rmtree(tmp, ignore_errors=True)

    def _render_remote(self, cls: type[BaseMaterializer], value: Any, final: str) -> dict[str, str]:
        # No atomic rename here: files go in place, and the manifest, written last,
        # marks the folder complete. A concurrent save writes the same bytes.
        instance = cls(self._uri(final), self._fs)
        files = _render(instance, value, lambda: list_remote(self._fs, final))
        if files:
            self._fs.pipe_file(f"{final}/{MANIFEST}", _manifest(files))
        return files

    def _read_manifest(self, folder: str) -> dict[str, str] | None:
        path = f"{folder}/{MANIFEST}"
        try:
            if self._disk is not None:
                with open(path, "rb") as f:
                    raw = f.read()
            else:
                raw = self._fs.cat_file(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        manifest = json.loads(raw)
        if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
            raise ValueError(f"{path} is not a visualization manifest")
        return _checked(manifest["files"])

    def _uri(self, path: str) -> str:
        return path if self._disk is not None else str(self._fs.unstrip_protocol(path))


def _render(
    instance: BaseMaterializer, value: Any, listing: Callable[[], list[FileEntry]]
) -> dict[str, str]:
    """Call ``save_visualizations`` and check that it wrote what it returned."""
    files = _checked(instance.save_visualizations(value))
    if files:
        written = {entry.relative for entry in listing()}
        missing = sorted(set(files) - written)
        if missing:
            raise ValueError(f"it returned {missing[0]!r}, a file it did not write")
    return files


def _checked(files: object) -> dict[str, str]:
    """Validate ``{relative name: type}``; return it with types as plain strings."""
    if not isinstance(files, Mapping):
        raise TypeError(f"it returned {type(files).__name__}, not a dict of file names to types")
    checked: dict[str, str] = {}
    for name, kind in files.items():
        if not isinstance(name, str) or not is_relative_key(name) or name == MANIFEST:
            raise ValueError(f"{name!r} is not a relative file name of the visualization folder")
        try:
            checked[name] = VisualizationType(kind).value
        except ValueError:
            allowed = ", ".join(repr(t.value) for t in VisualizationType)
            raise ValueError(f"{name!r} has the type {kind!r}, not one of {allowed}") from None
    return checked


def _manifest(files: dict[str, str]) -> bytes:
    return json.dumps({"format": _FORMAT, "files": files}, sort_keys=True).encode("utf-8")
