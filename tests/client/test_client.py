"""The query API: pipelines, runs newest first, filters, artifact versions, loading."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import pytest

from trellis import Client, ExecutionStatus, NotFoundError, load_artifact, pipeline, step
from trellis.exceptions import StepFailedError


@step
def emit(n: int) -> Annotated[int, "count"]:
    return n


@step
def fail_if(n: int, limit: int) -> int:
    if n > limit:
        raise RuntimeError("too big")
    return n


@step
def pair() -> tuple[Annotated[int, "left"], Annotated[int, "right"]]:
    return 1, 2


@pipeline(enable_cache=False)
def counting(n: int = 1) -> Annotated[int, "result"]:
    return fail_if(emit(n), limit=5)


def test_pipeline_runs_newest_first_and_last_run() -> None:
    runs = [counting(n=i) for i in (1, 2, 3)]
    pipeline_view = Client().get_pipeline("counting")
    assert [r.id for r in pipeline_view.runs] == [r.id for r in reversed(runs)]
    assert pipeline_view.last_run.id == runs[-1].id
    assert pipeline_view.last_run.outputs["result"].load() == 3


def test_get_pipeline_run_by_name_or_id() -> None:
    run = counting(n=2)
    client = Client()
    assert client.get_pipeline_run(run.name).id == run.id
    assert client.get_pipeline_run(run.id).name == run.name
    with pytest.raises(NotFoundError, match="No pipeline run named or with id 'nope'"):
        client.get_pipeline_run("nope")


def test_list_pipeline_runs_filters() -> None:
    counting(n=1)
    with pytest.raises(StepFailedError):
        counting(n=9)
    client = Client()
    failed = client.list_pipeline_runs(status="failed")
    assert failed.total == 1
    assert failed.items[0].status is ExecutionStatus.FAILED
    assert failed.items[0].parameters == {"n": 9}
    everything = client.list_pipeline_runs(pipeline_name="counting")
    assert everything.total == 2
    assert client.list_pipeline_runs(pipeline_name="other").total == 0
    newest = everything.items[0]
    after = client.list_pipeline_runs(created_after=newest.created - timedelta(microseconds=1))
    assert [r.id for r in after.items] == [newest.id]
    from trellis.exceptions import ParameterError

    with pytest.raises(ParameterError, match="Unknown run status 'bogus'; choose one of"):
        client.list_pipeline_runs(status="bogus")
    page = client.list_pipeline_runs(limit=1, offset=1)
    assert (page.total, len(page.items)) == (2, 1)


def test_step_views_have_status_times_inputs_outputs() -> None:
    run = counting(n=4)
    step_run = run.steps["fail_if"]
    assert step_run.status is ExecutionStatus.COMPLETED
    assert step_run.duration is not None
    assert step_run.duration >= timedelta(0)
    assert step_run.inputs["n"].name == "count"
    assert step_run.output.load() == 4
    assert step_run.parameters == {"limit": 5}
    assert "raise RuntimeError" in (step_run.source_code or "")


def test_step_with_several_outputs_needs_a_name() -> None:
    @pipeline
    def two() -> None:
        pair()

    run = two()
    assert {k: v.load() for k, v in run.steps["pair"].outputs.items()} == {"left": 1, "right": 2}
    with pytest.raises(NotFoundError, match=r"has 2 outputs \(left, right\); use .outputs\[name\]"):
        run.steps["pair"].output  # noqa: B018


def test_artifact_versions_and_load_artifact() -> None:
    for n in (1, 2, 3):
        counting(n=n)
    client = Client()
    latest = client.get_artifact_version("count")
    assert (latest.version, latest.load()) == (3, 3)
    assert client.get_artifact_version(latest.id).version == 3
    assert load_artifact("count") == 3
    assert load_artifact("count", version=1) == 1
    with pytest.raises(NotFoundError, match="trellis artifacts list"):
        load_artifact("count", version=7)
    names = {a.name: a.latest_version for a in client.list_artifacts(name_contains="count").items}
    assert names == {"count": 3, "counting::fail_if::output": 3}


def test_run_records_environment() -> None:
    run = counting()
    env = run.environment
    assert env["python"].count(".") == 2
    assert "pydantic" in {name.lower() for name in env["packages"]}


def test_a_run_can_be_found_by_a_unique_id_prefix() -> None:
    run = counting(n=1)
    client = Client()
    assert client.get_pipeline_run(run.id[:8]).id == run.id
    with pytest.raises(NotFoundError, match="No pipeline run named or with id 'abc'"):
        client.get_pipeline_run("abc")  # too short to be a prefix
