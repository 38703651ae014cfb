"""What a run records about where it ran: Python, packages, git commit."""

from __future__ import annotations

import platform
import sys
from functools import cache
from pathlib import Path
from typing import Any


@cache
def _packages() -> dict[str, str]:
    from importlib import metadata

    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found[name] = dist.version
    return dict(sorted(found.items(), key=lambda item: item[0].lower()))


def _git_dir(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / ".git"
        if candidate.is_dir():
            return candidate
        if candidate.is_file():  # a worktree or submodule: "gitdir: <path>"
            text = candidate.read_text().strip()
            if text.startswith("gitdir:"):
                return (folder / text.removeprefix("gitdir:").strip()).resolve()
    return None


def git_commit(start: Path) -> dict[str, str] | None:
    """The commit checked out at or above ``start``, read from ``.git`` without git."""
    try:
        git = _git_dir(start)
        if git is None:
            return None
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref:"):
            return {"commit": head}
        ref = head.removeprefix("ref:").strip()
        common = git
        if (git / "commondir").is_file():
            common = (git / (git / "commondir").read_text().strip()).resolve()
        for base in (git, common):
            ref_file = base / ref
            if ref_file.is_file():
                return {"commit": ref_file.read_text().strip(), "branch": ref.rsplit("/", 1)[-1]}
        packed = common / "packed-refs"
        if packed.is_file():
            for line in packed.read_text().splitlines():
                if line.endswith(" " + ref):
                    return {"commit": line.split(" ", 1)[0], "branch": ref.rsplit("/", 1)[-1]}
        return {"branch": ref.rsplit("/", 1)[-1]}  # a branch with no commits yet
    except OSError:
        return None


def environment(cwd: Path) -> dict[str, Any]:
    """The environment of this process, recorded with every run."""
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "executable": sys.executable,
        "packages": _packages(),
    }
    git = git_commit(cwd)
    if git is not None:
        info["git"] = git
    return info
