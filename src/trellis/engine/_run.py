"""Run a compiled plan: open the stack, record the run, drive the loop, call hooks, report."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from trellis.artifacts import open_artifact_store
from trellis.client import PipelineRunView, open_metadata_store
from trellis.config import ExecutionMode, Settings, resolve_settings
from trellis.engine._cache import CacheKeys
from trellis.engine._environment import environment
from trellis.engine._externals import resolve_externals
from trellis.engine._loop import Clock, LoopOutcome, RunLoop, utc_now
from trellis.exceptions import RunFailedError, StepFailedError
from trellis.graph import Plan
from trellis.metadata import ExecutionStatus, MetadataStore
from trellis.orchestrators import Launcher, Resources, create_launcher

logger = logging.getLogger(__name__)


def default_run_name(pipeline_name: str, at: datetime) -> str:
    return f"{pipeline_name}-{at:%Y_%m_%d-%H_%M_%S_%f}"


def _check_feasible(plan: Plan, launcher: Launcher) -> None:
    for node in plan:
        resources = node.settings.get("resources")
        if resources is not None:
            launcher.check_feasible(
                Resources(
                    cpu_count=resources.cpu_count,
                    gpu_count=resources.gpu_count,
                    memory=resources.memory,
                    step=node.id,
                )
            )


def run_plan(
    plan: Plan,
    *,
    run_name: str | None = None,
    max_parallelism: int | None = None,
    settings: Settings | None = None,
    clock: Clock | None = None,
) -> PipelineRunView:
    """Run ``plan`` to the end and return its recorded run.

    Raises:
        StepFailedError: a step raised; the run is recorded as ``failed`` and the
            steps it did not run as ``skipped`` (or ``stopped``), per the plan's
            execution mode.
    """
    settings = settings or resolve_settings()
    clock = clock or utc_now
    cache_keys = CacheKeys()
    for node in plan:  # reads dependency files, calls cache_func: fail before the run exists
        cache_keys.prepare(node)
    parallelism = max_parallelism or settings.max_parallelism
    launcher = create_launcher(settings.orchestrator, max_parallelism=parallelism)
    _check_feasible(plan, launcher)
    metadata = open_metadata_store(settings.store_url)
    artifacts = open_artifact_store(settings.artifacts_url)
    externals = resolve_externals(plan, metadata, artifacts, clock)
    started = clock()
    run = metadata.create_run(
        pipeline_name=plan.pipeline_name,
        run_name=run_name or default_run_name(plan.pipeline_name, started),
        parameters=dict(plan.parameters),
        environment=environment(Path.cwd()),
        config={
            "orchestrator": settings.orchestrator,
            "max_parallelism": parallelism,
            "execution_mode": plan.execution_mode,
        },
        plan=plan.to_json(),
        outputs={name: [s.node_id, s.output] for name, s in plan.outputs.items()},
        started_at=started,
        tags=plan.tags,
    )
    logger.info(
        "Pipeline `%s` run `%s` started (%d steps)", plan.pipeline_name, run.name, len(plan)
    )
    loop = RunLoop(
        run_id=run.id,
        run_name=run.name,
        pipeline_name=plan.pipeline_name,
        metadata=metadata,
        artifacts=artifacts,
        launcher=launcher,
        cache_keys=cache_keys,
        execution_mode=ExecutionMode(plan.execution_mode),
        externals=externals,
        clock=clock,
    )
    for node in plan:
        loop.add_node(node)
    error: RunFailedError | None = None
    try:
        try:
            launcher.start()
            outcome = loop.run()
            launcher.close(wait=plan.execution_mode != ExecutionMode.FAIL_FAST)
            loop.finalize()
            _finish(plan, run.id, run.name, outcome, metadata, now=clock())
        except BaseException as exc:  # Ctrl-C, or a crash of the driver or the database
            _stop(loop, launcher, metadata, run.id, exc, clock)
            raise
        view = PipelineRunView(metadata.get_run(run.id), metadata, artifacts)
        error = _failure_error(plan, view, outcome) if outcome.failures else None
    finally:
        _cleanup(plan, metadata, run.id, clock)
    if error is not None:
        raise error
    return view


def _cleanup(plan: Plan, metadata: MetadataStore, run_id: str, clock: Clock) -> None:
    """Call the pipeline's ``on_cleanup``; an error in it is logged and recorded, not raised."""
    hook: Callable[..., Any] | None = plan.hooks.get("on_cleanup")
    if hook is None:
        return
    try:
        hook()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        logger.exception("The on_cleanup hook of pipeline `%s` raised", plan.pipeline_name)
        values = {"hook_error_on_cleanup": f"{type(exc).__name__}: {exc}"}
        metadata.log_metadata("pipeline_run", run_id, values, at=clock())


