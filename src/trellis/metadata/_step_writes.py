"""Recording step runs: started, reused from the cache, or skipped."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import Connection, insert

from trellis.metadata._base import StoreBase
from trellis.metadata._records import ExecutionStatus
from trellis.metadata._schema import STEP_RUN_INPUTS, STEP_RUN_OUTPUTS, STEP_RUN_PARENTS, STEP_RUNS

__all__ = ["StepWrites"]

_INSERT_STEP = insert(STEP_RUNS)
_INSERT_PARENTS = insert(STEP_RUN_PARENTS)
_INSERT_INPUTS = insert(STEP_RUN_INPUTS)
_INSERT_OUTPUTS = insert(STEP_RUN_OUTPUTS)


class StepWrites(StoreBase):
    """Methods that insert step runs and their links."""

    def start_step_run(
        self,
        *,
        run_id: str,
        name: str,
        step_name: str,
        parameters: Mapping[str, Any],
        code_hash: str | None,
        source_code: str | None,
        cache_key: str | None,
        cache_parts: Mapping[str, Any],
        parent_ids: Sequence[str],
        inputs: Sequence[tuple[str, int, str]],
        started_at: datetime,
    ) -> str:
        """Record a step run that starts now (status ``running``) with its inputs.

        Args:
            inputs: ``(input name, position, artifact version id)`` per input
                artifact; position is the index inside a list input, else 0.

        Returns:
            The id of the new step run.

        Example:
            >>> step_id = store.start_step_run(  # doctest: +SKIP
            ...     run_id=run.id, name="train", step_name="train", parameters={"lr": 0.1},
            ...     code_hash="c0de", source_code="def train(): ...", cache_key="k",
            ...     cache_parts={}, parent_ids=[load_id], inputs=[("data", 0, version_id)],
            ...     started_at=datetime.now(UTC))
        """
        step_run_id = uuid4().hex
        with self._write(f"start the step run {name!r} of run {run_id}") as conn:
            conn.execute(
                _INSERT_STEP,
                self._step_row(
                    step_run_id,
                    run_id,
                    name,
                    step_name,
                    ExecutionStatus.RUNNING,
                    parameters=parameters,
                    code_hash=code_hash,
                    source_code=source_code,
                    cache_key=cache_key,
                    cache_parts=cache_parts,
                    started_at=started_at,
                ),
            )
            self._insert_links(conn, step_run_id, parent_ids, inputs, ())
        return step_run_id

    def record_cached_step_run(
        self,
        *,
        run_id: str,
        name: str,
        step_name: str,
        parameters: Mapping[str, Any],
        code_hash: str | None,
        source_code: str | None,
        cache_key: str | None,
        cache_parts: Mapping[str, Any],
        parent_ids: Sequence[str],
        inputs: Sequence[tuple[str, int, str]],
        original_step_run_id: str,
        outputs: Mapping[str, str],
        at: datetime,
    ) -> str:
        """Record a cache hit: a ``cached`` step run whose outputs are existing versions.

        Args:
            original_step_run_id: The completed step run whose outputs are reused.
            outputs: Output name -> id of the existing artifact version.

        Returns:
            The id of the new step run.

        Example:
            >>> hits = store.find_cached_step_runs(key)  # doctest: +SKIP
            >>> original, versions = hits[0]  # doctest: +SKIP
            >>> store.record_cached_step_run(  # doctest: +SKIP
            ...     run_id=run.id, name="train", step_name="train", parameters={},
            ...     code_hash=None, source_code=None, cache_key=key, cache_parts={},
            ...     parent_ids=[], inputs=[], original_step_run_id=original.id,
            ...     outputs={n: v.id for n, v in versions.items()}, at=datetime.now(UTC))
        """
        step_run_id = uuid4().hex
        with self._write(f"record the cached step run {name!r} of run {run_id}") as conn:
            conn.execute(
                _INSERT_STEP,
                self._step_row(
                    step_run_id,
                    run_id,
                    name,
                    step_name,
                    ExecutionStatus.CACHED,
                    parameters=parameters,
                    code_hash=code_hash,
                    source_code=source_code,
                    cache_key=cache_key,
                    cache_parts=cache_parts,
                    started_at=at,
                    ended_at=at,
                    original_step_run_id=original_step_run_id,
                ),
            )
            self._insert_links(conn, step_run_id, parent_ids, inputs, outputs.items())
        return step_run_id

    def record_skipped_step_runs(
        self, run_id: str, steps: Sequence[tuple[str, str]], at: datetime
    ) -> None:
        """Record steps that will not run (an upstream step failed) as ``skipped``.

        Args:
            steps: ``(invocation name, step name)`` of each skipped step.

        Example:
            >>> store.record_skipped_step_runs(  # doctest: +SKIP
            ...     run.id, [("evaluate", "evaluate")], datetime.now(UTC))
        """
        if not steps:
            return
        rows = [
            self._step_row(
                uuid4().hex, run_id, name, step_name, ExecutionStatus.SKIPPED, ended_at=at
            )
            for name, step_name in steps
        ]
        with self._write(f"record {len(rows)} skipped step runs of run {run_id}") as conn:
            conn.execute(_INSERT_STEP, rows)

    def _step_row(
        self,
        step_run_id: str,
        run_id: str,
        name: str,
        step_name: str,
        status: ExecutionStatus,
        *,
        parameters: Mapping[str, Any] | None = None,
        code_hash: str | None = None,
        source_code: str | None = None,
        cache_key: str | None = None,
        cache_parts: Mapping[str, Any] | None = None,
        started_at: datetime | None = None,
        ended_at: datetime | None = None,
        original_step_run_id: str | None = None,
    ) -> dict[str, Any]:
        # Every key, every time: one compiled INSERT serves all step runs.
        return {
            "id": step_run_id,
            "run_id": run_id,
            "name": name,
            "step_name": step_name,
            "status": status.value,
            "created_at": self._clock.now(),
            "started_at": started_at,
            "ended_at": ended_at,
            "parameters": dict(parameters or {}),
            "code_hash": code_hash,
            "source_code": source_code,
            "cache_key": cache_key,
            "cache_parts": dict(cache_parts or {}),
            "original_step_run_id": original_step_run_id,
            "error": None,
            "traceback": None,
            "cache_cleared_at": None,
            "attempts": 1,
            "log_uri": None,
        }

    @staticmethod
    def _insert_links(
        conn: Connection,
        step_run_id: str,
        parent_ids: Sequence[str],
        inputs: Sequence[tuple[str, int, str]],
        outputs: Iterable[tuple[str, str]],
    ) -> None:
        if parent_ids:
            conn.execute(
                _INSERT_PARENTS,
                [{"step_run_id": step_run_id, "parent_id": p} for p in dict.fromkeys(parent_ids)],
            )
        if inputs:
            conn.execute(
                _INSERT_INPUTS,
                [
                    {"step_run_id": step_run_id, "name": n, "position": p, "artifact_version_id": v}
                    for n, p, v in inputs
                ],
            )
        output_rows = [
            {"step_run_id": step_run_id, "name": n, "position": 0, "artifact_version_id": v}
            for n, v in outputs
        ]
        if output_rows:
            conn.execute(_INSERT_OUTPUTS, output_rows)
