"""Committing artifact versions: a finished step run's outputs, or a value saved on its own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import Connection, Insert, bindparam, insert, update

from trellis.exceptions import NotFoundError
from trellis.metadata._checks import (
    check_attempts,
    check_metadata,
    check_tags,
    check_visualizations,
)
from trellis.metadata._entities import ARTIFACT_VERSION, STEP_RUN
from trellis.metadata._records import (
    ArtifactVersionRecord,
    ArtifactVersionSpec,
    AttemptSpec,
    ExecutionStatus,
)
from trellis.metadata._run_metadata import upsert_metadata
from trellis.metadata._schema import (
    ARTIFACT_VERSIONS,
    ARTIFACTS,
    STEP_RUN_ATTEMPTS,
    STEP_RUN_OUTPUTS,
    STEP_RUNS,
)
from trellis.metadata._step_writes import StepWrites
from trellis.metadata._tags import link_tags

__all__ = ["StepFinish"]

#: An output checked before the transaction: the spec, its tag names and visualizations.
_Checked = tuple[ArtifactVersionSpec, tuple[str, ...], list[dict[str, str]]]


def _check_specs(specs: Sequence[ArtifactVersionSpec]) -> list[_Checked]:
    return [
        (spec, check_tags(spec.tags), check_visualizations(spec.visualizations, spec.output_name))
        for spec in specs
    ]


_FINISH_STEP = update(STEP_RUNS).where(STEP_RUNS.c.id == bindparam("step_run_id_"))
_INSERT_ATTEMPTS = insert(STEP_RUN_ATTEMPTS)
_INSERT_VERSIONS = insert(ARTIFACT_VERSIONS)
_INSERT_OUTPUTS = insert(STEP_RUN_OUTPUTS)
_BUMP_VERSION = (
    update(ARTIFACTS)
    .where(ARTIFACTS.c.id == bindparam("artifact_id_"))
    .values(latest_version=ARTIFACTS.c.latest_version + 1)
    .returning(ARTIFACTS.c.latest_version)
)


class StepFinish(StepWrites):
    """The write that ends a step run and commits what it produced."""

    _upsert_artifact: Insert

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
        attempts: int = 1,
        log_uri: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        failed_attempts: Sequence[AttemptSpec] = (),
    ) -> dict[str, ArtifactVersionRecord]:
        """Set a step run's final status and commit its outputs as new artifact versions.

        Everything is one transaction: the step run, its failed attempts, its
        metadata, the new versions with their tags and visualizations are all
        written, or (on any error) none of them. A step that succeeded at its
        first attempt with no metadata or tags costs no extra statements.

        Each output becomes the next version (1, 2, 3, ...) of its artifact name,
        numbered without gaps or duplicates even when several processes commit
        versions of the same name at once.

        Args:
            started_at: When given, replaces the start time recorded by
                :meth:`start_step_run` (the worker knows when the step really began).
            attempts: How many times the step ran, the last attempt included.
            log_uri: Where the step's captured logs are stored.
            metadata: Metadata logged on the step run (see :meth:`log_metadata`).
            failed_attempts: The attempts before the last one, which failed and
                were retried, numbered 1 to ``attempts - 1``.

        Returns:
            The new artifact versions, keyed by output name.

        Raises:
            NotFoundError: No step run has this id.
            ValueError: A tag, visualization, metadata value or attempt number is invalid.

        Example:
            >>> versions = store.finish_step_run(  # doctest: +SKIP
            ...     step_id, status=ExecutionStatus.COMPLETED, ended_at=datetime.now(UTC),
            ...     outputs=[ArtifactVersionSpec(output_name="model", artifact_name="model",
            ...              uri="/a/1", materializer="m:M", data_type="x:Y",
            ...              content_hash="ab12", size=10, metadata={}, tags=["prod"])],
            ...     attempts=2, failed_attempts=[AttemptSpec(1, t0, t1, "boom", None)],
            ...     metadata={"rows": 1000})
            >>> versions["model"].version  # doctest: +SKIP
            1
        """
        check_attempts(attempts, failed_attempts)
        step_metadata = check_metadata(metadata or {})
        checked = _check_specs(outputs)
        values = {
            "step_run_id_": step_run_id,
            "status": ExecutionStatus(status).value,
            "ended_at": ended_at,
            "error": error,
            "traceback": traceback,
            "attempts": attempts,
            "log_uri": log_uri,
        }
        if started_at is not None:
            values["started_at"] = started_at
        with self._write(f"finish the step run {step_run_id}") as conn:
            if conn.execute(_FINISH_STEP, values).rowcount == 0:
                raise NotFoundError(
                    f"Cannot finish the step run {step_run_id!r}: no step run has this id. "
                    "Start it with `start_step_run` first."
                )
            if failed_attempts:
                self._insert_attempts(conn, step_run_id, failed_attempts)
            now = self._clock.now()
            records = self._add_versions(conn, step_run_id, checked, now)
            upsert_metadata(conn, STEP_RUN, step_run_id, step_metadata, now)
        # Only now: the id of an artifact created by a rolled-back transaction must not be cached.
        self._artifact_ids.update({r.name: r.artifact_id for r in records.values()})
        return records

    def record_artifact_version(
        self, spec: ArtifactVersionSpec, *, at: datetime
    ) -> ArtifactVersionRecord:
        """Commit a value saved outside any step as the next version of its artifact.

        The version has no producing step run (``producer_step_run_id`` is
        ``None``); its tags and visualizations are written in the same transaction.

        Args:
            spec: The saved value; its ``output_name`` is not used.
            at: The creation time of the version.

        Raises:
            ValueError: A tag or visualization is invalid.

        Example:
            >>> version = store.record_artifact_version(  # doctest: +SKIP
            ...     ArtifactVersionSpec(output_name="output", artifact_name="serving_config",
            ...                         uri="/a/9", materializer="m:M", data_type="builtins:dict",
            ...                         content_hash="ab12", size=10, metadata={}, tags=["prod"]),
            ...     at=datetime.now(UTC))
            >>> version.version  # doctest: +SKIP
            4
        """
        checked = _check_specs([spec])
        with self._write(f"record a version of artifact {spec.artifact_name!r}") as conn:
            (record,) = self._add_versions(conn, None, checked, at).values()
        self._artifact_ids[record.name] = record.artifact_id
        return record

    def _add_versions(
        self, conn: Connection, step_run_id: str | None, checked: list[_Checked], now: datetime
    ) -> dict[str, ArtifactVersionRecord]:
        """Insert the next version of each output, its output link and its tags."""
        records: dict[str, ArtifactVersionRecord] = {}
        links: list[tuple[str, str]] = []
        for spec, tags, visualizations in checked:
            artifact_id, version = self._next_version(conn, spec.artifact_name, now)
            record = records[spec.output_name] = ArtifactVersionRecord(
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
                visualizations=visualizations,
            )
            links.extend((record.id, tag) for tag in tags)
        if records:
            self._insert_versions(conn, step_run_id, records)
        link_tags(conn, ARTIFACT_VERSION, links, now)
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

    @staticmethod
    def _insert_attempts(
        conn: Connection, step_run_id: str, failed_attempts: Sequence[AttemptSpec]
    ) -> None:
        conn.execute(
            _INSERT_ATTEMPTS,
            [
                {
                    "id": uuid4().hex,
                    "step_run_id": step_run_id,
                    "attempt": a.attempt,
                    "started_at": a.started_at,
                    "ended_at": a.ended_at,
                    "error": a.error,
                    "traceback": a.traceback,
                }
                for a in failed_attempts
            ],
        )

    @staticmethod
    def _insert_versions(
        conn: Connection, step_run_id: str | None, records: Mapping[str, ArtifactVersionRecord]
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
                    "visualizations": r.visualizations,
                }
                for r in records.values()
            ],
        )
        if step_run_id is None:
            return
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
