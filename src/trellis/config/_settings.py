"""Resolve where the metadata store, the artifact store and the orchestrator live.

Resolution (first match wins, per setting):

1. environment variables: ``TRELLIS_STORE`` (database URL), ``TRELLIS_ARTIFACTS``
   (artifact store URL), ``TRELLIS_ORCHESTRATOR``, ``TRELLIS_MAX_PARALLELISM``;
2. ``config.toml`` in the home folder;
3. defaults inside the home folder (``trellis.db``, ``artifacts/``, ``local``).

The home folder is ``TRELLIS_HOME`` when set, else the nearest ``.trellis/``
folder walking up from the working directory (made by ``trellis init``), else a
per-user folder (``$XDG_DATA_HOME/trellis`` or ``~/.local/share/trellis``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from trellis.exceptions import ConfigurationError

PROJECT_DIR_NAME = ".trellis"
CONFIG_FILE_NAME = "config.toml"
_KNOWN_KEYS = frozenset({"store", "artifacts", "orchestrator", "max_parallelism"})

_CONFIG_TEMPLATE = """\
# trellis configuration for this project. Every key is optional; environment
# variables (TRELLIS_STORE, TRELLIS_ARTIFACTS, TRELLIS_ORCHESTRATOR,
# TRELLIS_MAX_PARALLELISM) override what is written here.

# Metadata database (SQLAlchemy URL). Default: SQLite file in this folder.
# store = "postgresql+psycopg://user@host:5432/trellis"

# Artifact store (local folder or any fsspec URL). Default: ./artifacts here.
# artifacts = "s3://bucket/trellis"

# Where steps run: "local" (threads in this process).
# orchestrator = "local"
# max_parallelism = 4
"""


_GITIGNORE = (
    "# the database and artifacts are not source; the config is\n*\n!config.toml\n!.gitignore\n"
)


@dataclass(frozen=True, slots=True)
class Settings:
    """Where things live for one process.

    Attributes:
        home: Folder holding the default database, artifacts and ``config.toml``.
        store_url: SQLAlchemy URL of the metadata store.
        artifacts_url: Local path or fsspec URL of the artifact store.
        orchestrator: Launcher name (``local``).
        max_parallelism: Steps run at once; ``None`` means the CPU count,
            ``1`` runs steps inline in the calling thread.
        source: Human-readable origin of ``home`` (for ``trellis`` status output).
    """

    home: Path
    store_url: str
    artifacts_url: str
    orchestrator: str = "local"
    max_parallelism: int | None = None
    source: str = "default"


def default_user_home(env: Mapping[str, str]) -> Path:
    """The per-user home used when nothing else is configured."""
    data_home = env.get("XDG_DATA_HOME") or str(Path("~/.local/share").expanduser())
    return Path(data_home) / "trellis"


def find_project_home(start: Path) -> Path | None:
    """The nearest ``.trellis/`` folder at or above ``start``, if any."""
    for folder in (start, *start.parents):
        candidate = folder / PROJECT_DIR_NAME
        if candidate.is_dir():
            return candidate
    return None


def _read_config(home: Path) -> dict[str, object]:
    path = home / CONFIG_FILE_NAME
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(
            f"Cannot read the trellis configuration {path}: {exc}. "
            "Fix the file or delete it to use the defaults."
        ) from exc
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        raise ConfigurationError(
            f"Unknown key(s) {', '.join(map(repr, unknown))} in {path}; "
            f"known keys are {', '.join(sorted(_KNOWN_KEYS))}."
        )
    return data


def _parallelism(value: object, where: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(str(value))
    except ValueError:
        number = 0
    if number < 1:
        raise ConfigurationError(
            f"max_parallelism from {where} must be a positive integer, got {value!r}."
        )
    return number


def _local_url(value: str, home: Path) -> str:
    """Resolve a relative local path against ``home``; leave URLs alone."""
    if "://" in value or value.startswith("sqlite:"):
        return value
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else home / path)


def _store_url(value: str, home: Path) -> str:
    if value.startswith("sqlite:///") and not value.startswith("sqlite:////"):
        relative = value.removeprefix("sqlite:///")
        if relative and not relative.startswith(":memory:"):
            return f"sqlite:///{_local_url(relative, home)}"
    return value


def resolve_settings(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
    """Resolve :class:`Settings` from the environment, config files and defaults.

    Example:
        >>> s = resolve_settings({"TRELLIS_HOME": "/tmp/th"}, Path("/"))
        >>> s.store_url
        'sqlite:////tmp/th/trellis.db'
    """
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    if env.get("TRELLIS_HOME"):
        home, source = Path(env["TRELLIS_HOME"]).expanduser().absolute(), "TRELLIS_HOME"
    elif (project := find_project_home(cwd)) is not None:
        home, source = project.absolute(), str(project)
    else:
        home, source = default_user_home(env), "per-user default"
    file_values = _read_config(home)

    def pick(key: str, env_name: str) -> object:
        return env.get(env_name) or file_values.get(key)

    def origin(key: str, env_name: str) -> str:
        return env_name if env.get(env_name) else f"`{key}` in {home / CONFIG_FILE_NAME}"

    store = pick("store", "TRELLIS_STORE")
    artifacts = pick("artifacts", "TRELLIS_ARTIFACTS")
    orchestrator = pick("orchestrator", "TRELLIS_ORCHESTRATOR") or "local"
    return Settings(
        home=home,
        store_url=_store_url(str(store), home) if store else f"sqlite:///{home / 'trellis.db'}",
        artifacts_url=_local_url(str(artifacts), home) if artifacts else str(home / "artifacts"),
        orchestrator=str(orchestrator),
        max_parallelism=_parallelism(
            pick("max_parallelism", "TRELLIS_MAX_PARALLELISM"),
            origin("max_parallelism", "TRELLIS_MAX_PARALLELISM"),
        ),
        source=source,
    )


def init_project(folder: Path) -> tuple[Path, bool]:
    """Create ``folder/.trellis/`` with a commented ``config.toml``.

    Returns:
        The project home and whether it was newly created.
    """
    home = folder / PROJECT_DIR_NAME
    created = not home.exists()
    try:
        home.mkdir(parents=True, exist_ok=True)
        config = home / CONFIG_FILE_NAME
        if not config.exists():
            config.write_text(_CONFIG_TEMPLATE)
        ignore = home / ".gitignore"
        if not ignore.exists():
            ignore.write_text(_GITIGNORE)
    except OSError as exc:
        raise ConfigurationError(f"Cannot create {home}: {exc}.") from exc
    return home, created
