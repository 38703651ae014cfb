"""Retried attempts, logs, visualizations and saved artifacts, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from trellis.metadata import (
    AttemptRecord,
    AttemptSpec,
    ExecutionStatus,
    MetadataStore,
    _step_finish,
)

if TYPE_CHECKING:
    from conftest import Driver

SqlLog = Callable[[], AbstractContextManager[list[str]]]
T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)
NEW_TABLES = ("tags", "tag_links", "run_metadata", "step_run_attempts")


def failed(attempt: int, error: str = "timed out") -> AttemptSpec:
    start = T0 + timedelta(minutes=attempt)
    return AttemptSpec(attempt, start, start + timedelta(seconds=5), error, f"Traceback {attempt}")


def test_attempts_and_log_uri_round_trip(store: MetadataStore, driver: Driver) -> None:
    run = driver.run()
    step_id = driver.start(run.id, cache_key="k")

    store.finish_step_run(
        step_id,
        status=ExecutionStatus.COMPLETED,
        ended_at=datetime.now(UTC),
        outputs=[driver.spec()],
        attempts=3,
        log_uri="/artifacts/logs/train.log",
        failed_attempts=[failed(2, "second"), failed(1)],
    )

    step = store.get_step_run(step_id)
    assert (step.attempts, step.log_uri) == (3, "/artifacts/logs/train.log")
    assert store.list_step_runs(run.id) == [step]
    assert store.find_cached_step_runs("k")[0][0] == step
    first, second = (T0 + timedelta(minutes=n) for n in (1, 2))
    five = timedelta(seconds=5)
    assert store.get_attempts([step_id]) == {
        step_id: [
            AttemptRecord(step_id, 1, first, first + five, "timed out", "Traceback 1"),
            AttemptRecord(step_id, 2, second, second + five, "second", "Traceback 2"),
        ]
    }


def test_a_failed_step_keeps_every_attempt(store: MetadataStore, driver: Driver) -> None:
    step_id = driver.start(driver.run().id)

    store.finish_step_run(
        step_id,
        status=ExecutionStatus.FAILED,
        ended_at=datetime.now(UTC),
        outputs=[],
        error="ConnectionError: still down",
        attempts=2,
        failed_attempts=[AttemptSpec(1, None, None, None, None)],
    )

    step = store.get_step_run(step_id)
    assert (step.status, step.attempts, step.error) == (
        ExecutionStatus.FAILED,
        2,
        "ConnectionError: still down",
    )
    assert store.get_attempts([step_id])[step_id] == [
        AttemptRecord(step_id, 1, None, None, None, None)
    ]


def test_step_runs_default_to_one_attempt_without_logs(
    store: MetadataStore, driver: Driver
) -> None:
    run = driver.run()
    completed, _ = driver.complete(run.id, "a")
    running = driver.start(run.id, "b")
    cached = driver.reuse(run.id, completed, "c")
    store.record_skipped_step_runs(run.id, [("d", "d")], datetime.now(UTC))

    steps = store.list_step_runs(run.id)

    assert [(s.name, s.attempts, s.log_uri) for s in steps] == [(name, 1, None) for name in "abcd"]
    ids = [completed, running, cached, steps[-1].id, "unknown"]
    assert store.get_attempts(ids) == {i: [] for i in ids}


def test_get_attempts_of_many_step_runs_in_one_query(
    store: MetadataStore, driver: Driver, sql_log: SqlLog
) -> None:
    run = driver.run()
    ids = []
    for i in range(20):
        step_id = driver.start(run.id, f"s_{i}")
        store.finish_step_run(
            step_id,
            status=ExecutionStatus.COMPLETED,
            ended_at=datetime.now(UTC),
            outputs=[],
            attempts=1 + i % 3,
            failed_attempts=[failed(n) for n in range(1, 1 + i % 3)],
        )
        ids.append(step_id)

    with sql_log() as sent:
        attempts = store.get_attempts(ids)

    assert len(sent) == 1
    assert [len(attempts[i]) for i in ids[:4]] == [0, 1, 2, 0]
    assert [a.attempt for a in attempts[ids[5]]] == [1, 2]


@pytest.mark.parametrize(
    ("attempts", "numbers", "message"),
    [
        pytest.param(0, [], "attempts must be >= 1 (the last attempt counts), got 0.", id="zero"),
        pytest.param(
            1,
            [1],
            "Failed attempt 1 is not one before the last attempt (attempts=1): failed "
            "attempts are numbered 1 to 0.",
            id="last-is-not-failed",
        ),
        pytest.param(3, [0], "Failed attempt 0 is not one before", id="below-one"),
        pytest.param(3, [3], "Failed attempt 3 is not one before", id="the-last-one"),
        pytest.param(
            3, [1, 1], "Failed attempts must have distinct numbers, got [1, 1].", id="twice"
        ),
    ],
)
def test_bad_attempt_numbers_are_refused(
    store: MetadataStore,
    driver: Driver,
    count_rows: Any,
    attempts: int,
    numbers: list[int],
    message: str,
) -> None:
    step_id = driver.start(driver.run().id)

    with pytest.raises(ValueError, match="attempt") as info:
        store.finish_step_run(
            step_id,
            status=ExecutionStatus.COMPLETED,
            ended_at=datetime.now(UTC),
            outputs=[],
            attempts=attempts,
            failed_attempts=[failed(n) for n in numbers],
        )

    assert str(info.value).startswith(message)
    assert store.get_step_run(step_id).status is ExecutionStatus.RUNNING
    assert count_rows("step_run_attempts") == 0


def test_visualizations_round_trip(store: MetadataStore, driver: Driver) -> None:
    pictures = [
        {"type": kind, "uri": f"/artifacts/m/1/preview.{kind}"}
        for kind in ("html", "markdown", "png", "csv", "json")
    ]
    run = driver.run()

    _, versions = driver.complete(
        run.id, "a", driver.spec("m", "model", visualizations=pictures), driver.spec("d", "data")
    )

    assert versions["m"].visualizations == pictures
    assert store.get_artifact_version(versions["m"].id) == versions["m"]
    assert store.get_artifact_version(versions["d"].id).visualizations == []


@pytest.mark.parametrize(
    "visualization",
    [
        pytest.param({"type": "gif", "uri": "/a.gif"}, id="unknown-type"),
        pytest.param({"type": "png"}, id="no-uri"),
        pytest.param({"type": "png", "uri": ""}, id="empty-uri"),
        pytest.param({"type": "png", "uri": "/a.png", "width": 3}, id="not-text"),
        pytest.param("png", id="not-a-mapping"),
    ],
)
def test_bad_visualizations_are_refused(
    store: MetadataStore, driver: Driver, count_rows: Any, visualization: Any
) -> None:
    step_id = driver.start(driver.run().id)

    with pytest.raises(ValueError, match=r"Invalid visualization .* of output 'm'"):
        store.finish_step_run(
            step_id,
            status=ExecutionStatus.COMPLETED,
            ended_at=datetime.now(UTC),
            outputs=[driver.spec("m", "model", visualizations=[visualization])],
        )

    assert count_rows("artifact_versions") == 0


def test_the_happy_path_writes_nothing_more(
    store: MetadataStore, driver: Driver, sql_log: SqlLog
) -> None:
    step_id = driver.start(driver.run().id)

    with sql_log() as sent:
        store.finish_step_run(
            step_id,
            status=ExecutionStatus.COMPLETED,
            ended_at=datetime.now(UTC),
            outputs=[driver.spec("m", "model"), driver.spec("d", "data")],
        )

    assert [" ".join(statement.split()[:3]) for statement in sent] == [
        "UPDATE step_runs SET",
        "INSERT INTO artifacts",
        "INSERT INTO artifacts",
        "INSERT INTO artifact_versions",
        "INSERT INTO step_run_outputs",
    ]


def test_finish_step_run_is_one_transaction(
    store: MetadataStore,
    driver: Driver,
    count_rows: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run = driver.run()
    step_id = driver.start(run.id)
    everything: dict[str, Any] = {
        "status": ExecutionStatus.COMPLETED,
        "ended_at": datetime.now(UTC),
        "outputs": [driver.spec("m", "model", tags=["prod"], visualizations=[])],
        "attempts": 2,
        "log_uri": "/logs/train",
        "failed_attempts": [failed(1)],
        "metadata": {"rows": 3},
    }

    def crash(*args: Any) -> None:
        raise RuntimeError("driver killed")

    # The step metadata is written last: everything else is in the transaction by then.
    monkeypatch.setattr(_step_finish, "upsert_metadata", crash)
    with pytest.raises(RuntimeError, match="driver killed"):
        store.finish_step_run(step_id, **everything)
    monkeypatch.undo()

    step = store.get_step_run(step_id)
    assert (step.status, step.attempts, step.log_uri) == (ExecutionStatus.RUNNING, 1, None)
    assert {table: count_rows(table) for table in (*NEW_TABLES, "artifact_versions")} == {
        "tags": 0,
        "tag_links": 0,
        "run_metadata": 0,
        "step_run_attempts": 0,
        "artifact_versions": 0,
    }
    versions = store.finish_step_run(step_id, **everything)
    assert versions["m"].version == 1
    assert store.list_artifact_versions("model", tag="prod").items == [versions["m"]]
    assert store.get_metadata("step_run", [step_id])[step_id] == {"rows": 3}


def test_record_artifact_version_outside_a_step(
    store: MetadataStore, driver: Driver, count_rows: Any
) -> None:
    run = driver.run()
    _, first = driver.complete(run.id, "a", driver.spec("m", "model"))
    at = datetime(2024, 6, 1, tzinfo=UTC)
    pictures = [{"type": "json", "uri": "/manual/preview.json"}]

    saved = store.record_artifact_version(
        driver.spec("ignored", "model", tags=["manual"], visualizations=pictures), at=at
    )
    _, third = driver.complete(run.id, "b", driver.spec("m", "model"))

    assert (saved.version, saved.producer_step_run_id, saved.created_at) == (2, None, at)
    assert saved.visualizations == pictures
    assert store.get_artifact_version("model", 2) == saved
    assert store.list_artifact_versions("model", tag="manual").items == [saved]
    assert (first["m"].version, third["m"].version) == (1, 3)
    assert count_rows("step_run_outputs") == 2  # the saved version is no step's output
    with pytest.raises(ValueError, match="Invalid tag ''"):
        store.record_artifact_version(driver.spec(tags=[""]), at=at)
    assert store.get_artifact_version("model").version == 3
