"""The same pipeline behaviour on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Annotated

import pytest

from trellis import Client, ExecutionStatus, StepFailedError, pipeline, step


@step
def source(n: int) -> Annotated[int, "source_value"]:
    return n


@step
def square(x: int) -> int:
    return x * x


@step
def explode(x: int) -> int:
    raise KeyError(x)


@pipeline
def squares(n: int = 3) -> Annotated[int, "squared"]:
    return square(source(n))


@pipeline
def exploding() -> None:
    square(explode(source(1)))


def test_run_cache_versions_and_failure(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRELLIS_STORE", store_url)
    first = squares(n=3)
    second = squares(n=3)
    third = squares(n=4)
    assert first.outputs["squared"].load() == 9
    assert second.steps["square"].status is ExecutionStatus.CACHED
    assert third.outputs["squared"].load() == 16
    client = Client()
    assert client.settings.store_url == store_url
    assert [v.version for v in client.list_artifact_versions("source_value").items] == [2, 1]
    with pytest.raises(StepFailedError, match="step `explode` raised KeyError: 1"):
        exploding()
    failed = client.get_pipeline("exploding").last_run
    assert failed.status is ExecutionStatus.FAILED
    assert failed.steps["square"].status is ExecutionStatus.SKIPPED
    assert [r.status for r in client.get_pipeline("squares").runs] == [
        ExecutionStatus.COMPLETED
    ] * 3
