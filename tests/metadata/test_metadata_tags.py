"""Tags of runs and artifact versions in MetadataStore, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from trellis.exceptions import NotFoundError
from trellis.metadata import ExecutionStatus, MetadataStore, check_tags

if TYPE_CHECKING:
    from conftest import Driver

SqlLog = Callable[[], AbstractContextManager[list[str]]]


def tagged_run(store: MetadataStore, name: str, tags: list[str], pipeline: str = "p") -> str:
    return store.create_run(
        pipeline_name=pipeline,
        run_name=name,
        parameters={},
        environment={},
        config={},
        plan={},
        outputs={},
        started_at=None,
        tags=tags,
    ).id


def test_create_run_links_its_tags(store: MetadataStore) -> None:
    run_id = tagged_run(store, "r1", ["nightly", "baseline", "nightly"])
    tagged_run(store, "r2", [])

    assert store.get_tags("pipeline_run", [run_id]) == {run_id: ["baseline", "nightly"]}
    assert [r.name for r in store.list_runs(tag="nightly").items] == ["r1"]


def test_add_and_remove_tags(store: MetadataStore, driver: Driver, count_rows: Any) -> None:
    first, second = driver.run().id, driver.run().id

    store.add_tags("pipeline_run", first, ["b", "a"])
    store.add_tags("pipeline_run", first, ["a", "c"])  # "a" again: no error, no duplicate
    store.add_tags("pipeline_run", second, ["a"])
    store.remove_tags("pipeline_run", first, ["c", "never-there"])
    store.remove_tags("pipeline_run", second, [])

    assert store.get_tags("pipeline_run", [first, second, "unknown"]) == {
        first: ["a", "b"],
        second: ["a"],
        "unknown": [],
    }
    assert count_rows("tags") == 3  # one row per name, shared by every entity


def test_tags_sort_by_code_point_on_every_backend(store: MetadataStore, driver: Driver) -> None:
    run_id = driver.run().id
    names = ["zeta", "Beta", "alpha", "émile", "_x", "a" * 255]

    store.add_tags("pipeline_run", run_id, names)

    assert store.get_tags("pipeline_run", [run_id])[run_id] == sorted(names)


def test_list_runs_filters_by_tag(store: MetadataStore) -> None:
    for i in range(5):
        tagged_run(store, f"r{i}", ["even"] if i % 2 == 0 else ["odd"], pipeline=f"p{i % 3}")

    def names(**kw: Any) -> list[str]:
        return [run.name for run in store.list_runs(**kw).items]

    assert names(tag="even") == ["r4", "r2", "r0"]
    assert names(tag="even", pipeline_name="p0") == ["r0"]
    assert names(tag="missing") == []
    page = store.list_runs(tag="even", offset=1, limit=1)
    assert ([r.name for r in page.items], page.total) == (["r2"], 3)
    store.finish_run(
        store.get_run("r2").id, status=ExecutionStatus.FAILED, ended_at=datetime.now(UTC)
    )
    assert names(tag="even", status=ExecutionStatus.FAILED) == ["r2"]


def test_output_tags_filter_artifacts_and_versions(store: MetadataStore, driver: Driver) -> None:
    run = driver.run()
    _, v1 = driver.complete(run.id, "a", driver.spec("m", "model", tags=["prod", "v1"]))
    driver.complete(run.id, "b", driver.spec("m", "model"))
    _, v3 = driver.complete(run.id, "c", driver.spec("m", "model", tags=["prod"]))
    driver.complete(run.id, "d", driver.spec("d", "dataset", tags=["raw"]))
    driver.complete(run.id, "e", driver.spec("r", "report"))
    store.add_tags("pipeline_run", run.id, ["prod"])  # a run's tag is no artifact's tag

    def artifacts(tag: str) -> list[str]:
        return [a.name for a in store.list_artifacts(tag=tag).items]

    assert store.get_tags("artifact_version", [v1["m"].id, v3["m"].id]) == {
        v1["m"].id: ["prod", "v1"],
        v3["m"].id: ["prod"],
    }
    assert artifacts("prod") == ["model"]
    assert artifacts("raw") == ["dataset"]
    assert store.list_artifacts(tag="prod", name_contains="data").total == 0
    versions = store.list_artifact_versions("model", tag="prod")
    assert ([v.version for v in versions.items], versions.total) == ([3, 1], 2)
    assert store.list_artifact_versions("model", tag="v1").items == [v1["m"]]
    assert store.list_artifact_versions("model", tag="raw").total == 0


def test_tagging_an_artifact_version_later(store: MetadataStore, driver: Driver) -> None:
    _, versions = driver.complete(driver.run().id, "a", driver.spec("m", "model"))
    version_id = versions["m"].id

    store.add_tags("artifact_version", version_id, ["approved"])

    assert [a.name for a in store.list_artifacts(tag="approved").items] == ["model"]
    store.remove_tags("artifact_version", version_id, ["approved"])
    assert store.list_artifacts(tag="approved").total == 0


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        pytest.param([""], "Invalid tag '': a tag name must be non-empty text.", id="empty"),
        pytest.param(["  "], "Invalid tag '  ': a tag name must be non-empty text.", id="blank"),
        pytest.param([3], "Invalid tag 3: a tag name must be non-empty text.", id="not-text"),
        pytest.param(
            [" prod"],
            "Invalid tag ' prod': a tag name must not start or end with whitespace; write 'prod'.",
            id="padded",
        ),
        pytest.param(
            ["x" * 256],
            f"Invalid tag {'x' * 40!r}...: a tag name has at most 255 characters, "
            "this one has 256.",
            id="too-long",
        ),
        pytest.param(
            "prod",
            "Tags must be a list of tag names, not the text 'prod': write ['prod'].",
            id="a-string",
        ),
    ],
)
def test_bad_tag_names_are_refused_and_nothing_is_written(
    store: MetadataStore, driver: Driver, count_rows: Any, tags: Any, message: str
) -> None:
    run = driver.run()
    step_id = driver.start(run.id)

    with pytest.raises(ValueError, match=re.escape(message)) as on_run:
        tagged_run(store, "bad", tags)
    with pytest.raises(ValueError, match=re.escape(message)) as on_add:
        store.add_tags("pipeline_run", run.id, tags)
    with pytest.raises(ValueError, match=re.escape(message)) as on_remove:
        store.remove_tags("pipeline_run", run.id, tags)
    with pytest.raises(ValueError, match=re.escape(message)) as on_output:
        store.finish_step_run(
            step_id,
            status=ExecutionStatus.COMPLETED,
            ended_at=datetime.now(UTC),
            outputs=[driver.spec(tags=tags)],
        )

    assert {str(e.value) for e in (on_run, on_add, on_remove, on_output)} == {message}
    assert store.list_runs().total == 1
    assert store.get_step_run(step_id).status is ExecutionStatus.RUNNING
    assert (count_rows("tags"), count_rows("artifact_versions")) == (0, 0)


def test_check_tags_is_public_for_early_validation() -> None:
    assert check_tags(["b", "a", "b"]) == ("a", "b")
    with pytest.raises(ValueError, match="must not start or end with whitespace"):
        check_tags(["a "])


@pytest.mark.parametrize("entity_type", ["step_run", "pipeline", ""])
def test_unknown_entity_type_is_refused(store: MetadataStore, entity_type: str) -> None:
    expected = (
        f"an entity of type {entity_type!r}: the entity type must be one of "
        "'pipeline_run', 'artifact_version'."
    )

    with pytest.raises(ValueError, match=re.escape(expected)) as add:
        store.add_tags(entity_type, "x", ["a"])
    with pytest.raises(ValueError, match=re.escape(expected)) as remove:
        store.remove_tags(entity_type, "x", ["a"])
    with pytest.raises(ValueError, match=re.escape(expected)) as get:
        store.get_tags(entity_type, ["x"])

    assert str(add.value) == f"Cannot tag {expected}"
    assert str(remove.value) == f"Cannot untag {expected}"
    assert str(get.value) == f"Cannot read the tags of {expected}"


def test_tagging_a_missing_entity_is_not_found(store: MetadataStore, count_rows: Any) -> None:
    with pytest.raises(NotFoundError) as run:
        store.add_tags("pipeline_run", "nope", ["a"])
    with pytest.raises(NotFoundError) as version:
        store.remove_tags("artifact_version", "gone", ["a"])

    assert str(run.value) == (
        "Cannot tag the pipeline run 'nope': no pipeline run has this id. "
        "List runs with `trellis runs list`."
    )
    assert str(version.value) == (
        "Cannot untag the artifact version 'gone': no artifact version has this id. "
        "List artifacts and their versions with `trellis artifacts list`."
    )
    assert count_rows("tags") == 0


def test_get_tags_of_many_entities_in_one_query(
    store: MetadataStore, driver: Driver, sql_log: SqlLog
) -> None:
    ids = [driver.run().id for _ in range(30)]
    for i, run_id in enumerate(ids):
        store.add_tags("pipeline_run", run_id, [f"t{i % 4}", "all"])

    with sql_log() as sent:
        tags = store.get_tags("pipeline_run", ids)

    assert len(sent) == 1
    assert tags[ids[5]] == ["all", "t1"]


def test_tagging_writes_three_statements_however_many_tags(
    store: MetadataStore, driver: Driver, sql_log: SqlLog
) -> None:
    run_id = driver.run().id

    with sql_log() as sent:
        store.add_tags("pipeline_run", run_id, [f"t{i}" for i in range(40)])

    assert [" ".join(statement.split()[:3]) for statement in sent] == [
        "SELECT pipeline_runs.id FROM",  # the run exists
        "INSERT INTO tags",
        "SELECT tags.name, tags.id",
        "INSERT INTO tag_links",
    ]


def test_concurrent_writers_create_a_new_tag_once(
    open_store: Callable[[], MetadataStore], count_rows: Any
) -> None:
    stores = [open_store() for _ in range(4)]
    barrier = threading.Barrier(len(stores))

    def create(i: int) -> str:
        barrier.wait()
        return tagged_run(stores[i], f"r{i}", ["shared", f"own-{i}"])

    with ThreadPoolExecutor(len(stores)) as pool:
        ids = list(pool.map(create, range(len(stores))))

    assert count_rows("tags") == len(stores) + 1
    assert stores[0].list_runs(tag="shared").total == len(stores)
    assert stores[0].get_tags("pipeline_run", ids[:1]) == {ids[0]: ["own-0", "shared"]}
