"""The one scheduling loop: launch ready nodes, record results, skip what cannot run.

Nodes may be added while the loop runs (:meth:`RunLoop.add_node`), which is what
dynamic pipelines build on.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypedDict

from trellis.artifacts import ArtifactStore
from trellis.engine._cache import CacheKeys, lookup
from trellis.engine._code import code_info
from trellis.exceptions import DefinitionError
from trellis.graph import Node
from trellis.metadata import (
    ArtifactVersionRecord,
    ArtifactVersionSpec,
    ExecutionStatus,
    MetadataStore,
)
from trellis.orchestrators import Launcher
from trellis.runtime import InputArtifact, StepError, StepResult, StepTask

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class _StepRunFields(TypedDict):
    """What a started and a cached step run record alike."""

    run_id: str
    name: str
    step_name: str
    parameters: dict[str, Any]
    code_hash: str
    source_code: str | None
    cache_key: str
    cache_parts: Any
    parent_ids: list[str]
    inputs: list[tuple[str, int, str]]


@dataclass
class Failure:
    node_id: str
    error: StepError


@dataclass
class LoopOutcome:
    """What the loop did: per-node statuses and the failures in the order they happened."""

    statuses: dict[str, ExecutionStatus] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class RunLoop:
    """Drives the nodes of one run through a launcher and records every transition."""

    def __init__(
        self,
        *,
        run_id: str,
        pipeline_name: str,
        metadata: MetadataStore,
        artifacts: ArtifactStore,
        launcher: Launcher,
        cache_keys: CacheKeys,
        clock: Clock = utc_now,
    ) -> None:
        self.run_id = run_id
        self.pipeline_name = pipeline_name
        self._metadata = metadata
        self._artifacts = artifacts
        self._launcher = launcher
        self._clock = clock
        self._cache_keys = cache_keys
        self._nodes: dict[str, Node] = {}
        self._children: dict[str, list[str]] = {}
        self._waiting: dict[str, int] = {}
        self._ready: deque[str] = deque()
        self._running: dict[Future[StepResult], tuple[str, str]] = {}
        self._outputs: dict[str, dict[str, ArtifactVersionRecord]] = {}
        self._step_run_ids: dict[str, str] = {}
        self._blocked: set[str] = set()
        self._started: dict[str, str] = {}  # node id -> step run id, until recorded done
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
        for parent in node.upstream:
            status = self.outcome.statuses.get(parent)
            if status is None:
                self._children[parent].append(node.id)
                pending += 1
            elif not status.is_successful:
                self._blocked.add(node.id)
        if node.id in self._blocked:
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
        """Run until no node is ready or running. Call :meth:`finalize` afterwards."""
        capacity = self._launcher.capacity
        while self._ready or self._running:
            # Hold ready steps here rather than in the launcher's queue, so a step
            # is `running` only while it runs and later priorities can reorder.
            while self._ready and (capacity is None or len(self._running) < capacity):
                self._launch(self._nodes[self._ready.popleft()])
            if self._running:
                done, _ = wait(list(self._running), return_when=FIRST_COMPLETED)
                for future in done:
                    self._complete(future)
        return self.outcome

    def stop(self) -> None:
        """After an interruption: record the tasks that ended, mark the rest ``stopped``.

        Call it once the launcher is closed (running tasks have ended or were
        cancelled). Steps that never started are recorded by :meth:`finalize`.
        """
        for future in list(self._running):
            if future.done() and not future.cancelled():
                self._complete(future)
        now = self._clock()
        for node_id, step_run_id in list(self._started.items()):
            self._metadata.finish_step_run(
                step_run_id,
                status=ExecutionStatus.STOPPED,
                ended_at=now,
                outputs=[],
                error="stopped: the run was interrupted",
            )
            del self._started[node_id]
            self.outcome.statuses[node_id] = ExecutionStatus.STOPPED
        self._running.clear()
        for node_id in [*self._ready, *self._waiting]:
            self._skip(node_id)
        self._ready.clear()

    def finalize(self) -> None:
        """Record every node that did not run as ``skipped`` (one transaction)."""
        if self.outcome.skipped:
            self._metadata.record_skipped_step_runs(
                self.run_id,
                [(n, self._nodes[n].step_name) for n in self.outcome.skipped],
                at=self._clock(),
            )

    def _inputs(self, node: Node) -> dict[str, list[ArtifactVersionRecord]]:
        return {
            binding.name: [self._outputs[s.node_id][s.output] for s in binding.sources]
            for binding in node.inputs
        }

    def _launch(self, node: Node) -> None:
        inputs = self._inputs(node)
        code = code_info(node.func)
        key = self._cache_keys.key(node, inputs)
        hit = None
        if node.enable_cache:
            hit, found = lookup(key.key, node, self._metadata, self._artifacts, self._clock())
        else:
            found = {"result": "disabled", "reason": node.cache_reason}
        policy = node.cache_policy.describe() if node.cache_policy is not None else None
        common = _StepRunFields(
            run_id=self.run_id,
            name=node.id,
            step_name=node.step_name,
            parameters=dict(node.parameters_json),
            code_hash=code.hash,
            source_code=code.source,
            cache_key=key.key,
            cache_parts={"parts": dict(key.parts), "lookup": found, "policy": policy},
            parent_ids=[self._step_run_ids[parent] for parent in sorted(node.upstream)],
            inputs=[
                (name, position, version.id)
                for name, versions in inputs.items()
                for position, version in enumerate(versions)
            ],
        )
        if hit is not None:
            original, outputs = hit
            self._step_run_ids[node.id] = self._metadata.record_cached_step_run(
                **common,
                original_step_run_id=original.id,
                outputs={name: version.id for name, version in outputs.items()},
                at=self._clock(),
            )
            self._outputs[node.id] = outputs
            logger.info("Step `%s` cached: reusing step run %s", node.id, original.id)
            self._done(node.id, ExecutionStatus.CACHED)
            return
        step_run_id = self._metadata.start_step_run(**common, started_at=self._clock())
        self._step_run_ids[node.id] = step_run_id
        self._started[node.id] = step_run_id  # before submit: an interrupt may land in it
        task = StepTask(
            run_id=self.run_id,
            pipeline_name=self.pipeline_name,
            step_id=node.id,
            func=node.func,
            parameters=node.parameters,
            inputs={
                binding.name: _task_inputs(inputs[binding.name], binding.is_list)
                for binding in node.inputs
            },
            outputs=node.outputs,
            artifact_store_url=self._artifacts.url,
        )
        self._running[self._launcher.submit(task)] = (node.id, step_run_id)

    def _complete(self, future: Future[StepResult]) -> None:
        node_id, step_run_id = self._running.pop(future)
        del self._started[node_id]
        node = self._nodes[node_id]
        result = future.result()
        if result.error is not None:
            self._metadata.finish_step_run(
                step_run_id,
                status=ExecutionStatus.FAILED,
                started_at=result.started_at,
                ended_at=result.ended_at,
                outputs=[],
                error=str(result.error),
                traceback=result.error.traceback,
            )
            logger.error("Step `%s` failed: %s", node_id, result.error)
            self.outcome.failures.append(Failure(node_id, result.error))
            self._done(node_id, ExecutionStatus.FAILED)
            return
        specs = [
            ArtifactVersionSpec(
                output_name=spec.name,
                artifact_name=spec.artifact_name,
                uri=stored.uri,
                materializer=stored.materializer,
                data_type=stored.data_type,
                content_hash=stored.content_hash,
                size=stored.size,
                metadata=dict(stored.metadata),
            )
            for spec in node.outputs
            for stored in (result.outputs[spec.name],)
        ]
        self._outputs[node_id] = self._metadata.finish_step_run(
            step_run_id,
            status=ExecutionStatus.COMPLETED,
            started_at=result.started_at,
            ended_at=result.ended_at,
            outputs=specs,
        )
        self._done(node_id, ExecutionStatus.COMPLETED)


def _task_inputs(
    versions: list[ArtifactVersionRecord], is_list: bool
) -> InputArtifact | tuple[InputArtifact, ...]:
    refs = tuple(InputArtifact(v.uri, v.materializer, v.data_type) for v in versions)
    return refs if is_list else refs[0]