def _stop(
    loop: RunLoop,
    launcher: Launcher,
    metadata: MetadataStore,
    run_id: str,
    exc: BaseException,
    clock: Clock,
) -> None:
    """Wind a run down after an interruption; the run's final status is always written."""
    interrupted = isinstance(exc, KeyboardInterrupt)
    status = ExecutionStatus.STOPPED if interrupted else ExecutionStatus.FAILED
    error = "interrupted (KeyboardInterrupt)" if interrupted else f"{type(exc).__name__}: {exc}"
    try:
        try:
            if interrupted:
                logger.warning(
                    "Run interrupted: waiting for running steps (Ctrl-C again abandons them)"
                )
            launcher.close()
        except KeyboardInterrupt:  # the second Ctrl-C: do not wait for running steps
            _insist(lambda: launcher.close(wait=False))
        _insist(loop.stop)  # steps still running are recorded as stopped
        _insist(loop.finalize)
    finally:
        _insist(lambda: metadata.finish_run(run_id, status=status, ended_at=clock(), error=error))


def _insist(action: Callable[[], object]) -> None:
    """Finish recording the end of a run even if Ctrl-C is pressed again meanwhile.

    Every action passed here can be repeated: a write interrupted by Ctrl-C was
    rolled back, and what was recorded before is not recorded twice.
    """
    for _ in range(10):
        try:
            action()
            return
        except KeyboardInterrupt:
            logger.warning("Still recording the end of the run; it takes a moment")
    action()


def _finish(
    plan: Plan,
    run_id: str,
    run_name: str,
    outcome: LoopOutcome,
    metadata: MetadataStore,
    *,
    now: datetime,
) -> None:
    if outcome.failures:
        first = outcome.failures[0]
        metadata.finish_run(
            run_id,
            status=ExecutionStatus.FAILED,
            ended_at=now,
            error=f"step `{first.node_id}` failed: {first.error}",
        )
        logger.error("Pipeline `%s` run `%s` failed", plan.pipeline_name, run_name)
    else:
        metadata.finish_run(run_id, status=ExecutionStatus.COMPLETED, ended_at=now)
        logger.info("Pipeline `%s` run `%s` completed", plan.pipeline_name, run_name)


def _failure_error(plan: Plan, run: PipelineRunView, outcome: LoopOutcome) -> RunFailedError:
    first = outcome.failures[0]
    others = [f.node_id for f in outcome.failures[1:]]
    lines = [
        f"Pipeline `{plan.pipeline_name}` failed: step `{first.node_id}` raised {first.error}.",
        f"Run `{run.name}` (id {run.id}) is recorded as failed",
    ]
    if others:
        lines[-1] += f"; other failed steps: {', '.join(others)}"
    if outcome.skipped:
        lines[-1] += f"; not run: {', '.join(outcome.skipped)}"
    lines[-1] += "."
    lines.append(f"Inspect it with `trellis runs show {run.id}`.")
    error = StepFailedError(
        "\n".join(lines),
        pipeline_name=plan.pipeline_name,
        run_id=run.id,
        step_name=first.node_id,
        original=str(first.error),
    )
    error.__cause__ = first.error.exception
    return error
