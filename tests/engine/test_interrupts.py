"""Interrupted runs end `stopped` with every step recorded; SystemExit in a step is a failure."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from trellis import Client, ExecutionStatus, StepFailedError, pipeline, step


@step
def first() -> int:
    return 1


@step
def after(x: int) -> int:
    return x + 1


def test_keyboard_interrupt_inside_an_inline_step_stops_the_run() -> None:
    @step
    def interrupted(x: int) -> int:
        raise KeyboardInterrupt

    @pipeline(max_parallelism=1)
    def stoppable() -> None:
        after(interrupted(first()))

    with pytest.raises(KeyboardInterrupt):
        stoppable()
    run = Client().get_pipeline("stoppable").last_run
    assert run.status is ExecutionStatus.STOPPED
    assert {name: s.status for name, s in run.steps.items()} == {
        "first": ExecutionStatus.COMPLETED,
        "interrupted": ExecutionStatus.STOPPED,
        "after": ExecutionStatus.SKIPPED,
    }
    assert run.end_time is not None


def test_system_exit_in_a_step_is_a_step_failure() -> None:
    @step
    def exits(x: int) -> int:
        sys.exit(3)

    @pipeline(max_parallelism=2)
    def exiting() -> None:
        exits(first())

    with pytest.raises(StepFailedError, match="step `exits` raised SystemExit: 3"):
        exiting()
    run = Client().get_pipeline("exiting").last_run
    assert run.steps["exits"].status is ExecutionStatus.FAILED


SIGINT_SCRIPT = """
import sys, time
from pathlib import Path
from trellis import pipeline, step

@step
def slow(n: int) -> int:
    Path(sys.argv[1] + str(n)).write_text("started")
    time.sleep(float(sys.argv[2]))
    return n

@step
def later(x: int) -> int:
    return x

def cleanup() -> None:
    Path(sys.argv[1] + ".cleaned").write_text("cleaned")

@pipeline(max_parallelism=2, on_cleanup=cleanup)
def interruptible() -> None:
    later(slow(1))
    slow(2)  # two steps at once: they run in worker threads, which Ctrl-C awaits

interruptible()
"""


def _start_two_slow_steps(
    tmp_path: Path, home: Path, seconds: float
) -> tuple[subprocess.Popen[str], Path]:
    """Run SIGINT_SCRIPT in a subprocess; return once both slow steps are running."""
    flag = tmp_path / "started"
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(SIGINT_SCRIPT), str(flag), str(seconds)],
        env={**os.environ, "TRELLIS_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not all(Path(f"{flag}{n}").exists() for n in (1, 2)):  # wait for the event
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the steps never started"
        time.sleep(0.01)
    return process, flag


def _statuses() -> tuple[ExecutionStatus, dict[str, ExecutionStatus]]:
    run = Client().get_pipeline("interruptible").last_run
    return run.status, {name: s.status for name, s in run.steps.items()}


def test_sigint_awaits_running_steps_and_leaves_a_stopped_run(
    tmp_path: Path, trellis_home: Path
) -> None:
    process, flag = _start_two_slow_steps(tmp_path, trellis_home, 1.5)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "KeyboardInterrupt" in err
    assert _statuses() == (
        ExecutionStatus.STOPPED,
        {
            "slow": ExecutionStatus.COMPLETED,
            "slow_2": ExecutionStatus.COMPLETED,
            "later": ExecutionStatus.SKIPPED,
        },
    )
    assert Client().get_pipeline("interruptible").last_run.error == (
        "interrupted (KeyboardInterrupt)"
    )
    assert Path(f"{flag}.cleaned").read_text() == "cleaned"  # on_cleanup ran


def test_a_second_sigint_abandons_running_steps_but_records_them(
    tmp_path: Path, trellis_home: Path
) -> None:
    process, flag = _start_two_slow_steps(tmp_path, trellis_home, 3)
    process.send_signal(signal.SIGINT)
    assert process.stderr is not None
    for line in process.stderr:  # the driver is now waiting for the running steps
        if "Ctrl-C again abandons them" in line:
            break
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    assert process.returncode != 0
    assert _statuses() == (
        ExecutionStatus.STOPPED,
        {
            "slow": ExecutionStatus.STOPPED,
            "slow_2": ExecutionStatus.STOPPED,
            "later": ExecutionStatus.SKIPPED,
        },
    )
    assert Path(f"{flag}.cleaned").read_text() == "cleaned"  # on_cleanup ran here too
