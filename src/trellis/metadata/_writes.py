"""Run-level writes of the metadata store: creating and finishing pipeline runs.

Each method is one transaction and returns what it wrote without reading it
back. Statements are built once at import time so that SQLAlchemy's compiled
cache serves them; multi-row inserts go out as one ``executemany``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import Insert, bindparam, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from trellis.exceptions import MetadataStoreError, NotFoundError
from trellis.metadata._checks import check_tags
from trellis.metadata._entities import PIPELINE_RUN
from trellis.metadata._records import ExecutionStatus, RunRecord
from trellis.metadata._schema import ARTIFACTS, PIPELINE_RUNS, PIPELINES
from trellis.metadata._step_finish import StepFinish
from trellis.metadata._tags import link_tags

__all__ = ["StoreWrites", "upserts"]

_INSERT_RUN = insert(PIPELINE_RUNS)
_RUN_FIELDS = [c.key for c in PIPELINE_RUNS.c if c.key != "pipeline_id"]
_FINISH_RUN = update(PIPELINE_RUNS).where(PIPELINE_RUNS.c.id == bindparam("run_id_"))


def upserts(dialect: str) -> tuple[Insert, Insert]:
    """Race-free get-or-create statements of pipelines and artifacts for ``dialect``.

    The pipeline upsert returns the id of the row that has the name. The
    artifact upsert creates the artifact at version 1 or takes its next
    version, and returns ``id`` and ``latest_version``.
    """
    module: Any = postgresql if dialect == "postgresql" else sqlite
    pipeline = module.insert(PIPELINES)
    # A no-op update rather than DO NOTHING, so that RETURNING yields the row.
    pipeline = pipeline.on_conflict_do_update(
        index_elements=[PIPELINES.c.name], set_={"name": pipeline.excluded.name}
    ).returning(PIPELINES.c.id)
    artifact = (
        module.insert(ARTIFACTS)
        .values(latest_version=1)
        .on_conflict_do_update(
            index_elements=[ARTIFACTS.c.name],
            set_={"latest_version": ARTIFACTS.c.latest_version + 1},
        )
        .returning(ARTIFACTS.c.id, ARTIFACTS.c.latest_version)
    )
    return pipeline, artifact


class StoreWrites(StepFinish):
    """Run-level writes, on top of the step-level ones."""

    _upsert_pipeline: Insert

    def create_run(
        self,
        *,
        pipeline_name: str,
        run_name: str,
        parameters: Mapping[str, Any],
        environment: Mapping[str, Any],
        config: Mapping[str, Any],
        plan: Mapping[str, Any],
        outputs: Mapping[str, Sequence[str]],
        started_at: datetime | None,
        tags: Sequence[str] = (),
    ) -> RunRecord:
        """Record a new run (status ``running``), creating its pipeline if needed.

        Args:
            tags: Tag names to link to the run (see :meth:`add_tags`).

        Raises:
            MetadataStoreError: ``run_name`` is taken, or the database failed.
            ValueError: A tag name is invalid.

        Example:
            >>> run = store.create_run(  # doctest: +SKIP
            ...     pipeline_name="training", run_name="training-2024-05-01-1",
            ...     parameters={"lr": 0.05}, environment={}, config={}, plan={},
            ...     outputs={}, started_at=datetime.now(UTC), tags=["nightly"])
        """
        names = check_tags(tags)
        now = self._clock.now()
        record = RunRecord(
            id=uuid4().hex,
            name=run_name,
            pipeline_id="",
            pipeline_name=pipeline_name,
            status=ExecutionStatus.RUNNING,
            created_at=now,
            started_at=started_at,
            ended_at=None,
            parameters=dict(parameters),
            environment=dict(environment),
            config=dict(config),
            plan=dict(plan),
            outputs={key: list(value) for key, value in outputs.items()},
            error=None,
        )
        row = {f: getattr(record, f) for f in _RUN_FIELDS} | {"status": record.status.value}
        try:
            with self._write(f"create the run {run_name!r} of pipeline {pipeline_name!r}") as conn:
                row["pipeline_id"] = conn.execute(
                    self._upsert_pipeline,
                    {"id": uuid4().hex, "name": pipeline_name, "created_at": now},
                ).scalar_one()
                conn.execute(_INSERT_RUN, row)
                link_tags(conn, PIPELINE_RUN, [(record.id, n) for n in names], now)
        except MetadataStoreError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise MetadataStoreError(
                    f"Cannot create the run {run_name!r} of pipeline {pipeline_name!r}: the "
                    f"run name is taken in the metadata store {self._engine.masked_url}. "
                    "Choose another run name, or leave it unset to get a generated one."
                ) from exc.__cause__
            raise
        return replace(record, pipeline_id=row["pipeline_id"])

    def finish_run(
        self, run_id: str, *, status: ExecutionStatus, ended_at: datetime, error: str | None = None
    ) -> None:
        """Set the final status of a run.

        Raises:
            NotFoundError: No run has this id.

        Example:
            >>> store.finish_run(run.id, status=ExecutionStatus.COMPLETED,  # doctest: +SKIP
            ...                  ended_at=datetime.now(UTC))
        """
        values = {
            "run_id_": run_id,
            "status": ExecutionStatus(status).value,
            "ended_at": ended_at,
            "error": error,
        }
        with self._write(f"finish the run {run_id}") as conn:
            if conn.execute(_FINISH_RUN, values).rowcount == 0:
                raise NotFoundError(
                    f"Cannot finish the pipeline run {run_id!r}: no run has this id. "
                    "List runs with `trellis runs list`."
                )
