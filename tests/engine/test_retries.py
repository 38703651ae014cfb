"""Retries: attempts are recorded, delays grow by the backoff, hooks wait for the last attempt."""

from __future__ import annotations

import pytest

from trellis import Client, ExecutionStatus, RetryConfig, StepFailedError, pipeline, step

attempts: list[int] = []
failures: list[str] = []


@pytest.fixture(autouse=True)
def _reset() -> None:
    attempts.clear()
    failures.clear()


def note_failure(exc: BaseException) -> None:
    failures.append(str(exc))


@step(retry=RetryConfig(max_retries=3, delay=0.05, backoff=2), on_failure=note_failure)
def flaky() -> int:
    from trellis import get_step_context

    attempt = get_step_context().attempt
    attempts.append(attempt)
    if attempt < 3:
        raise ConnectionError(f"try {attempt} failed")
    return attempt


def test_step_succeeds_on_the_third_attempt_and_attempts_are_recorded() -> None:
    @pipeline
    def retrying() -> None:
        flaky()

    run = retrying()
    step_run = run.steps["flaky"]
    assert attempts == [1, 2, 3]
    assert failures == []  # the failure hook waits for the last attempt
    assert step_run.status is ExecutionStatus.COMPLETED
    assert step_run.output.load() == 3
    assert step_run.attempts == 3
    assert step_run.retried
    failed = step_run.failed_attempts
    assert [(a.attempt, a.error) for a in failed] == [
        (1, "ConnectionError: try 1 failed"),
        (2, "ConnectionError: try 2 failed"),
    ]
    # delay 0.05 s, then 0.1 s (backoff 2)
    assert (failed[1].started_at - failed[0].ended_at).total_seconds() >= 0.05
    assert (step_run.start_time - failed[1].ended_at).total_seconds() >= 0.1


def test_exhausted_retries_fail_the_step_once() -> None:
    always = flaky.with_options(retry=RetryConfig(max_retries=1))

    @pipeline
    def failing() -> None:
        always()

    with pytest.raises(StepFailedError, match="ConnectionError: try 2 failed"):
        failing()
    assert attempts == [1, 2]
    assert failures == ["try 2 failed"]
    step_run = Client().get_pipeline("failing").last_run.steps["flaky"]
    assert step_run.status is ExecutionStatus.FAILED
    assert step_run.attempts == 2
    assert [a.attempt for a in step_run.failed_attempts] == [1]


def test_pipeline_retry_is_the_default_for_its_steps() -> None:
    plain = flaky.with_options(retry=None)
    assert plain.options.retry is not None  # None keeps the step's own setting

    @step
    def wobbly() -> int:
        from trellis import get_step_context

        attempt = get_step_context().attempt
        attempts.append(attempt)
        if attempt == 1:
            raise OSError("once")
        return attempt

    @pipeline(retry=RetryConfig(max_retries=1))
    def defaults() -> None:
        wobbly()

    assert defaults().steps["wobbly"].attempts == 2


def test_retry_config_is_validated() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="max_retries"):
        RetryConfig(max_retries=-1)
    from trellis import DefinitionError

    with pytest.raises(DefinitionError, match=r"retry must be a trellis\.RetryConfig"):
        flaky.with_options(retry=3)  # type: ignore[arg-type]


def test_a_due_retry_waits_for_room_without_spinning(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from trellis.metadata import MetadataStore

    opened = [0]
    original = MetadataStore.transaction

    def counting(self: MetadataStore) -> object:
        opened[0] += 1
        return original(self)

    monkeypatch.setattr(MetadataStore, "transaction", counting)
    gate = threading.Event()

    @step
    def busy(n: int) -> int:
        assert gate.wait(timeout=30)
        return n

    @step(retry=RetryConfig(max_retries=1, delay=0.01))
    def shaky() -> int:
        from trellis import get_step_context

        if get_step_context().attempt == 1:
            raise OSError("first try")
        return 2

    @pipeline(max_parallelism=2, enable_cache=False)
    def crowded() -> None:
        shaky()  # fails at once; its retry is due while busy(1) and busy(2) fill both slots
        busy(1)
        busy(2)

    timer = threading.Timer(0.5, gate.set)  # the busy steps hold both workers for 0.5 s
    timer.start()
    try:
        run = crowded()
    finally:
        timer.cancel()
    assert run.steps["shaky"].attempts == 2
    assert opened[0] < 20  # one per turn of the loop, not a spin while the retry is due
