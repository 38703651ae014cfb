"""Files and folders given as ``pathlib.Path``, copied into the artifact."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, ClassVar

from trellis.artifacts._materializer import BaseMaterializer
from trellis.exceptions import MaterializerError

__all__ = ["PathMaterializer"]

_INFO_FILE = "path.json"
_CONTENT = "content"


class PathMaterializer(BaseMaterializer):
    """Copy a file or a whole folder into the artifact; load it as a ``Path``.

    The copy lives at ``{uri}/content/{name}``, keeping the original file or folder
    name. On a local store, loading returns that path inside the store (treat it as
    read-only: other artifacts with identical content share it). On a remote store
    it downloads a copy into a new temporary folder, which the caller may delete.

    Example:
        >>> store.save(Path("reports/summary.html"), scope="run/report/html/0")  # doctest: +SKIP
    """

    # Registered lazily by the import path "pathlib:Path".
    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = ()

    def save(self, data: Any) -> None:
        """Copy the file or folder ``data`` into the artifact folder."""
        source = Path(data)
        if source.is_file():
            kind = "file"
        elif source.is_dir():
            kind = "folder"
        else:
            raise MaterializerError(
                f"cannot save the path {str(source)!r}: it is neither a file nor a folder. "
                "Return the path of an existing file or folder from the step."
            )
        name = source.resolve().name or "root"
        target = self.join(f"{_CONTENT}/{name}")
        if self._local:
            if kind == "file":
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copyfile(source, target)
            else:
                shutil.copytree(source, target)
        elif kind == "file":
            self.fs.put_file(str(source), target)
        else:
            for folder, _, files in os.walk(source):
                relative = Path(folder).relative_to(source).as_posix()
                prefix = target if relative == "." else f"{target}/{relative}"
                for file in files:
                    self.fs.put_file(os.path.join(folder, file), f"{prefix}/{file}")
        with self.open(_INFO_FILE, "w") as f:
            json.dump({"kind": kind, "name": name}, f)

    def load(self, data_type: type[Any]) -> Any:
        """Return the stored path (local store) or a temporary local copy (remote)."""
        with self.open(_INFO_FILE, "r") as f:
            info = json.load(f)
        source = self.join(f"{_CONTENT}/{info['name']}")
        if self._local:
            return data_type(source)
        local = Path(tempfile.mkdtemp(prefix="trellis-artifact-")) / info["name"]
        if info["kind"] == "file":
            self.fs.get_file(source, str(local))
        else:
            prefix = self.fs._strip_protocol(source).rstrip("/") + "/"
            for remote in self.fs.find(source):
                destination = local / remote[len(prefix) :]
                destination.parent.mkdir(parents=True, exist_ok=True)
                self.fs.get_file(remote, str(destination))
            local.mkdir(exist_ok=True)
        return data_type(local)

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        """Record whether it is a file or a folder, and its name."""
        path = Path(data)
        return {"kind": "file" if path.is_file() else "folder", "name": path.resolve().name}
