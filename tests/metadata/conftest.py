"""Fixtures for the metadata store (``store_url`` comes from ``tests/conftest.py``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from trellis.metadata import (
    ArtifactVersionRecord,
    ArtifactVersionSpec,
    ExecutionStatus,
    MetadataStore,
    RunRecord,
)


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
        self,
        run_id: str,
        name: str = "train",
        *specs: ArtifactVersionSpec,
        ended_at: datetime | None = None,
        **kw: Any,
    ) -> tuple[str, dict[str, ArtifactVersionRecord]]:
        step_id = self.start(run_id, name, **kw)
        versions = self.store.finish_step_run(
            step_id, status=ExecutionStatus.COMPLETED, ended_at=ended_at or now(), outputs=specs
        )
        return step_id, versions

    def fail(self, run_id: str, name: str = "train", **kw: Any) -> str:
        step_id = self.start(run_id, name, **kw)
        self.store.finish_step_run(
            step_id, status=ExecutionStatus.FAILED, ended_at=now(), outputs=[], error="boom"
        )
        return step_id

    def reuse(self, run_id: str, original_id: str, name: str = "train", **kw: Any) -> str:
        """Record a cache hit on ``original_id`` (outputs not linked)."""
        return self.store.record_cached_step_run(
            run_id=run_id,
            name=name,
            step_name=name.split("_")[0],
            parameters={},
            code_hash=None,
            source_code=None,
            cache_key=kw.get("cache_key", "key-1"),
            cache_parts={},
            parent_ids=kw.get("parent_ids", ()),
            inputs=[],
            original_step_run_id=original_id,
            outputs={},
            at=now(),
        )

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


@pytest.fixture
def count_rows(store: MetadataStore) -> Callable[[str], int]:
    """Count the rows of a table, behind the store's back."""

    def count(table: str) -> int:
        with store._engine.engine.connect() as conn:
            query = sa.select(sa.func.count()).select_from(sa.table(table))
            return int(conn.execute(query).scalar_one())

    return count


@pytest.fixture
def sql_log(store: MetadataStore) -> Callable[[], AbstractContextManager[list[str]]]:
    """``with sql_log() as sent:`` collects the SQL of every query the store sends meanwhile.

    SQLite's explicit ``BEGIN`` is left out: it opens the transaction, it is no query.
    """

    @contextmanager
    def collect() -> Iterator[list[str]]:
        sent: list[str] = []

        def record(*args: Any) -> None:
            if not args[2].startswith("BEGIN"):
                sent.append(" ".join(args[2].split()))

        engine = store._engine.engine
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            yield sent
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)

    return collect
