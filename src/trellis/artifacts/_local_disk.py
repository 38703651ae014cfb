"""Atomic writes on a local disk: write under ``{root}/.tmp``, then rename into place."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable

__all__ = ["LocalDisk"]


class LocalDisk:
    """Temporary names and atomic renames inside one local artifact store.

    Temporary files and folders live in ``{root}/.tmp``, on the same filesystem as
    their destination, so a rename moves them into place atomically. Instances are
    safe to use from several threads; they remember which parent folders exist.

    Example:
        >>> disk = LocalDisk("/tmp/trellis-artifacts")  # doctest: +SKIP
        >>> disk.write_file("/tmp/trellis-artifacts/logs/a.log", b"hello")  # doctest: +SKIP
    """

    def __init__(self, root: str) -> None:
        self._tmp = f"{root.rstrip('/')}/.tmp"
        self._lock = threading.Lock()
        self._made_dirs: set[str] = set()

    def make_tmp_root(self) -> None:
        """Create ``.tmp`` (and the store's root) if missing."""
        os.makedirs(self._tmp, exist_ok=True)

    def tmp_path(self) -> str:
        """Return a fresh, unused path inside ``.tmp`` (nothing is created)."""
        return f"{self._tmp}/{os.urandom(16).hex()}"

    def make_tmp_folder(self, tmp: str) -> None:
        """Create the folder ``tmp``, a path from :meth:`tmp_path`."""
        try:
            os.mkdir(tmp)
        except FileNotFoundError:  # someone removed .tmp since the store was opened
            os.makedirs(tmp)

    def commit_folder(self, tmp: str, final: str) -> bool:
        """Rename the folder ``tmp`` to ``final``, or drop it if ``final`` already exists.

        Returns:
            True when ``tmp`` became ``final``; False when identical content was
            there already (stored before, or just now by another thread).
        """
        try:
            self._move(os.rename, tmp, final)
        except OSError:
            if not os.path.isdir(final):
                raise
            shutil.rmtree(tmp, ignore_errors=True)
            return False
        return True

    def write_file(self, path: str, data: bytes) -> None:
        """Write ``data`` to ``path`` atomically, replacing an existing file."""
        tmp = self.tmp_path()
        try:
            if not os.path.isdir(self._tmp):  # removed since the store was opened
                self.make_tmp_root()
            with open(tmp, "xb") as f:
                f.write(data)
            self._move(os.replace, tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise

    def _move(self, rename: Callable[[str, str], None], source: str, target: str) -> None:
        """Rename ``source`` to ``target``, creating the parent folder of ``target``."""
        parent = os.path.dirname(target)
        with self._lock:
            known = parent in self._made_dirs
        if known:
            try:
                rename(source, target)
                return
            except FileNotFoundError:  # the parent was deleted since: make it again
                if os.path.isdir(parent):
                    raise
        os.makedirs(parent, exist_ok=True)
        with self._lock:
            self._made_dirs.add(parent)
        rename(source, target)
