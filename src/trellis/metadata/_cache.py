"""The step cache in the metadata store: finding hits, explaining misses, clearing.

A completed step run with a cache key serves cache hits until
:meth:`StepCache.clear_cache` stamps its ``cache_cleared_at``; its artifacts
stay. Cleared step runs still appear wherever step runs are listed, and in
:meth:`StepCache.find_step_runs_by_cache_key`, which explains misses.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, or_, select, update

from trellis.metadata._base import StoreBase
from trellis.metadata._records import (
    ArtifactVersionRecord,
    CacheCandidate,
    ExecutionStatus,
    StepRunRecord,
)
from trellis.metadata._rows import (
    load_outputs,
    select_step_runs_with_parents,
    step_run_record_with_parents,
    version_record,
)
from trellis.metadata._schema import (
    ARTIFACT_VERSIONS,
    ARTIFACTS,
    PIPELINE_RUNS,
    PIPELINES,
    STEP_RUN_OUTPUTS,
    STEP_RUNS,
)

__all__ = ["StepCache"]

_STEPS = STEP_RUNS.c
_NEWEST_FIRST = (_STEPS.created_at.desc(), _STEPS.id.desc())
_BY_KEY = select_step_runs_with_parents().where(_STEPS.cache_key == bindparam("cache_key"))
_HITS = _BY_KEY.where(
    _STEPS.status == ExecutionStatus.COMPLETED.value, _STEPS.cache_cleared_at.is_(None)
)
#: What a step run can be compared with to explain a miss: it ran, or reused a run.
_COMPARABLE = (ExecutionStatus.COMPLETED, ExecutionStatus.CACHED, ExecutionStatus.FAILED)
_PREVIOUS = (
    select_step_runs_with_parents()
    .join(PIPELINE_RUNS, PIPELINE_RUNS.c.id == _STEPS.run_id)
    .join(PIPELINES, PIPELINES.c.id == PIPELINE_RUNS.c.pipeline_id)
    .where(
        PIPELINES.c.name == bindparam("pipeline_name"),
        _STEPS.name == bindparam("name"),
        _STEPS.created_at < bindparam("before"),
        _STEPS.status.in_([status.value for status in _COMPARABLE]),
    )
    .order_by(*_NEWEST_FIRST)
    .limit(1)
)
_CANDIDATE_STEPS = (
    select(_STEPS.id, _STEPS.created_at, _STEPS.ended_at)
    .where(
        _STEPS.cache_key == bindparam("cache_key"),
        _STEPS.status == ExecutionStatus.COMPLETED.value,
        _STEPS.cache_cleared_at.is_(None),
    )
    .order_by(*_NEWEST_FIRST)
    .limit(5)
    .subquery("candidates")
)
#: Candidates and their output versions in one statement (the hot path of a cached run).
_CANDIDATES = (
    select(
        _CANDIDATE_STEPS.c.id.label("candidate_id"),
        _CANDIDATE_STEPS.c.created_at.label("candidate_created_at"),
        _CANDIDATE_STEPS.c.ended_at.label("candidate_ended_at"),
        STEP_RUN_OUTPUTS.c.name.label("output_name"),
        ARTIFACT_VERSIONS,
        ARTIFACTS.c.name.label("artifact_name"),
    )
    .select_from(
        _CANDIDATE_STEPS.outerjoin(
            STEP_RUN_OUTPUTS, STEP_RUN_OUTPUTS.c.step_run_id == _CANDIDATE_STEPS.c.id
        )
        .outerjoin(
            ARTIFACT_VERSIONS, ARTIFACT_VERSIONS.c.id == STEP_RUN_OUTPUTS.c.artifact_version_id
        )
        .outerjoin(ARTIFACTS, ARTIFACTS.c.id == ARTIFACT_VERSIONS.c.artifact_id)
    )
    .order_by(_CANDIDATE_STEPS.c.created_at.desc(), _CANDIDATE_STEPS.c.id.desc())
)
_CLEARABLE = update(STEP_RUNS).where(
    _STEPS.status == ExecutionStatus.COMPLETED.value,
    _STEPS.cache_key.is_not(None),
    _STEPS.cache_cleared_at.is_(None),
)


def _check_limit(limit: int) -> None:
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got limit={limit}")


class StepCache(StoreBase):
    """Queries and the one write behind step caching."""

    def find_cached_step_runs(
        self, cache_key: str, *, limit: int = 5
    ) -> list[tuple[StepRunRecord, dict[str, ArtifactVersionRecord]]]:
        """Return step runs that can serve a hit for this key, newest first, with their outputs.

        Only completed step runs whose cache was not cleared: a ``cached`` step
        run is not returned, since a hit points at the run that produced the
        outputs. The caller checks age and that the files still exist.

        Example:
            >>> for step_run, outputs in store.find_cached_step_runs(key):  # doctest: +SKIP
            ...     print(step_run.id, {n: v.uri for n, v in outputs.items()})
        """
        _check_limit(limit)
        query = _HITS.order_by(*_NEWEST_FIRST).limit(limit)
        with self._read(f"look up cached step runs for key {cache_key!r}") as conn:
            rows = conn.execute(query, {"cache_key": cache_key}).all()
            outputs = load_outputs(conn, [row.id for row in rows])
        return [(step_run_record_with_parents(row), outputs.get(row.id, {})) for row in rows]

    def find_cache_candidates(self, cache_key: str) -> list[CacheCandidate]:
        """The newest five step runs that may serve a hit for this key, in one statement.

        Like :meth:`find_cached_step_runs` but with only what a cache lookup
        checks (age and output files), so a fully cached run stays cheap.

        Example:
            >>> [c.step_run_id for c in store.find_cache_candidates(key)]  # doctest: +SKIP
        """
        found: dict[str, CacheCandidate] = {}
        with self._read(f"look up cached step runs for key {cache_key!r}") as conn:
            for row in conn.execute(_CANDIDATES, {"cache_key": cache_key}):
                candidate = found.get(row.candidate_id)
                if candidate is None:
                    candidate = found[row.candidate_id] = CacheCandidate(
                        step_run_id=row.candidate_id,
                        created_at=row.candidate_created_at,
                        ended_at=row.candidate_ended_at,
                        outputs={},
                    )
                if row.output_name is not None:
                    candidate.outputs[row.output_name] = version_record(row)  # type: ignore[index]
        return list(found.values())

    def find_step_runs_by_cache_key(self, cache_key: str, *, limit: int = 5) -> list[StepRunRecord]:
        """Return step runs with this cache key in any status, cleared or not, newest first.

        Use it to explain a miss: the key was seen before, but the step run
        failed, is still running, or had its cache cleared. One query.

        Example:
            >>> [(s.status, s.cache_cleared_at)  # doctest: +SKIP
            ...  for s in store.find_step_runs_by_cache_key(key)]
            [(<ExecutionStatus.COMPLETED: 'completed'>, datetime.datetime(2024, ...))]
        """
        _check_limit(limit)
        query = _BY_KEY.order_by(*_NEWEST_FIRST).limit(limit)
        with self._read(f"look up step runs with cache key {cache_key!r}") as conn:
            rows = conn.execute(query, {"cache_key": cache_key}).all()
        return [step_run_record_with_parents(row) for row in rows]

    def previous_step_run(
        self, *, pipeline_name: str, name: str, before: datetime
    ) -> StepRunRecord | None:
        """Return the newest earlier run of step ``name`` in pipeline ``pipeline_name``.

        Only step runs created strictly before ``before`` whose status is
        ``completed``, ``cached`` or ``failed`` count (the ones that got as far
        as a cache key worth comparing). One query.

        Args:
            pipeline_name: Name of the pipeline the step run's run belongs to.
            name: The step's invocation id in the pipeline (``train``, ``inc_2``).
            before: Usually the creation time of the step run being explained.

        Returns:
            The step run, or ``None`` when the step never ran in this pipeline before.

        Example:
            >>> previous = store.previous_step_run(  # doctest: +SKIP
            ...     pipeline_name="training", name="train", before=step.created_at)
            >>> previous.cache_parts if previous else None  # doctest: +SKIP
        """
        params = {"pipeline_name": pipeline_name, "name": name, "before": before}
        with self._read(f"find the step run before {name!r} of pipeline {pipeline_name!r}") as conn:
            row = conn.execute(_PREVIOUS, params).first()
        return None if row is None else step_run_record_with_parents(row)

    def clear_cache(
        self,
        *,
        pipeline_name: str | None = None,
        step_name: str | None = None,
        older_than: datetime | None = None,
        at: datetime,
    ) -> int:
        """Stop completed step runs from serving cache hits; their artifacts stay.

        Stamps ``cache_cleared_at = at`` on every completed step run with a
        cache key, not cleared yet, that matches all the filters given, in one
        transaction. Without filters the whole cache is cleared.

        Args:
            pipeline_name: Only step runs of runs of this pipeline.
            step_name: Only step runs with this invocation id (``train_2``) or
                step definition name (``train``).
            older_than: Only step runs that ended strictly before this time.
            at: The time to record as ``cache_cleared_at``.

        Returns:
            How many step runs were cleared.

        Example:
            >>> store.clear_cache(pipeline_name="training", step_name="train",  # doctest: +SKIP
            ...                   at=datetime.now(UTC))
            3
        """
        query = _CLEARABLE.values(cache_cleared_at=at)
        scope: list[str] = []
        if pipeline_name is not None:
            runs = select(PIPELINE_RUNS.c.id).join(
                PIPELINES, PIPELINES.c.id == PIPELINE_RUNS.c.pipeline_id
            )
            query = query.where(_STEPS.run_id.in_(runs.where(PIPELINES.c.name == pipeline_name)))
            scope.append(f"pipeline {pipeline_name!r}")
        if step_name is not None:
            query = query.where(or_(_STEPS.name == step_name, _STEPS.step_name == step_name))
            scope.append(f"step {step_name!r}")
        if older_than is not None:
            query = query.where(_STEPS.ended_at < older_than)
            scope.append(f"ended before {older_than.isoformat()}")
        action = "clear the step cache" + (f" ({', '.join(scope)})" if scope else "")
        with self._write(action) as conn:
            return int(conn.execute(query).rowcount)
