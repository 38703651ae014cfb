"""The step cache of MetadataStore (hits, misses, clearing), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from trellis.metadata import ExecutionStatus, MetadataStore

if TYPE_CHECKING:
    from conftest import Driver


@contextmanager
def statements(store: MetadataStore) -> Iterator[list[tuple[str, Any]]]:
    """Collect ``(SQL, parameters)`` of every query the store sends meanwhile.

    SQLite's explicit ``BEGIN`` is left out: it opens the transaction, it is no query.
    """
    sent: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        if not args[2].startswith("BEGIN"):
            sent.append((args[2], args[3]))

    engine = store._engine.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


# -- hits -------------------------------------------------------------------------


def test_cached_step_run_links_existing_versions(store: MetadataStore, driver: Driver) -> None:
    first_run, second_run = driver.run(), driver.run()
    original, versions = driver.complete(first_run.id, "train", driver.spec("model", "model"))
    at = datetime.now(UTC)

    cached = store.record_cached_step_run(
        run_id=second_run.id,
        name="train",
        step_name="train",
        parameters={"lr": 0.1},
        code_hash="c0de",
        source_code=None,
        cache_key="key-1",
        cache_parts={"code": "c0de"},
        parent_ids=[],
        inputs=[],
        original_step_run_id=original,
        outputs={"model": versions["model"].id},
        at=at,
    )

    step = store.get_step_run(cached)
    assert step.status is ExecutionStatus.CACHED
    assert (step.original_step_run_id, step.started_at, step.ended_at) == (original, at, at)
    _, outputs = store.get_step_io([cached])[cached]
    assert [(o.name, o.artifact_version) for o in outputs] == [("model", versions["model"])]
    assert store.get_artifact_version("model").version == 1  # no new version


def test_find_cached_step_runs(store: MetadataStore, driver: Driver) -> None:
    run = driver.run()
    parent, _ = driver.complete(run.id, "load", cache_key="load-key")
    old, _ = driver.complete(run.id, "t_1", driver.spec("model"), cache_key="k")
    new, new_versions = driver.complete(
        run.id, "t_2", driver.spec("model"), cache_key="k", parent_ids=[parent]
    )
    driver.complete(run.id, "other", driver.spec("model"), cache_key="other-key")
    driver.fail(run.id, "t_3", cache_key="k")
    driver.start(run.id, "t_4", cache_key="k")  # still running
    driver.reuse(run.id, new, "t_5", cache_key="k")

    hits = store.find_cached_step_runs("k")

    assert [step.id for step, _ in hits] == [new, old]
    assert hits[0] == (store.get_step_run(new), new_versions)
    assert hits[0][0].parent_ids == (parent,)
    assert [step.id for step, _ in store.find_cached_step_runs("k", limit=1)] == [new]
    assert store.find_cached_step_runs("nope") == []
    with pytest.raises(ValueError, match="limit must be >= 0"):
        store.find_cached_step_runs("k", limit=-1)


def test_find_cache_candidates_is_the_lean_hot_path(store: MetadataStore, driver: Driver) -> None:
    run = driver.run()
    old, old_versions = driver.complete(run.id, "t_1", driver.spec("model"), cache_key="k")
    new, new_versions = driver.complete(
        run.id, "t_2", driver.spec("model"), driver.spec("metrics", "metrics"), cache_key="k"
    )
    empty, _ = driver.complete(run.id, "t_3", cache_key="k")  # a step without outputs
    driver.fail(run.id, "t_4", cache_key="k")
    driver.start(run.id, "t_5", cache_key="k")  # still running
    driver.reuse(run.id, new, "t_6", cache_key="k")
    driver.complete(run.id, "t_7", driver.spec("model"), cache_key="k")
    store.clear_cache(step_name="t_7", at=datetime.now(UTC))

    candidates = store.find_cache_candidates("k")

    assert [c.step_run_id for c in candidates] == [empty, new, old]
    assert candidates[0].outputs == {}
    assert dict(candidates[1].outputs) == new_versions
    assert dict(candidates[2].outputs) == old_versions
    assert candidates[1].ended_at == store.get_step_run(new).ended_at
    assert store.find_cache_candidates("nope") == []


# -- clearing ---------------------------------------------------------------------


def test_new_step_runs_are_not_cleared(store: MetadataStore, driver: Driver) -> None:
    run = driver.run()
    done, _ = driver.complete(run.id, "a")
    driver.start(run.id, "b")
    driver.fail(run.id, "c")
    driver.reuse(run.id, done, "d")
    store.record_skipped_step_runs(run.id, [("e", "e")], datetime.now(UTC))

    steps = store.list_step_runs(run.id)

    assert len(steps) == 5
    assert [s.cache_cleared_at for s in steps] == [None] * 5


def test_clear_cache_clears_only_completed_step_runs_with_a_key(
    store: MetadataStore, driver: Driver
) -> None:
    run = driver.run()
    completed = [driver.complete(run.id, f"s_{i}", driver.spec())[0] for i in range(3)]
    driver.complete(run.id, "unkeyed", cache_key=None)
    driver.fail(run.id, "failed")
    driver.start(run.id, "running")
    driver.reuse(run.id, completed[0], "cached")
    store.record_skipped_step_runs(run.id, [("skipped", "skipped")], datetime.now(UTC))
    at = datetime(2030, 1, 2, 3, 4, 5, 6, tzinfo=UTC)

    count = store.clear_cache(at=at)

    cleared = {s.id: s.cache_cleared_at for s in store.list_step_runs(run.id)}
    assert count == 3
    assert {i for i, when in cleared.items() if when is not None} == set(completed)
    assert {cleared[i] for i in completed} == {at}
    # Already cleared runs keep the first stamp and are not counted again.
    assert store.clear_cache(at=at + timedelta(days=1)) == 0
    assert store.get_step_run(completed[0]).cache_cleared_at == at
    # Artifacts are untouched.
    assert store.list_artifact_versions("model").total == 3


T0 = datetime(2024, 1, 1, tzinfo=UTC)
T1 = datetime(2024, 1, 2, tzinfo=UTC)
T2 = datetime(2024, 1, 3, tzinfo=UTC)
ALL = {"training/train", "training/train_2", "training/load", "scoring/train", "scoring/score"}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        pytest.param({}, ALL, id="everything"),
        pytest.param(
            {"pipeline_name": "training"},
            {"training/train", "training/train_2", "training/load"},
            id="pipeline",
        ),
        pytest.param(
            {"step_name": "train"},
            {"training/train", "training/train_2", "scoring/train"},
            id="step-name-matches-invocation-or-definition",
        ),
        pytest.param({"step_name": "train_2"}, {"training/train_2"}, id="step-invocation-only"),
        pytest.param(
            {"older_than": T1},
            {"training/train", "training/load", "scoring/train"},
            id="older-than",
        ),
        pytest.param(
            {"older_than": T2},
            {"training/train", "training/load", "scoring/train"},
            id="older-than-is-strict",
        ),
        pytest.param(
            {"pipeline_name": "training", "step_name": "train", "older_than": T1},
            {"training/train"},
            id="all-filters",
        ),
        pytest.param({"pipeline_name": "scoring", "step_name": "load"}, set(), id="no-match"),
        pytest.param({"pipeline_name": "missing"}, set(), id="unknown-pipeline"),
    ],
)
def test_clear_cache_filters(
    store: MetadataStore, driver: Driver, filters: dict[str, Any], expected: set[str]
) -> None:
    ids: dict[str, str] = {}
    for pipeline, steps in {
        "training": [("train", T0), ("train_2", T2), ("load", T0)],
        "scoring": [("train", T0), ("score", T2)],
    }.items():
        run = driver.run(pipeline=pipeline)
        for name, ended in steps:
            ids[f"{pipeline}/{name}"] = driver.complete(run.id, name, ended_at=ended)[0]
    at = datetime.now(UTC)

    count = store.clear_cache(**filters, at=at)

    cleared = {key for key, i in ids.items() if store.get_step_run(i).cache_cleared_at == at}
    assert (count, cleared) == (len(expected), expected)
    assert count == len(store.find_step_runs_by_cache_key("key-1", limit=10)) - len(
        store.find_cached_step_runs("key-1", limit=10)
    )


def test_cleared_step_runs_serve_no_hits_but_explain_misses(
    store: MetadataStore, driver: Driver
) -> None:
    run = driver.run()
    old, _ = driver.complete(run.id, "t_1", driver.spec("model"), cache_key="k")
    new, versions = driver.complete(run.id, "t_2", driver.spec("model"), cache_key="k")
    at = datetime.now(UTC)

    assert store.clear_cache(step_name="t_2", at=at) == 1

    assert [step.id for step, _ in store.find_cached_step_runs("k")] == [old]
    found = store.find_step_runs_by_cache_key("k")
    assert [(s.id, s.cache_cleared_at) for s in found] == [(new, at), (old, None)]
    assert store.clear_cache(at=at) == 1
    assert store.find_cached_step_runs("k") == []
    assert [s.id for s in store.find_step_runs_by_cache_key("k")] == [new, old]
    _, outputs = store.get_step_io([new])[new]
    assert [(o.name, o.artifact_version) for o in outputs] == [("model", versions["model"])]


# -- explaining misses ------------------------------------------------------------


def test_find_step_runs_by_cache_key_in_any_status_in_one_query(
    store: MetadataStore, driver: Driver
) -> None:
    run = driver.run()
    parent, _ = driver.complete(run.id, "load", cache_key="other")
    done, _ = driver.complete(run.id, "t_1", cache_key="k", parent_ids=[parent])
    failed = driver.fail(run.id, "t_2", cache_key="k")
    running = driver.start(run.id, "t_3", cache_key="k")
    cached = driver.reuse(run.id, done, "t_4", cache_key="k", parent_ids=[running, parent])

    with statements(store) as sent:
        found = store.find_step_runs_by_cache_key("k")

    assert len(sent) == 1
    assert [s.id for s in found] == [cached, running, failed, done]
    assert [s.status for s in found] == [
        ExecutionStatus.CACHED,
        ExecutionStatus.RUNNING,
        ExecutionStatus.FAILED,
        ExecutionStatus.COMPLETED,
    ]
    assert found == [store.get_step_run(i) for i in (cached, running, failed, done)]
    assert found[0].parent_ids == tuple(sorted([running, parent]))
    assert [s.id for s in store.find_step_runs_by_cache_key("k", limit=2)] == [cached, running]
    assert store.find_step_runs_by_cache_key("nope") == []
    with pytest.raises(ValueError, match="limit must be >= 0"):
        store.find_step_runs_by_cache_key("k", limit=-1)


def test_previous_step_run_picks_the_newest_comparable_one(
    store: MetadataStore, driver: Driver
) -> None:
    def created(step_run_id: str) -> datetime:
        return store.get_step_run(step_run_id).created_at

    first = driver.complete(driver.run(pipeline="training").id, "train")[0]
    failed = driver.fail(driver.run(pipeline="training").id, "train")
    driver.complete(driver.run(pipeline="scoring").id, "train")  # another pipeline
    later = driver.run(pipeline="training")
    driver.start(later.id, "train")  # still running
    driver.complete(later.id, "train_2")  # another invocation of the same step
    store.record_skipped_step_runs(later.id, [("train", "train")], datetime.now(UTC))
    stopped = driver.start(later.id, "train")
    store.finish_step_run(
        stopped, status=ExecutionStatus.STOPPED, ended_at=datetime.now(UTC), outputs=[]
    )
    reused = driver.reuse(driver.run(pipeline="training").id, first, "train", parent_ids=[failed])
    current = driver.start(driver.run(pipeline="training").id, "train")
    now = created(current)

    with statements(store) as sent:
        previous = store.previous_step_run(pipeline_name="training", name="train", before=now)

    assert len(sent) == 1
    assert previous == store.get_step_run(reused)
    assert previous is not None
    assert previous.parent_ids == (failed,)

    def before(step_run_id: str, pipeline: str = "training", name: str = "train") -> str | None:
        found = store.previous_step_run(
            pipeline_name=pipeline, name=name, before=created(step_run_id)
        )
        return None if found is None else found.id

    assert before(reused) == failed
    assert before(failed) == first
    assert before(first) is None
    assert before(current, pipeline="missing") is None
    assert before(current, name="evaluate") is None


def test_previous_step_run_is_served_by_the_name_index(
    tmp_path: Path, driver_type: type[Driver]
) -> None:
    # SQLite only: its planner picks indexes by fixed rules, whereas PostgreSQL
    # weighs table statistics and rightly scans a table of three rows.
    with MetadataStore(f"sqlite:///{tmp_path / 'trellis.db'}") as store:
        driver = driver_type(store)
        run = driver.run()
        for i in range(3):
            driver.complete(run.id, f"s_{i}")
        with statements(store) as sent:
            store.previous_step_run(pipeline_name="training", name="s_1", before=datetime.now(UTC))
        [(query, parameters)] = sent
        with store._engine.engine.connect() as conn:
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}", parameters).all()

    details = [row[-1] for row in plan]
    assert any("step_runs USING INDEX ix_step_runs_name_created_at" in d for d in details), details
