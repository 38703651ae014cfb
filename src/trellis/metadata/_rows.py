"""The selects the read side runs, and how their rows become records."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Row, Select, Table, bindparam, func, select

from trellis.metadata._records import (
    ArtifactRecord,
    ArtifactVersionRecord,
    AttemptRecord,
    ExecutionStatus,
    PipelineRecord,
    RunRecord,
    StepIO,
    StepRunRecord,
)
from trellis.metadata._schema import (
    ARTIFACT_VERSIONS,
    ARTIFACTS,
    PIPELINE_RUNS,
    PIPELINES,
    STEP_RUN_ATTEMPTS,
    STEP_RUN_OUTPUTS,
    STEP_RUN_PARENTS,
    STEP_RUNS,
)

__all__ = [
    "artifact_record",
    "attempt_record",
    "chunks",
    "load_io",
    "load_outputs",
    "load_parents",
    "pipeline_record",
    "run_record",
    "select_artifacts",
    "select_attempts",
    "select_pipelines",
    "select_runs",
    "select_step_runs",
    "select_step_runs_with_parents",
    "select_versions",
    "step_run_record",
    "step_run_record_with_parents",
    "version_record",
]

# SQLite allows 32,766 bound parameters per statement; stay far below.
_CHUNK = 500


def select_pipelines() -> Select[Any]:
    return select(PIPELINES.c.id, PIPELINES.c.name, PIPELINES.c.created_at)


def pipeline_record(row: Row[Any]) -> PipelineRecord:
    return PipelineRecord(id=row.id, name=row.name, created_at=row.created_at)


def select_runs() -> Select[Any]:
    return select(PIPELINE_RUNS, PIPELINES.c.name.label("pipeline_name")).join(
        PIPELINES, PIPELINES.c.id == PIPELINE_RUNS.c.pipeline_id
    )


def run_record(row: Row[Any]) -> RunRecord:
    return RunRecord(
        id=row.id,
        name=row.name,
        pipeline_id=row.pipeline_id,
        pipeline_name=row.pipeline_name,
        status=ExecutionStatus(row.status),
        created_at=row.created_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
        parameters=row.parameters,
        environment=row.environment,
        config=row.config,
        plan=row.plan,
        outputs=row.outputs,
        error=row.error,
    )


def select_step_runs() -> Select[Any]:
    return select(STEP_RUNS)


def step_run_record(row: Row[Any], parent_ids: Sequence[str]) -> StepRunRecord:
    return StepRunRecord(
        id=row.id,
        run_id=row.run_id,
        name=row.name,
        step_name=row.step_name,
        status=ExecutionStatus(row.status),
        created_at=row.created_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
        parameters=row.parameters,
        code_hash=row.code_hash,
        source_code=row.source_code,
        cache_key=row.cache_key,
        cache_parts=row.cache_parts,
        original_step_run_id=row.original_step_run_id,
        error=row.error,
        traceback=row.traceback,
        parent_ids=tuple(parent_ids),
        cache_cleared_at=row.cache_cleared_at,
        attempts=row.attempts,
        log_uri=row.log_uri,
    )


def select_step_runs_with_parents() -> Select[Any]:
    """Step runs plus their parent ids in one column, so one statement reads whole records.

    The ids are folded into a comma-separated ``parent_ids_csv`` (ids are hex,
    so the comma is unambiguous): ``group_concat`` on SQLite, ``string_agg`` on
    PostgreSQL.
    """
    links = STEP_RUN_PARENTS.c
    parents = (
        select(func.aggregate_strings(links.parent_id, ","))
        .where(links.step_run_id == STEP_RUNS.c.id)
        .scalar_subquery()
    )
    return select(STEP_RUNS, parents.label("parent_ids_csv"))


def step_run_record_with_parents(row: Row[Any]) -> StepRunRecord:
    """The record of a row of :func:`select_step_runs_with_parents` (parents sorted)."""
    folded: str | None = row.parent_ids_csv
    return step_run_record(row, sorted(folded.split(",")) if folded else ())


def select_artifacts() -> Select[Any]:
    return select(ARTIFACTS)


def artifact_record(row: Row[Any]) -> ArtifactRecord:
    return ArtifactRecord(
        id=row.id, name=row.name, created_at=row.created_at, latest_version=row.latest_version
    )


def select_versions() -> Select[Any]:
    return select(ARTIFACT_VERSIONS, ARTIFACTS.c.name.label("artifact_name")).join(
        ARTIFACTS, ARTIFACTS.c.id == ARTIFACT_VERSIONS.c.artifact_id
    )


def version_record(row: Row[Any]) -> ArtifactVersionRecord:
    return ArtifactVersionRecord(
        id=row.id,
        artifact_id=row.artifact_id,
        name=row.artifact_name,
        version=row.version,
        uri=row.uri,
        materializer=row.materializer,
        data_type=row.data_type,
        content_hash=row.content_hash,
        size=row.size,
        metadata=row.metadata,
        producer_step_run_id=row.producer_step_run_id,
        created_at=row.created_at,
        visualizations=row.visualizations,
    )


def select_attempts() -> Select[Any]:
    """Failed attempts of the step runs in the expanding parameter ``ids``, in order."""
    attempts = STEP_RUN_ATTEMPTS.c
    return (
        select(STEP_RUN_ATTEMPTS)
        .where(attempts.step_run_id.in_(bindparam("ids", expanding=True)))
        .order_by(attempts.step_run_id, attempts.attempt)
    )


def attempt_record(row: Row[Any]) -> AttemptRecord:
    return AttemptRecord(
        step_run_id=row.step_run_id,
        attempt=row.attempt,
        started_at=row.started_at,
        ended_at=row.ended_at,
        error=row.error,
        traceback=row.traceback,
    )


def chunks(ids: Collection[str]) -> Iterable[list[str]]:
    """The distinct ``ids`` in lists of at most 500, for ``IN`` queries."""
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), _CHUNK):
        yield unique[start : start + _CHUNK]


def load_parents(conn: Connection, step_run_ids: Collection[str]) -> dict[str, list[str]]:
    """Parent ids of each step run (sorted), one query per 500 step runs."""
    table = STEP_RUN_PARENTS
    query = (
        select(table.c.step_run_id, table.c.parent_id)
        .where(table.c.step_run_id.in_(bindparam("ids", expanding=True)))
        .order_by(table.c.step_run_id, table.c.parent_id)
    )
    parents: dict[str, list[str]] = defaultdict(list)
    for chunk in chunks(step_run_ids):
        for row in conn.execute(query, {"ids": chunk}):
            parents[row.step_run_id].append(row.parent_id)
    return parents


def _io_query(table: Table) -> Select[Any]:
    return (
        select_versions()
        .add_columns(table.c.step_run_id, table.c.name.label("io_name"), table.c.position)
        .join(table, table.c.artifact_version_id == ARTIFACT_VERSIONS.c.id)
        .where(table.c.step_run_id.in_(bindparam("ids", expanding=True)))
        .order_by(table.c.step_run_id, table.c.name, table.c.position)
    )


def load_io(
    conn: Connection, table: Table, step_run_ids: Collection[str]
) -> dict[str, list[StepIO]]:
    """Input or output links (per ``table``) of each step run, ordered by name and position."""
    query = _io_query(table)
    links: dict[str, list[StepIO]] = defaultdict(list)
    for chunk in chunks(step_run_ids):
        for row in conn.execute(query, {"ids": chunk}):
            links[row.step_run_id].append(
                StepIO(
                    name=row.io_name, position=row.position, artifact_version=version_record(row)
                )
            )
    return links


def load_outputs(
    conn: Connection, step_run_ids: Collection[str]
) -> dict[str, dict[str, ArtifactVersionRecord]]:
    """Output name -> artifact version of each step run (first position of each name)."""
    outputs: dict[str, dict[str, ArtifactVersionRecord]] = {}
    for step_run_id, links in load_io(conn, STEP_RUN_OUTPUTS, step_run_ids).items():
        outputs[step_run_id] = {}
        for link in links:
            outputs[step_run_id].setdefault(link.name, link.artifact_version)
    return outputs
