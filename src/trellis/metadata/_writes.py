"""The write half of the metadata store: what the driver records while it runs.

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

from sqlalchemy import Connection, Insert, bindparam, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from trellis.exceptions import MetadataStoreError, NotFoundError
from trellis.metadata._records import (
    ArtifactVersionRecord,
    ArtifactVersionSpec,
    ExecutionStatus,
    RunRecord,
)
from trellis.metadata._schema import (
    ARTIFACT_VERSIONS,
    ARTIFACTS,
    PIPELINE_RUNS,
    PIPELINES,
    STEP_RUN_OUTPUTS,
    STEP_RUNS,
)
from trellis.metadata._step_writes import StepWrites

__all__ = ["StoreWrites", "upserts"]

_INSERT_RUN = insert(PIPELINE_RUNS)
_RUN_FIELDS = [c.key for c in PIPELINE_RUNS.c if c.key != "pipeline_id"]
_FINISH_RUN = update(PIPELINE_RUNS).where(PIPELINE_RUNS.c.id == bindparam("run_id_"))
_FINISH_STEP = update(STEP_RUNS).where(STEP_RUNS.c.id == bindparam("step_run_id_"))
_INSERT_VERSIONS = insert(ARTIFACT_VERSIONS)
_INSERT_OUTPUTS = insert(STEP_RUN_OUTPUTS)
_BUMP_VERSION = (
    update(ARTIFACTS)
    .where(ARTIFACTS.c.id == bindparam("artifact_id_"))
    .values(latest_version=ARTIFACTS.c.latest_version + 1)
    .returning(ARTIFACTS.c.latest_version)
)


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


class StoreWrites(StepWrites):
    """Run-level writes and committing step outputs as artifact versions."""

    _upsert_pipeline: Insert
    _upsert_artifact: Insert

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
    ) -> RunRecord:
        """Record a new run (status ``running``), creating its pipeline if needed.

        Raises:
            MetadataStoreError: ``run_name`` is taken, or the database failed.

        Example:
            >>> run = store.create_run(  # doctest: +SKIP
            ...     pipeline_name="training", run_name="training-2024-05-01-1",
            ...     parameters={"lr": 0.05}, environment={}, config={}, plan={},
            ...     outputs={}, started_at=datetime.now(UTC))
        """
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

    def finish_step_run(
        self,
        step_run_id: str,
        *,
        status: ExecutionStatus,
        ended_at: datetime,
        outputs: Sequence[ArtifactVersionSpec],
        error: str | None = None,
        traceback: str | None = None,
        started_at: datetime | None = None,
    ) -> dict[str, ArtifactVersionRecord]:
        """Set a step run's final status and commit its outputs as new artifact versions.

        ``started_at``, when given, replaces the start time recorded by
        :meth:`start_step_run` (the worker knows when the step really began).

        Each output becomes the next version (1, 2, 3, ...) of its artifact name,
        numbered without gaps or duplicates even when several processes commit
        versions of the same name at once.

        Returns:
            The new artifact versions, keyed by output name.

        Raises:
            NotFoundError: No step run has this id.

        Example:
            >>> versions = store.finish_step_run(  # doctest: +SKIP
            ...     step_id, status=ExecutionStatus.COMPLETED, ended_at=datetime.now(UTC),
            ...     outputs=[ArtifactVersionSpec(output_name="model", artifact_name="model",
            ...              uri="/a/1", materializer="m:M", data_type="x:Y",
            ...              content_hash="ab12", size=10, metadata={})])
            >>> versions["model"].version  # doctest: +SKIP
            1
        """
        values = {
            "step_run_id_": step_run_id,
            "status": ExecutionStatus(status).value,
            "ended_at": ended_at,
            "error": error,
            "traceback": traceback,
        }
        if started_at is not None:
            values["started_at"] = started_at
        records: dict[str, ArtifactVersionRecord] = {}
        seen: dict[str, str] = {}
        with self._write(f"finish the step run {step_run_id}") as conn:
            if conn.execute(_FINISH_STEP, values).rowcount == 0:
                raise NotFoundError(
                    f"Cannot finish the step run {step_run_id!r}: no step run has this id. "
                    "Start it with `start_step_run` first."
                )
            if outputs:
                now = self._clock.now()
                for spec in outputs:
                    artifact_id, version = self._next_version(conn, spec.artifact_name, now)
                    seen[spec.artifact_name] = artifact_id
                    records[spec.output_name] = ArtifactVersionRecord(
                        id=uuid4().hex,
                        artifact_id=artifact_id,
                        name=spec.artifact_name,
                        version=version,
                        uri=spec.uri,
                        materializer=spec.materializer,
                        data_type=spec.data_type,
                        content_hash=spec.content_hash,
                        size=spec.size,
                        metadata=dict(spec.metadata),
                        producer_step_run_id=step_run_id,
                        created_at=now,
                    )
                self._insert_versions(conn, step_run_id, records)
        self._artifact_ids.update(seen)  # only now: a rolled-back id must not be cached
        return records

    def _next_version(self, conn: Connection, name: str, now: datetime) -> tuple[str, int]:
        artifact_id = self._artifact_ids.get(name)
        if artifact_id is not None:
            version = conn.execute(_BUMP_VERSION, {"artifact_id_": artifact_id}).scalar()
            if version is not None:
                return artifact_id, int(version)
            self._artifact_ids.pop(name, None)  # deleted since we cached it
        row = conn.execute(
            self._upsert_artifact, {"id": uuid4().hex, "name": name, "created_at": now}
        ).one()
        return str(row.id), int(row.latest_version)

    def _insert_versions(
        self, conn: Connection, step_run_id: str, records: Mapping[str, ArtifactVersionRecord]
    ) -> None:
        conn.execute(
            _INSERT_VERSIONS,
            [
                {
                    "id": r.id,
                    "artifact_id": r.artifact_id,
                    "version": r.version,
                    "uri": r.uri,
                    "materializer": r.materializer,
                    "data_type": r.data_type,
                    "content_hash": r.content_hash,
                    "size": r.size,
                    "metadata": r.metadata,
                    "producer_step_run_id": step_run_id,
                    "created_at": r.created_at,
                }
                for r in records.values()
            ],
        )
        conn.execute(
            _INSERT_OUTPUTS,
            [
                {
                    "step_run_id": step_run_id,
                    "name": name,
                    "position": 0,
                    "artifact_version_id": r.id,
                }
                for name, r in records.items()
            ],
        )
