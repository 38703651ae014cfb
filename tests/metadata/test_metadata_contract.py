"""The contract of MetadataStore, run against SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trellis.exceptions import MetadataStoreError, NotFoundError
from trellis.metadata import ExecutionStatus, MetadataStore, Page

if TYPE_CHECKING:
    from conftest import Driver

# -- runs and pipelines ------------------------------------------------------------


def test_create_run_round_trips(store: MetadataStore, driver: Driver) -> None:
    run = driver.run("training-1")

    assert run.status is ExecutionStatus.RUNNING
    assert run.pipeline_name == "training"
    assert run.created_at.tzinfo is UTC
    assert store.get_run(run.id) == run
    assert store.get_run("training-1") == run


def test_runs_of_one_pipeline_share_its_row(store: MetadataStore, driver: Driver) -> None:
    first, second = driver.run(), driver.run()

    assert first.pipeline_id == second.pipeline_id
    assert store.get_pipeline("training").id == first.pipeline_id
    assert store.list_pipelines().total == 1


def test_duplicate_run_name_is_refused(store: MetadataStore, driver: Driver) -> None:
    driver.run("nightly")

    with pytest.raises(MetadataStoreError, match="run name is taken") as info:
        driver.run("nightly", pipeline="other")

    assert "'nightly'" in str(info.value)
    assert "Choose another run name" in str(info.value)
    assert store.list_runs().total == 1
    # The failed transaction left no pipeline behind and the store still works.
    assert [p.name for p in store.list_pipelines().items] == ["training"]
    driver.run("nightly-2", pipeline="other")


def test_get_run_not_found(store: MetadataStore) -> None:
    with pytest.raises(NotFoundError) as info:
        store.get_run("nope")
    assert str(info.value) == (
        "No pipeline run named or with id 'nope'. List runs with `trellis runs list`."
    )


def test_get_pipeline_not_found(store: MetadataStore) -> None:
    with pytest.raises(NotFoundError, match=r"No pipeline named 'x'.*trellis pipelines list"):
        store.get_pipeline("x")


def test_list_pipelines_newest_first_and_paginated(store: MetadataStore, driver: Driver) -> None:
    for name in ("a", "b", "c"):
        driver.run(pipeline=name)

    page = store.list_pipelines(offset=1, limit=1)

    assert [p.name for p in store.list_pipelines().items] == ["c", "b", "a"]
    assert (page.total, page.offset, page.limit) == (3, 1, 1)
    assert [p.name for p in page.items] == ["b"]


def test_finish_run(store: MetadataStore, driver: Driver) -> None:
    run = driver.run()
    ended = datetime.now(UTC)

    store.finish_run(run.id, status=ExecutionStatus.FAILED, ended_at=ended, error="boom")

    got = store.get_run(run.id)
    assert (got.status, got.ended_at, got.error) == (ExecutionStatus.FAILED, ended, "boom")


def test_finish_unknown_run(store: MetadataStore) -> None:
    with pytest.raises(NotFoundError, match="no run has this id"):
        store.finish_run("0" * 32, status=ExecutionStatus.COMPLETED, ended_at=datetime.now(UTC))


def test_list_runs_newest_first_with_filters(store: MetadataStore, driver: Driver) -> None:
    runs = [driver.run(f"r{i}", pipeline="even" if i % 2 == 0 else "odd") for i in range(6)]
    store.finish_run(runs[2].id, status=ExecutionStatus.FAILED, ended_at=datetime.now(UTC))

    def names(page: Page[Any]) -> list[str]:
        return [run.name for run in page.items]

    assert names(store.list_runs()) == ["r5", "r4", "r3", "r2", "r1", "r0"]
    assert names(store.list_runs(pipeline_name="even")) == ["r4", "r2", "r0"]
    assert names(store.list_runs(status=ExecutionStatus.FAILED)) == ["r2"]
    assert names(store.list_runs(pipeline_name="odd", status=ExecutionStatus.FAILED)) == []
    window = store.list_runs(created_after=runs[1].created_at, created_before=runs[4].created_at)
    assert names(window) == ["r3", "r2"]
    page = store.list_runs(pipeline_name="even", offset=1, limit=1)
    assert (names(page), page.total) == (["r2"], 3)
    assert store.list_runs(pipeline_name="missing").total == 0


def test_list_runs_rejects_negative_offset(store: MetadataStore) -> None:
    with pytest.raises(ValueError, match="offset and limit must be >= 0"):
        store.list_runs(offset=-1)


def test_timestamps_are_utc_aware(store: MetadataStore) -> None:
    plus_two = timezone(timedelta(hours=2))
    started = datetime(2024, 5, 1, 14, 0, 0, 123456, tzinfo=plus_two)
    run = store.create_run(
        pipeline_name="p",
        run_name="tz",
        parameters={},
        environment={},
        config={},
        plan={},
        outputs={},
        started_at=started,
    )
    # Naive datetimes are taken to be UTC.
    store.finish_run(run.id, status=ExecutionStatus.COMPLETED, ended_at=datetime(2024, 5, 1, 13))

    got = store.get_run("tz")
    assert got.started_at == started
    assert got.started_at is not None
    assert got.started_at.tzinfo is UTC
    assert got.started_at.hour == 12
    assert got.ended_at == datetime(2024, 5, 1, 13, tzinfo=UTC)


def _keys(max_size: int) -> st.SearchStrategy[str]:
    # neither NUL nor lone surrogates (not valid Unicode) can be stored in PostgreSQL text
    alphabet = st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")
    return st.text(alphabet, max_size=max_size)


# JSONB keeps numbers as ``numeric`` and prints an integral float of 1e16 or more
# without a decimal point, so it comes back as an int; stay below that. NUL
# characters cannot be stored in PostgreSQL text at all.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(min_value=-1e15, max_value=1e15)
    | st.text(
        st.characters(categories=["L", "M", "N", "P", "S", "Z"], blacklist_characters="\x00")
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys(5), inner),
    max_leaves=8,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(parameters=st.dictionaries(_keys(8), json_values))
def test_json_columns_round_trip(store: MetadataStore, parameters: dict[str, Any]) -> None:
    run = store.create_run(
        pipeline_name="p",
        run_name=uuid.uuid4().hex,
        parameters=parameters,
        environment={},
        config={},
        plan={},
        outputs={},
        started_at=None,
    )
    assert store.get_run(run.id).parameters == parameters


# -- step runs --------------------------------------------------------------------


def test_start_step_run_round_trips(store: MetadataStore, driver: Driver) -> None:
    run = driver.run()
    load_id, versions = driver.complete(run.id, "load", driver.spec("data", "dataset"))
    data = versions["data"]

    step_id = driver.start(run.id, "train", parent_ids=[load_id], inputs=[("data", 0, data.id)])

    step = store.get_step_run(step_id)
    assert (step.run_id, step.name, step.step_name) == (run.id, "train", "train")
    assert step.status is ExecutionStatus.RUNNING
    assert (step.code_hash, step.source_code, step.cache_key) == (
        "c0de",
        "def train(): ...",
        "key-1",
    )
    assert (step.parameters, step.cache_parts) == ({"lr": 0.1}, {"code": "c0de"})
    assert step.parent_ids == (load_id,)
    assert step.ended_at is None
    assert step.started_at is not None
    inputs, outputs = store.get_step_io([step_id])[step_id]
    assert [(i.name, i.position, i.artifact_version) for i in inputs] == [("data", 0, data)]
    assert outputs == []


def test_get_step_run_not_found(store: MetadataStore) -> None:
    with pytest.raises(NotFoundError, match="No step run with id 'x'"):
        store.get_step_run("x")


def test_list_step_runs_in_creation_order_with_parents(
    store: MetadataStore, driver: Driver
) -> None:
    run = driver.run()
    a = driver.start(run.id, "a")
    b = driver.start(run.id, "b", parent_ids=[a])
    c = driver.start(run.id, "c", parent_ids=[b, a, a])
    store.record_skipped_step_runs(run.id, [("d", "d"), ("e", "e"), ("f", "f")], datetime.now(UTC))
    driver.start(driver.run().id, "other-run")

    steps = store.list_step_runs(run.id)

    assert [s.name for s in steps] == ["a", "b", "c", "d", "e", "f"]
    assert [s.id for s in steps[:3]] == [a, b, c]
    assert [sorted(s.parent_ids) for s in steps[:3]] == [[], [a], sorted([a, b])]
    assert {s.status for s in steps[3:]} == {ExecutionStatus.SKIPPED}
    assert store.list_step_runs("unknown") == []


def test_finish_step_run_failure_keeps_error(store: MetadataStore, driver: Driver) -> None:
    step_id = driver.start(driver.run().id)

    versions = store.finish_step_run(
        step_id,
        status=ExecutionStatus.FAILED,
        ended_at=datetime.now(UTC),
        outputs=[],
        error="ValueError: bad",
        traceback="Traceback ...",
    )

    step = store.get_step_run(step_id)
    assert versions == {}
    assert (step.status, step.error, step.traceback) == (
        ExecutionStatus.FAILED,
        "ValueError: bad",
        "Traceback ...",
    )


def test_finish_step_run_records_when_the_worker_started(
    store: MetadataStore, driver: Driver
) -> None:
    step_id = driver.start(driver.run().id)
    submitted = store.get_step_run(step_id).started_at
    assert submitted is not None
    began = submitted + timedelta(seconds=5)

    store.finish_step_run(
        step_id,
        status=ExecutionStatus.COMPLETED,
        ended_at=began + timedelta(seconds=1),
        outputs=[],
        started_at=began,
    )

    step = store.get_step_run(step_id)
    assert (step.started_at, step.ended_at) == (began, began + timedelta(seconds=1))


def test_finish_unknown_step_run(store: MetadataStore, driver: Driver) -> None:
    with pytest.raises(NotFoundError, match="no step run has this id"):
        store.finish_step_run(
            "x",
            status=ExecutionStatus.COMPLETED,
            ended_at=datetime.now(UTC),
            outputs=[driver.spec()],
        )
    assert store.list_artifacts().total == 0


def test_start_step_run_of_unknown_run_is_a_store_error(
    store: MetadataStore, driver: Driver
) -> None:
    with pytest.raises(MetadataStoreError, match="Could not start the step run 'train'"):
        driver.start("0" * 32)


# -- artifact versions ------------------------------------------------------------


def test_versions_number_1_2_3_per_name(store: MetadataStore, driver: Driver) -> None:
    run = driver.run()
    numbers = []
    for i in range(3):
        _, versions = driver.complete(
            run.id, f"train_{i}", driver.spec("model", "model"), driver.spec("metrics", "metrics")
        )
        numbers.append((versions["model"].version, versions["metrics"].version))
    _, other = driver.complete(run.id, "eval", driver.spec("report", "report"))

    assert numbers == [(1, 1), (2, 2), (3, 3)]
    assert other["report"].version == 1
    assert store.get_artifact_version("model").version == 3


def test_finish_step_run_returns_what_it_stored(store: MetadataStore, driver: Driver) -> None:
    run = driver.run()
    step_id, versions = driver.complete(run.id, "train", driver.spec("out", "model", size=99))

    stored = store.get_artifact_version(versions["out"].id)

    assert stored == versions["out"]
    assert stored.producer_step_run_id == step_id
    assert (stored.name, stored.size, stored.metadata) == ("model", 99, {"keys": 2})
    assert store.get_step_run(step_id).status is ExecutionStatus.COMPLETED
    _, outputs = store.get_step_io([step_id])[step_id]
    assert [(o.name, o.artifact_version) for o in outputs] == [("out", stored)]


def test_get_artifact_version_by_name_id_and_number(store: MetadataStore, driver: Driver) -> None:
    run = driver.run()
    first = driver.complete(run.id, "a", driver.spec())[1]["output"]
    second = driver.complete(run.id, "b", driver.spec())[1]["output"]

    assert store.get_artifact_version("model") == second
    assert store.get_artifact_version("model", 1) == first
    assert store.get_artifact_version(first.artifact_id, 2) == second
    assert store.get_artifact_version(first.id) == first


def test_get_artifact_version_not_found(store: MetadataStore, driver: Driver) -> None:
    driver.complete(driver.run().id, "a", driver.spec())

    with pytest.raises(NotFoundError) as unknown:
        store.get_artifact_version("nope")
    with pytest.raises(NotFoundError) as missing_version:
        store.get_artifact_version("model", 7)

    assert str(unknown.value) == (
        "No artifact version named or with id 'nope'. "
        "List artifacts and their latest versions with `trellis artifacts list`."
    )
    assert str(missing_version.value).startswith(
        "No version 7 of an artifact named or with id 'model'."
    )
    assert "`trellis artifacts list`" in str(missing_version.value)


def test_list_artifact_versions_newest_first(store: MetadataStore, driver: Driver) -> None:
    run = driver.run()
    for i in range(5):
        driver.complete(run.id, f"s_{i}", driver.spec())

    page = store.list_artifact_versions("model", offset=1, limit=2)

    assert [v.version for v in store.list_artifact_versions("model").items] == [5, 4, 3, 2, 1]
    assert ([v.version for v in page.items], page.total) == ([4, 3], 5)
    with pytest.raises(NotFoundError, match="No artifact named 'nope'"):
        store.list_artifact_versions("nope")


def test_list_artifacts_filters_by_name(store: MetadataStore, driver: Driver) -> None:
    run = driver.run()
    for name in ("Model", "dataset", "model_100%", "metrics"):
        driver.complete(run.id, f"s_{name}", driver.spec(artifact=name))

    def names(**kw: Any) -> list[str]:
        return [a.name for a in store.list_artifacts(**kw).items]

    assert names() == ["metrics", "model_100%", "dataset", "Model"]
    assert names(name_contains="model") == ["model_100%", "Model"]
    assert names(name_contains="0%") == ["model_100%"]
    assert names(name_contains="l_") == ["model_100%"]  # "_" is not a wildcard
    page = store.list_artifacts(offset=3, limit=10)
    assert (page.total, [a.name for a in page.items]) == (4, ["Model"])
    assert store.list_artifacts().items[0].latest_version == 1


def test_get_step_io_of_many_step_runs_in_constant_queries(
    store: MetadataStore, driver: Driver
) -> None:
    run = driver.run()
    _, versions = driver.complete(run.id, "load", driver.spec("a", "a"), driver.spec("b", "b"))
    a, b = versions["a"], versions["b"]
    ids = [
        driver.start(run.id, f"use_{i}", inputs=[("xs", 1, b.id), ("xs", 0, a.id), ("y", 0, a.id)])
        for i in range(20)
    ]
    statements: list[str] = []
    engine = store._engine.engine

    def count(*args: Any) -> None:
        statements.append(args[2])

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        one = store.get_step_io(ids[:1])
        first_count = len(statements)
        statements.clear()
        many = store.get_step_io([*ids, "unknown"])
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)

    assert len(statements) == first_count
    assert one[ids[0]] == many[ids[0]]
    inputs, outputs = many[ids[5]]
    assert [(i.name, i.position, i.artifact_version.name) for i in inputs] == [
        ("xs", 0, "a"),
        ("xs", 1, "b"),
        ("y", 0, "a"),
    ]
    assert outputs == []
    assert many["unknown"] == ([], [])
