"""Step and pipeline hooks: called once, with the right argument, never hiding failures."""

from __future__ import annotations

from typing import Any

import pytest

from trellis import Client, ExecutionStatus, StepFailedError, get_step_context, pipeline, step

events: list[Any] = []


@pytest.fixture(autouse=True)
def _reset() -> None:
    events.clear()


def record_failure(exc: BaseException) -> None:
    events.append(("step_failure", type(exc).__name__, str(exc), get_step_context().step_name))


def record_success() -> None:
    context = get_step_context()
    events.append(("step_success", context.step_name, context.run_name))


def no_arg_failure() -> None:
    events.append("no_arg_failure")


def pipeline_failure(exc: BaseException) -> None:
    events.append(("pipeline_failure", type(exc).__name__))


def pipeline_success() -> None:
    events.append("pipeline_success")


def cleanup() -> None:
    events.append("cleanup")


def broken_hook(*_: Any) -> None:
    raise RuntimeError("hook broke")


@step(on_success=record_success, on_failure=record_failure)
def fine() -> int:
    return 1


@step(on_failure=record_failure)
def failing(x: int) -> int:
    raise ValueError(f"bad {x}")


def test_step_success_hook_runs_once_with_the_step_context() -> None:
    @pipeline(on_success=pipeline_success, on_failure=pipeline_failure, on_cleanup=cleanup)
    def good() -> None:
        fine()

    run = good()
    # the step's own hook wins over the pipeline's; on_cleanup runs once at the end
    assert events == [("step_success", "fine", run.name), "cleanup"]


def test_failure_hooks_get_the_exception_and_cleanup_still_runs() -> None:
    @pipeline(on_cleanup=cleanup)
    def bad() -> None:
        failing(fine())

    with pytest.raises(StepFailedError):
        bad()
    assert events == [
        ("step_success", "fine", Client().get_pipeline("bad").last_run.name),
        ("step_failure", "ValueError", "bad 1", "failing"),
        "cleanup",
    ]


@step
def plain_ok() -> int:
    return 1


@step
def plain_bad(x: int) -> int:
    raise KeyError(x)


def step_level_success() -> None:
    events.append(("pipeline_default_success", get_step_context().step_name))


def step_level_failure(exc: BaseException) -> None:
    events.append(("pipeline_default_failure", get_step_context().step_name, repr(exc)))


def test_pipeline_hooks_are_defaults_for_steps_without_their_own() -> None:
    @pipeline(on_success=step_level_success, on_failure=step_level_failure, on_cleanup=cleanup)
    def defaults() -> None:
        plain_bad(plain_ok())

    with pytest.raises(StepFailedError):
        defaults()
    assert events == [
        ("pipeline_default_success", "plain_ok"),
        ("pipeline_default_failure", "plain_bad", "KeyError(1)"),
        "cleanup",
    ]


def test_failure_hook_without_argument() -> None:
    quiet = failing.with_options(on_failure=no_arg_failure)

    @pipeline
    def p() -> None:
        quiet(1)

    with pytest.raises(StepFailedError):
        p()
    assert events == ["no_arg_failure"]


def test_raising_hooks_are_recorded_and_hide_nothing() -> None:
    hooked = failing.with_options(on_failure=broken_hook)

    @pipeline(on_cleanup=broken_hook)
    def p() -> None:
        hooked(1)

    with pytest.raises(StepFailedError, match="step `failing` raised ValueError: bad 1"):
        p()
    run = Client().get_pipeline("p").last_run
    assert run.status is ExecutionStatus.FAILED
    assert run.steps["failing"].run_metadata["hook_errors"] == [
        "on_failure: RuntimeError: hook broke"
    ]
    assert run.run_metadata["hook_error_on_cleanup"] == "RuntimeError: hook broke"


def exiting_hook() -> None:
    raise SystemExit("giving up")


def test_a_raising_success_hook_does_not_fail_the_step_and_cleanup_runs() -> None:
    @pipeline(on_cleanup=cleanup)
    def p() -> None:
        fine.with_options(on_success=broken_hook)()
        fine.with_options(on_success=exiting_hook)(id="exits")

    run = p()
    assert run.status is ExecutionStatus.COMPLETED
    assert run.steps["fine"].status is ExecutionStatus.COMPLETED
    assert run.steps["exits"].status is ExecutionStatus.COMPLETED
    assert events == ["cleanup"]
    assert run.steps["fine"].run_metadata["hook_errors"] == ["on_success: RuntimeError: hook broke"]
    assert run.steps["exits"].run_metadata["hook_errors"] == ["on_success: SystemExit: giving up"]


def test_hooks_must_be_callables_with_a_fitting_signature() -> None:
    from trellis import DefinitionError

    def two_args(a: int, b: int) -> None: ...

    with pytest.raises(DefinitionError, match=r"on_failure hook 'test_hooks.*two_args' must take"):
        fine.with_options(on_failure=two_args)
    with pytest.raises(DefinitionError, match="on_success must be a function, got 3"):
        fine.with_options(on_success=3)  # type: ignore[arg-type]


def test_get_step_context_outside_a_step() -> None:
    from trellis import TrellisError

    with pytest.raises(TrellisError, match="outside a running step"):
        get_step_context()
