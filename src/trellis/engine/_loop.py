"""The one scheduling loop: launch ready nodes, record results, retry, skip what cannot run.

Nodes may be added while the loop runs (:meth:`RunLoop.add_node`), which is what
dynamic pipelines build on.
"""

from __future__ import annotations

import dataclasses
import heapq
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime

from trellis.artifacts import ArtifactStore
from trellis.config import ExecutionMode
from trellis.engine._cache import CacheKeys, lookup
from trellis.engine._code import code_info
from trellis.engine._recording import artifact_specs, step_run_fields, task_inputs
from trellis.exceptions import DefinitionError
from trellis.graph import Node
from trellis.metadata import ArtifactVersionRecord, AttemptSpec, ExecutionStatus, MetadataStore
from trellis.orchestrators import Launcher
from trellis.runtime import StepError, StepResult, StepTask, error_of

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Failure:
    node_id: str
    error: StepError


@dataclass
class LoopOutcome:
    """What the loop did: per-node statuses, failures in order, skipped and retried nodes."""

    statuses: dict[str, ExecutionStatus] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    retried: dict[str, int] = field(default_factory=dict)
    hook_errors: dict[str, list[str]] = field(default_factory=dict)


class RunLoop:
    """Drives the nodes of one run through a launcher and records every transition."""

    def __init__(
        self,
        *,
        run_id: str,
        run_name: str,
        pipeline_name: str,
        metadata: MetadataStore,
        artifacts: ArtifactStore,
        launcher: Launcher,
        cache_keys: CacheKeys,
        execution_mode: ExecutionMode = ExecutionMode.CONTINUE_ON_FAILURE,
        externals: Mapping[str, ArtifactVersionRecord] | None = None,
        live_logs: bool = True,
        clock: Clock = utc_now,
    ) -> None:
        self.run_id = run_id
        self.run_name = run_name
        self.pipeline_name = pipeline_name
        self._metadata = metadata
        self._artifacts = artifacts
        self._launcher = launcher
        self._clock = clock
        self._cache_keys = cache_keys
        self._mode = execution_mode
        self._live_logs = live_logs
        self._nodes: dict[str, Node] = {}
        self._children: dict[str, list[str]] = {}
        self._waiting: dict[str, int] = {}
        self._ready: deque[str] = deque()
        self._running: dict[Future[StepResult], str] = {}
        self._outputs: dict[str, dict[str, ArtifactVersionRecord]] = {
            key: {"output": version} for key, version in (externals or {}).items()
        }
        self._step_run_ids: dict[str, str] = {}
        self._started: dict[str, str] = {}  # node id -> step run id, until recorded done
        self._tasks: dict[str, StepTask] = {}
        self._attempts: dict[str, list[AttemptSpec]] = {}
        self._retry_due: list[tuple[float, str]] = []  # (monotonic time, node id)
        self._halted = False
        self._recorded_skips = 0
        self.outcome = LoopOutcome()

    # -- graph bookkeeping ------------------------------------------------------------
    def add_node(self, node: Node) -> None:
        """Register a node; it runs once every node it depends on has completed."""
        unknown = sorted(parent for parent in node.upstream if parent not in self._nodes)
        if unknown:
            raise DefinitionError(
                f"Step `{node.id}` of pipeline `{self.pipeline_name}` waits for "
                f"{', '.join(unknown)}, which is not a step of this run."
            )
        self._nodes[node.id] = node
        self._children[node.id] = []
        pending = 0
        blocked = False
        for parent in node.upstream:
            status = self.outcome.statuses.get(parent)
            if status is None:
                self._children[parent].append(node.id)
                pending += 1
            elif not status.is_successful:
                blocked = True
        if blocked:
            self._skip(node.id)
        elif pending:
            self._waiting[node.id] = pending
        else:
            self._ready.append(node.id)

    def _skip(self, node_id: str) -> None:
        stack = [node_id]
        while stack:
            current = stack.pop()
            if current in self.outcome.statuses:
                continue
            self.outcome.statuses[current] = ExecutionStatus.SKIPPED
            self.outcome.skipped.append(current)
            self._waiting.pop(current, None)
            stack.extend(self._children[current])

    def _done(self, node_id: str, status: ExecutionStatus) -> None:
        self.outcome.statuses[node_id] = status
        if not status.is_successful:
            for child in self._children[node_id]:
                self._skip(child)
            return
        for child in self._children[node_id]:
            if child in self.outcome.statuses:
                continue
            self._waiting[child] -= 1
            if self._waiting[child] == 0:
                del self._waiting[child]
                self._ready.append(child)

    # -- the loop ---------------------------------------------------------------------
    def run(self) -> LoopOutcome:
        """Run until nothing is ready, running or due for a retry; then :meth:`finalize`."""
        capacity = self._launcher.capacity
        done: set[Future[StepResult]] = set()
        while not self._halted and (self._ready or self._running or self._retry_due or done):
            self._submit(self._advance(done, capacity), capacity)
            done = set()
            if self._halted:
                break
            timeout = self._next_retry_in()
            if self._running:
                done, _ = wait(list(self._running), timeout=timeout, return_when=FIRST_COMPLETED)
            elif timeout is not None:
                time.sleep(timeout)
        if self._halted:
            self._halt()
        return self.outcome

    def _advance(self, done: set[Future[StepResult]], capacity: int | None) -> list[StepTask]:
        """Record finished steps, then the start (or cache hit) of every step that can start.

        All of it is one transaction, so a chain costs one commit per step. The
        tasks are returned to be submitted after the commit: a step never runs
        (perhaps inline) while the database is locked for writing. Steps wait
        here rather than in the launcher's queue, so a step is `running` only
        while it runs.
        """
        if not done and not (self._ready and self._has_room(capacity)):
            return []  # nothing to record: no empty write transaction
        batch: list[str] = []
        to_submit: list[StepTask] = []
        started = dict(self._started)
        committed = False
        try:
            with self._metadata.transaction():
                for future in done:
                    self._complete(future)
                while self._ready and not self._halted and self._has_room(capacity, len(to_submit)):
                    node_id = self._ready.popleft()
                    batch.append(node_id)
                    task = self._launch(self._nodes[node_id])
                    if task is not None:
                        to_submit.append(task)
            committed = True
        except BaseException:
            if not committed:
                # Rolled back: steps that ended are still `running` in the database
                # (stop() marks them stopped), none of the batch is recorded (stop()
                # records them as skipped).
                self._started = started
                for node_id in batch:
                    self.outcome.statuses.pop(node_id, None)
                    self._step_run_ids.pop(node_id, None)
                self._ready.extendleft(reversed(batch))
            raise
        return to_submit

    def _submit(self, to_submit: list[StepTask], capacity: int | None) -> None:
        alone = len(to_submit) == 1 and not (self._running or self._ready or self._retry_due)
        for task in to_submit:
            self._running[self._launcher.submit(task, alone=alone)] = task.step_id
        while self._retry_due and self._retry_due[0][0] <= time.monotonic():
            if not self._has_room(capacity):
                break
            self._resubmit(heapq.heappop(self._retry_due)[1])

    def _has_room(self, capacity: int | None, pending: int = 0) -> bool:
        return capacity is None or len(self._running) + pending < capacity

    def _next_retry_in(self) -> float | None:
        """Seconds until the next retry may be submitted; ``None``: wait for a step."""
        if not self._retry_due or not self._has_room(self._launcher.capacity):
            return None  # a full launcher frees room only when a running step ends
        return max(0.0, self._retry_due[0][0] - time.monotonic())

    def _halt(self) -> None:
        """A failure under stop_on_failure or fail_fast: start nothing more."""
        if self._mode is ExecutionMode.STOP_ON_FAILURE:
            while self._running:  # let running steps finish, and record them
                done, _ = wait(list(self._running), return_when=FIRST_COMPLETED)
                for future in done:
                    self._complete(future)
        else:
            for future in list(self._running):
                future.cancel()
            self._mark_stopped("stopped: another step failed and the run fails fast")
        for _, node_id in self._retry_due:
            self._mark_one_stopped(node_id, "stopped: the run stopped before this retry")
        self._retry_due.clear()
        for node_id in [*self._ready, *self._waiting]:
            self._skip(node_id)
        self._ready.clear()

    def stop(self) -> None:
        """After an interruption: record the tasks that ended, mark the rest ``stopped``.

        Call it once the launcher is closed (running tasks have ended or were
        cancelled). Steps that never started are recorded by :meth:`finalize`.
        """
        for future in list(self._running):
            if future.done() and not future.cancelled():
                self._complete(future)
        self._mark_stopped("stopped: the run was interrupted")
        for node_id in [*self._ready, *self._waiting]:
            self._skip(node_id)
        self._ready.clear()

    def _mark_stopped(self, reason: str) -> None:
        for node_id in list(self._started):
            self._mark_one_stopped(node_id, reason)
        self._running.clear()

    def _mark_one_stopped(self, node_id: str, reason: str) -> None:
        step_run_id = self._started.get(node_id)
        if step_run_id is None:
            return
        self._metadata.finish_step_run(
            step_run_id,
            status=ExecutionStatus.STOPPED,
            ended_at=self._clock(),
            outputs=[],
            error=reason,
            attempts=self._tasks[node_id].attempt,
            failed_attempts=self._attempts.get(node_id, []),
        )
        del self._started[node_id]  # only once recorded: an interrupted stop() can repeat
        self.outcome.statuses[node_id] = ExecutionStatus.STOPPED

    def finalize(self) -> None:
        """Record every node that did not run as ``skipped`` (one transaction; idempotent)."""
        pending = self.outcome.skipped[self._recorded_skips :]
        if pending:
            self._metadata.record_skipped_step_runs(
                self.run_id, [(n, self._nodes[n].step_name) for n in pending], at=self._clock()
            )
            self._recorded_skips += len(pending)

    # -- one node ---------------------------------------------------------------------
    def _inputs(self, node: Node) -> dict[str, list[ArtifactVersionRecord]]:
        return {
            binding.name: [self._outputs[s.node_id][s.output] for s in binding.sources]
            for binding in node.inputs
        }

    def _launch(self, node: Node) -> StepTask | None:
        """Record a cache hit (``None``), or the start of a step and its task to submit."""
        inputs = self._inputs(node)
        key = self._cache_keys.key(node, inputs)
        hit = None
        if node.enable_cache:
            hit, found = lookup(key.key, node, self._metadata, self._artifacts, self._clock())
        else:
            found = {"result": "disabled", "reason": node.cache_reason}
        fields = step_run_fields(
            self.run_id,
            node,
            code_info(node.func),
            key,
            found,
            [self._step_run_ids[parent] for parent in sorted(node.upstream)],
            inputs,
        )
        if hit is not None:
            original_id, outputs = hit
            self._step_run_ids[node.id] = self._metadata.record_cached_step_run(
                **fields,
                original_step_run_id=original_id,
                outputs={name: version.id for name, version in outputs.items()},
                at=self._clock(),
            )
            self._outputs[node.id] = outputs
            logger.info("Step `%s` cached: reusing step run %s", node.id, original_id)
            self._done(node.id, ExecutionStatus.CACHED)
            return None
        step_run_id = self._metadata.start_step_run(**fields, started_at=self._clock())
        self._step_run_ids[node.id] = step_run_id
        self._started[node.id] = step_run_id  # from its commit on, an interrupt stops it
        retries = node.retry.max_retries if node.retry is not None else 0
        self._tasks[node.id] = StepTask(
            run_id=self.run_id,
            pipeline_name=self.pipeline_name,
            step_id=node.id,
            func=node.func,
            parameters=node.parameters,
            inputs={
                binding.name: task_inputs(inputs[binding.name], binding.is_list)
                for binding in node.inputs
            },
            outputs=node.outputs,
            artifact_store_url=self._artifacts.url,
            run_name=self.run_name,
            final_attempt=retries == 0,
            on_failure=node.on_failure,
            on_success=node.on_success,
            enable_step_logs=node.enable_step_logs,
            enable_artifact_metadata=node.enable_artifact_metadata,
            enable_artifact_visualization=node.enable_artifact_visualization,
            live_logs=self._live_logs,
        )
        return self._tasks[node.id]

    def _resubmit(self, node_id: str) -> None:
        node, previous = self._nodes[node_id], self._tasks[node_id]
        attempt = previous.attempt + 1
        task = dataclasses.replace(
            previous, attempt=attempt, final_attempt=attempt > node.retry.max_retries
        )
        self._tasks[node_id] = task
        logger.warning("Step `%s`: attempt %d of %d", node_id, attempt, node.retry.max_retries + 1)
        self._running[self._launcher.submit(task)] = node_id

    def _complete(self, future: Future[StepResult]) -> None:
        node_id = self._running.pop(future)
        node, task = self._nodes[node_id], self._tasks[node_id]
        result = _result(future, task)
        if result.hook_errors:
            self.outcome.hook_errors[node_id] = list(result.hook_errors)
        metadata = dict(result.metadata)
        if result.hook_errors:
            metadata["hook_errors"] = list(result.hook_errors)
        if result.error is not None and not task.final_attempt:
            self._attempts.setdefault(node_id, []).append(
                AttemptSpec(
                    attempt=task.attempt,
                    started_at=result.started_at,
                    ended_at=result.ended_at,
                    error=str(result.error),
                    traceback=result.error.traceback,
                )
            )
            self.outcome.retried[node_id] = task.attempt + 1
            delay = node.retry.delay_before(task.attempt + 1)
            logger.warning(
                "Step `%s` failed (%s); retrying in %.3g s", node_id, result.error, delay
            )
            heapq.heappush(self._retry_due, (time.monotonic() + delay, node_id))
            return
        step_run_id = self._started.pop(node_id)
        common = {
            "started_at": result.started_at,
            "ended_at": result.ended_at,
            "attempts": task.attempt,
            "failed_attempts": self._attempts.get(node_id, []),
            "log_uri": result.log_uri,
            "metadata": metadata or None,
        }
        if result.error is not None:
            self._metadata.finish_step_run(
                step_run_id,
                status=ExecutionStatus.FAILED,
                outputs=[],
                error=str(result.error),
                traceback=result.error.traceback,
                **common,  # type: ignore[arg-type]
            )
            logger.error("Step `%s` failed: %s", node_id, result.error)
            self.outcome.failures.append(Failure(node_id, result.error))
            self._done(node_id, ExecutionStatus.FAILED)
            if self._mode is not ExecutionMode.CONTINUE_ON_FAILURE:
                self._halted = True
            return
        self._outputs[node_id] = self._metadata.finish_step_run(
            step_run_id,
            status=ExecutionStatus.COMPLETED,
            outputs=artifact_specs(node, result),
            **common,  # type: ignore[arg-type]
        )
        self._done(node_id, ExecutionStatus.COMPLETED)


def _result(future: Future[StepResult], task: StepTask) -> StepResult:
    """The task's result; a launcher or worker that raised is a failure of the step."""
    try:
        return future.result()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        now = utc_now()
        return StepResult(task.step_id, now, now, error=error_of(exc))
