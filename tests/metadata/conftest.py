"""Fixtures for the metadata store: one empty database per test, SQLite or PostgreSQL.

PostgreSQL tests use the server of ``TRELLIS_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``). The session creates its
own database there and drops it at the end; each test gets a fresh schema in
it. Without a reachable server the PostgreSQL tests skip, unless ``CI`` is set.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from trellis.metadata import (
    ArtifactVersionRecord,
    ArtifactVersionSpec,
    ExecutionStatus,
    MetadataStore,
    RunRecord,
)

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


@pytest.fixture
def open_store(store_url: str) -> Iterator[Callable[[], MetadataStore]]:
    """Open more stores on the same database; all are closed after the test."""
    stores: list[MetadataStore] = []

    def factory() -> MetadataStore:
        stores.append(MetadataStore(store_url))
        return stores[-1]

    yield factory
    for store in stores:
        store.close()


@pytest.fixture
def store(open_store: Callable[[], MetadataStore]) -> MetadataStore:
    return open_store()


def now() -> datetime:
    return datetime.now(UTC)


class Driver:
    """Writes what the engine's driver would, with defaults, for short tests."""

    def __init__(self, store: MetadataStore) -> None:
        self.store = store

    def run(self, name: str | None = None, pipeline: str = "training") -> RunRecord:
        return self.store.create_run(
            pipeline_name=pipeline,
            run_name=name or f"{pipeline}-{uuid.uuid4().hex[:8]}",
            parameters={"lr": 0.1},
            environment={"python": "3.11"},
            config={"enable_cache": True},
            plan={"nodes": ["load", "train"]},
            outputs={"model": ["train", "model"]},
            started_at=now(),
        )

    def start(
        self,
        run_id: str,
        name: str = "train",
        *,
        cache_key: str | None = "key-1",
        parent_ids: Sequence[str] = (),
        inputs: Sequence[tuple[str, int, str]] = (),
    ) -> str:
        return self.store.start_step_run(
            run_id=run_id,
            name=name,
            step_name=name.split("_")[0],
            parameters={"lr": 0.1},
            code_hash="c0de",
            source_code="def train(): ...",
            cache_key=cache_key,
            cache_parts={"code": "c0de"},
            parent_ids=parent_ids,
            inputs=inputs,
            started_at=now(),
        )

    def complete(
        self, run_id: str, name: str = "train", *specs: ArtifactVersionSpec, **kw: Any
    ) -> tuple[str, dict[str, ArtifactVersionRecord]]:
        step_id = self.start(run_id, name, **kw)
        versions = self.store.finish_step_run(
            step_id, status=ExecutionStatus.COMPLETED, ended_at=now(), outputs=specs
        )
        return step_id, versions

    @staticmethod
    def spec(
        output: str = "output", artifact: str = "model", **changes: Any
    ) -> ArtifactVersionSpec:
        values: dict[str, Any] = {
            "output_name": output,
            "artifact_name": artifact,
            "uri": f"/artifacts/{artifact}/{uuid.uuid4().hex}",
            "materializer": "trellis.artifacts.materializers:JsonMaterializer",
            "data_type": "builtins:dict",
            "content_hash": uuid.uuid4().hex,
            "size": 12,
            "metadata": {"keys": 2},
        }
        return ArtifactVersionSpec(**(values | changes))


@pytest.fixture
def driver(store: MetadataStore) -> Driver:
    return Driver(store)


@pytest.fixture
def driver_type() -> type[Driver]:
    """The Driver class, for tests that drive several stores."""
    return Driver
