"""Every test gets its own TRELLIS_HOME, so nothing touches the user's stores.

PostgreSQL tests use the server of ``TRELLIS_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``). The session creates its
own database there and drops it at the end; each test gets a fresh schema in
it. Without a reachable server the PostgreSQL tests skip, unless ``CI`` is set.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings
from sqlalchemy.engine import make_url

from trellis.client import close_metadata_stores

# CI runs the same examples every time (a red build must be reproducible); local
# runs keep exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

_TRELLIS_VARIABLES = (
    "TRELLIS_HOME",
    "TRELLIS_STORE",
    "TRELLIS_ARTIFACTS",
    "TRELLIS_ORCHESTRATOR",
    "TRELLIS_MAX_PARALLELISM",
)


@pytest.fixture(autouse=True)
def trellis_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty trellis home for this test (SQLite + local artifact folder)."""
    for name in _TRELLIS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "trellis-home"
    monkeypatch.setenv("TRELLIS_HOME", str(home))
    yield home
    close_metadata_stores()


DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[sa.URL]:
    """A database of its own for this test session, dropped at the end."""
    server = make_url(os.environ.get("TRELLIS_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    if server.drivername in ("postgresql", "postgres"):
        server = server.set(drivername="postgresql+psycopg")
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    name = f"trellis_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        message = (
            f"PostgreSQL at {server.render_as_string(hide_password=True)} is unreachable "
            f"({str(exc.orig).strip().splitlines()[0]}). Start a server there or set "
            "TRELLIS_TEST_POSTGRES_URL=postgresql+psycopg://user:password@host:port/db "
            "to run the PostgreSQL tests."
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield server.set(database=name)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def postgres_url(postgres_database: sa.URL) -> Iterator[str]:
    """URL of an empty schema of the session database, first on the search path.

    The URL carries a password that the server (trust auth) ignores, so tests
    can check that messages mask it.
    """
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(
        postgres_database, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool
    )
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = postgres_database.set(password="s3cret-pw").update_query_dict(
        {"options": f"-csearch_path={schema}"}
    )
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty database on each backend (nothing created yet)."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    folder = tmp_path / "store"
    folder.mkdir()
    return f"sqlite:///{folder / 'trellis.db'}"
