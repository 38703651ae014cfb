"""Fresh processes with fresh stores: every measurement starts from nothing.

Each call of :meth:`Harness.wall` or :meth:`Harness.child` starts a new Python
process (``sys.executable``) with its own empty ``TRELLIS_HOME`` in a temporary
folder, and with no other ``TRELLIS_*`` variable from the caller's environment,
so that neither a user's store nor a warm process skews a figure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
#: No single process of the suite should come near this; a hang fails the case.
TIMEOUT_SECONDS = 900

Measurements = dict[str, float]


class CaseError(Exception):
    """A case crashed (a child failed or printed no result)."""


class CaseSkipped(Exception):
    """A case cannot run here (e.g. no PostgreSQL server); the message says why."""


def _clean_environment() -> dict[str, str]:
    """The caller's environment without trellis settings (the parent's server URL stays)."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("TRELLIS_") or name == "TRELLIS_TEST_POSTGRES_URL"
    }


class Harness:
    """Runs commands and case functions in fresh processes with empty stores."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch

    @contextmanager
    def _fresh(self, extra_env: Mapping[str, str]) -> Iterator[tuple[dict[str, str], Path]]:
        folder = Path(tempfile.mkdtemp(dir=self.scratch, prefix="run-"))
        home = folder / "trellis-home"
        home.mkdir()
        env = _clean_environment()
        env["TRELLIS_HOME"] = str(home)
        env.update(extra_env)
        # Flush what earlier processes wrote (chain-1000 writes ~120 MB of SQLite
        # WAL); otherwise their writeback stalls this process's writes.
        os.sync()
        try:
            yield env, folder
        finally:
            _drop_large_files(folder)

    def wall(
        self, argv: Sequence[str], extra_env: Mapping[str, str] | None = None
    ) -> tuple[float, str]:
        """Wall time of one process from start to exit, and what it printed."""
        with self._fresh(extra_env or {}) as (env, folder):
            started = time.perf_counter()
            try:
                result = subprocess.run(
                    argv,
                    cwd=folder,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=TIMEOUT_SECONDS,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise CaseError(f"`{' '.join(argv)}` ran longer than {TIMEOUT_SECONDS} s") from exc
            seconds = time.perf_counter() - started
        if result.returncode != 0:
            raise CaseError(
                f"`{' '.join(argv)}` exited with {result.returncode}:\n{_tail(result.stderr)}"
            )
        return seconds, result.stdout

    def child(
        self,
        function: str,
        arguments: Mapping[str, int],
        extra_env: Mapping[str, str] | None = None,
    ) -> Measurements:
        """Run ``benchmarks.cases.<function>(**arguments)`` in a new process; its measurements."""
        paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
        env = {"PYTHONPATH": os.pathsep.join(path for path in paths if path)}
        env.update(extra_env or {})
        argv = [sys.executable, "-m", "benchmarks._child", function, json.dumps(dict(arguments))]
        _, stdout = self.wall(argv, env)
        return last_json_line(stdout, function)


def _drop_large_files(folder: Path, limit: int = 2**24) -> None:
    """Free the disk space of big files now; the rest goes with the scratch folder.

    A store of chain-1000 holds ~2,300 files and folders. Deleting them after each
    process made every later repetition slower than the one before (kernel time
    0.3 s -> 2 s): ext4 skips recently deleted inodes when it allocates new ones
    (``recently_deleted`` in ``find_inode_bit``), for minutes. So small files stay
    until the suite ends.
    """
    for path in folder.rglob("*"):
        if path.is_file() and path.stat().st_size >= limit:
            path.unlink()


def last_json_line(stdout: str, what: str) -> Measurements:
    """The JSON object on the last non-empty line of a child's output."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    try:
        value = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError) as exc:
        raise CaseError(f"{what} printed no JSON result line:\n{_tail(stdout)}") from exc
    if not isinstance(value, dict):
        raise CaseError(f"{what} printed {value!r}, not a JSON object")
    return {str(k): float(v) for k, v in value.items()}


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new database on the server of ``TRELLIS_TEST_POSTGRES_URL``, dropped afterwards.

    Raises:
        CaseSkipped: the driver is missing or the server is unreachable.
    """
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    server = make_url(os.environ.get("TRELLIS_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    if server.drivername in ("postgresql", "postgres"):
        server = server.set(drivername="postgresql+psycopg")
    where = server.render_as_string(hide_password=True)
    try:
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    except ImportError as exc:
        raise CaseSkipped(f"no PostgreSQL driver ({exc}); pip install -e '.[postgres]'") from exc
    name = f"trellis_bench_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        first_line = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise CaseSkipped(
            f"PostgreSQL at {where} is unreachable ({first_line}); start a server there or "
            "set TRELLIS_TEST_POSTGRES_URL"
        ) from exc
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
