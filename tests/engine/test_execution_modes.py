"""Execution modes on a diamond whose one branch fails while the other is running."""

from __future__ import annotations

import threading
import time

import pytest

from trellis import Client, ExecutionStatus, StepFailedError, pipeline, step

S = ExecutionStatus
release = threading.Event()
ran: list[str] = []


@pytest.fixture(autouse=True)
def _reset() -> None:
    release.clear()
    finished.clear()
    ran.clear()


@step
def root() -> int:
    return 1


finished = threading.Event()


@step
def fail_b(x: int, release_other: bool) -> int:
    raise RuntimeError("branch b failed")


def _failure_recorded(run_id: str) -> bool:
    return Client().get_pipeline_run(run_id).steps["fail_b"].status is S.FAILED


@step
def slow_c(x: int, release_other: bool) -> int:
    from trellis import get_step_context

    run_id = get_step_context().run_id
    try:
        if release_other:
            # finish only once the driver has recorded the failure of the other branch
            deadline = time.monotonic() + 30
            while not _failure_recorded(run_id):
                assert time.monotonic() < deadline, "the failure was never recorded"
                time.sleep(0.01)
        else:
            assert release.wait(timeout=30), "never released"
        ran.append("slow_c")
        return x + 2
    finally:
        finished.set()


@step
def join_d(b: int, c: int) -> int:
    return b + c


@step
def after_c(c: int) -> int:
    ran.append("after_c")
    return c


def diamond(mode: str, release_other: bool) -> dict[str, ExecutionStatus]:
    @pipeline(name=f"diamond_{mode}", execution_mode=mode, max_parallelism=2, enable_cache=False)
    def p() -> None:
        r = root()
        b = fail_b(r, release_other)
        c = slow_c(r, release_other)
        join_d(b, c)
        after_c(c)

    with pytest.raises(StepFailedError, match="step `fail_b` raised RuntimeError"):
        p()
    run = Client().get_pipeline(f"diamond_{mode}").last_run
    assert run.status is S.FAILED
    assert run.config["execution_mode"] == mode
    return {name: step_run.status for name, step_run in run.steps.items()}


def test_continue_on_failure_runs_every_independent_branch() -> None:
    statuses = diamond("continue_on_failure", release_other=True)
    assert statuses == {
        "root": S.COMPLETED,
        "fail_b": S.FAILED,
        "slow_c": S.COMPLETED,
        "join_d": S.SKIPPED,
        "after_c": S.COMPLETED,
    }
    assert ran == ["slow_c", "after_c"]


def test_stop_on_failure_lets_running_steps_finish_and_starts_nothing() -> None:
    statuses = diamond("stop_on_failure", release_other=True)
    assert statuses == {
        "root": S.COMPLETED,
        "fail_b": S.FAILED,
        "slow_c": S.COMPLETED,
        "join_d": S.SKIPPED,
        "after_c": S.SKIPPED,
    }
    assert ran == ["slow_c"]


def test_fail_fast_returns_at_once_and_stops_running_steps() -> None:
    try:
        statuses = diamond("fail_fast", release_other=False)  # slow_c is still blocked
    finally:
        release.set()
        assert finished.wait(timeout=30)  # its thread ends before the next test starts
    assert statuses == {
        "root": S.COMPLETED,
        "fail_b": S.FAILED,
        "slow_c": S.STOPPED,
        "join_d": S.SKIPPED,
        "after_c": S.SKIPPED,
    }
    assert "after_c" not in ran


def test_default_mode_is_continue_on_failure_and_bad_modes_are_rejected() -> None:
    from trellis import DefinitionError

    @pipeline
    def p() -> None:
        root()

    assert p.compile().execution_mode == "continue_on_failure"
    with pytest.raises(DefinitionError, match="execution_mode 'sometimes' is not one of"):
        p.with_options(execution_mode="sometimes")
