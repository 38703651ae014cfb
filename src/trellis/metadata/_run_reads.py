"""Reading pipelines, runs and step runs."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Row, Select, func, or_, select

from trellis.exceptions import NotFoundError
from trellis.metadata._base import StoreBase
from trellis.metadata._entities import PIPELINE_RUN
from trellis.metadata._records import (
    AttemptRecord,
    ExecutionStatus,
    Page,
    PipelineRecord,
    RunRecord,
    StepIO,
    StepRunRecord,
)
from trellis.metadata._rows import (
    attempt_record,
    chunks,
    load_io,
    load_parents,
    pipeline_record,
    run_record,
    select_attempts,
    select_pipelines,
    select_runs,
    select_step_runs,
    step_run_record,
)
from trellis.metadata._schema import (
    PIPELINE_RUNS,
    PIPELINES,
    STEP_RUN_INPUTS,
    STEP_RUN_OUTPUTS,
    STEP_RUNS,
)
from trellis.metadata._tags import tagged

#: Ids are 32 hex digits; 6 or more of their first digits select a run.
_ID_PREFIX = re.compile(r"[0-9a-f]{6,31}")

__all__ = ["RunReads", "page"]

T = TypeVar("T")


def page(
    conn: Connection,
    query: Select[Any],
    *,
    offset: int,
    limit: int,
    record: Callable[[Row[Any]], T],
) -> Page[T]:
    """Run ``query`` (already ordered) for one page, and count all its rows."""
    if offset < 0 or limit < 0:
        raise ValueError(f"offset and limit must be >= 0, got offset={offset}, limit={limit}")
    total = conn.execute(select(func.count()).select_from(query.order_by(None).subquery()))
    items = [record(row) for row in conn.execute(query.offset(offset).limit(limit))]
    return Page(items=items, total=int(total.scalar_one()), offset=offset, limit=limit)


class RunReads(StoreBase):
    """Queries over pipelines, runs and step runs."""

    def get_pipeline(self, name: str) -> PipelineRecord:
        """Return the pipeline called ``name``.

        Raises:
            NotFoundError: No pipeline has run under this name.

        Example:
            >>> store.get_pipeline("training").created_at  # doctest: +SKIP
        """
        with self._read(f"read the pipeline {name!r}") as conn:
            row = conn.execute(select_pipelines().where(PIPELINES.c.name == name)).first()
        if row is None:
            raise NotFoundError(
                f"No pipeline named {name!r}. List pipelines with `trellis pipelines list`."
            )
        return pipeline_record(row)

    def list_pipelines(self, *, offset: int = 0, limit: int = 50) -> Page[PipelineRecord]:
        """Return one page of pipelines, newest first.

        Example:
            >>> [p.name for p in store.list_pipelines(limit=10).items]  # doctest: +SKIP
        """
        query = select_pipelines().order_by(PIPELINES.c.created_at.desc(), PIPELINES.c.id.desc())
        with self._read("list pipelines") as conn:
            return page(conn, query, offset=offset, limit=limit, record=pipeline_record)

    def get_run(self, name_or_id: str) -> RunRecord:
        """Return the run with this id or this (unique) name.

        Raises:
            NotFoundError: No run has this name or id.

        Example:
            >>> store.get_run("training-2024-05-01-1").status  # doctest: +SKIP
            <ExecutionStatus.COMPLETED: 'completed'>
        """
        runs = PIPELINE_RUNS.c
        query = select_runs().where(or_(runs.id == name_or_id, runs.name == name_or_id))
        with self._read(f"read the run {name_or_id!r}") as conn:
            rows = conn.execute(query.limit(2)).all()
            if not rows and _ID_PREFIX.fullmatch(name_or_id):
                # a unique id prefix, as printed by `trellis runs list` in narrow terminals
                by_prefix = select_runs().where(runs.id.startswith(name_or_id, autoescape=True))
                rows = conn.execute(by_prefix.limit(2)).all()
                if len(rows) > 1:
                    raise NotFoundError(
                        f"Several pipeline runs have ids starting with {name_or_id!r}; "
                        "give more characters of the id, or the run's name."
                    )
        if not rows:
            raise NotFoundError(
                f"No pipeline run named or with id {name_or_id!r}. "
                "List runs with `trellis runs list`."
            )
        # An id match wins over a run that happens to be named like an id.
        return run_record(next((r for r in rows if r.id == name_or_id), rows[0]))

    def list_runs(
        self,
        *,
        pipeline_name: str | None = None,
        status: ExecutionStatus | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        offset: int = 0,
        limit: int = 50,
        tag: str | None = None,
    ) -> Page[RunRecord]:
        """Return one page of runs, newest first, filtered by every argument given.

        Args:
            created_after: Only runs created strictly after this time.
            created_before: Only runs created strictly before this time.
            tag: Only runs tagged with this tag name.

        Example:
            >>> page = store.list_runs(pipeline_name="training",  # doctest: +SKIP
            ...                        status=ExecutionStatus.FAILED, tag="nightly", limit=20)
            >>> page.total, [run.name for run in page.items]  # doctest: +SKIP
        """
        runs = PIPELINE_RUNS.c
        query = select_runs().order_by(runs.created_at.desc(), runs.id.desc())
        if pipeline_name is not None:
            query = query.where(PIPELINES.c.name == pipeline_name)
        if status is not None:
            query = query.where(runs.status == ExecutionStatus(status).value)
        if created_after is not None:
            query = query.where(runs.created_at > created_after)
        if created_before is not None:
            query = query.where(runs.created_at < created_before)
        if tag is not None:
            query = query.where(runs.id.in_(tagged(PIPELINE_RUN, tag)))
        with self._read("list pipeline runs") as conn:
            return page(conn, query, offset=offset, limit=limit, record=run_record)

    def list_step_runs(self, run_id: str) -> list[StepRunRecord]:
        """Return the step runs of a run in creation order (empty for an unknown run).

        Example:
            >>> [(s.name, s.status) for s in store.list_step_runs(run.id)]  # doctest: +SKIP
        """
        query = (
            select_step_runs()
            .where(STEP_RUNS.c.run_id == run_id)
            .order_by(STEP_RUNS.c.created_at, STEP_RUNS.c.id)
        )
        with self._read(f"list the step runs of run {run_id}") as conn:
            rows = conn.execute(query).all()
            parents = load_parents(conn, [row.id for row in rows])
        return [step_run_record(row, parents.get(row.id, ())) for row in rows]

    def get_step_run(self, step_run_id: str) -> StepRunRecord:
        """Return one step run.

        Raises:
            NotFoundError: No step run has this id.

        Example:
            >>> store.get_step_run(step_id).cache_key  # doctest: +SKIP
        """
        with self._read(f"read the step run {step_run_id}") as conn:
            row = conn.execute(select_step_runs().where(STEP_RUNS.c.id == step_run_id)).first()
            parents = load_parents(conn, [step_run_id]) if row is not None else {}
        if row is None:
            raise NotFoundError(
                f"No step run with id {step_run_id!r}. "
                "See the steps of a run with `trellis runs show <run>`."
            )
        return step_run_record(row, parents.get(step_run_id, ()))

    def get_step_io(
        self, step_run_ids: Sequence[str]
    ) -> dict[str, tuple[list[StepIO], list[StepIO]]]:
        """Return ``(inputs, outputs)`` of each step run, with two queries in all.

        Links are ordered by name, then position. Every id asked for is a key,
        with empty lists when it has no links (or does not exist).

        Example:
            >>> io = store.get_step_io([s.id for s in store.list_step_runs(run.id)])
            ... # doctest: +SKIP
            >>> inputs, outputs = io[step_id]  # doctest: +SKIP
        """
        with self._read(f"read the inputs and outputs of {len(step_run_ids)} step runs") as conn:
            inputs = load_io(conn, STEP_RUN_INPUTS, step_run_ids)
            outputs = load_io(conn, STEP_RUN_OUTPUTS, step_run_ids)
        return {i: (inputs.get(i, []), outputs.get(i, [])) for i in step_run_ids}

    def get_attempts(self, step_run_ids: Sequence[str]) -> dict[str, list[AttemptRecord]]:
        """Return the failed, retried attempts of each step run, by attempt number.

        The last attempt is not among them: it is the step run itself. Every id
        asked for is a key, with an empty list when the step ran once (or does
        not exist). One query per 500 ids.

        Example:
            >>> [(a.attempt, a.error) for a in store.get_attempts([step_id])[step_id]]
            ... # doctest: +SKIP
            [(1, 'ConnectionError: timed out'), (2, 'ConnectionError: timed out')]
        """
        found: dict[str, list[AttemptRecord]] = defaultdict(list)
        query = select_attempts()
        with self._read(f"read the attempts of {len(step_run_ids)} step runs") as conn:
            for chunk in chunks(step_run_ids):
                for row in conn.execute(query, {"ids": chunk}):
                    found[row.step_run_id].append(attempt_record(row))
        return {i: found.get(i, []) for i in step_run_ids}
