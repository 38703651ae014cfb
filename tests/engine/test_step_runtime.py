"""Logs, metadata, visualizations, tags, step context, manual and external artifacts, settings."""

from __future__ import annotations

import logging
import threading
from typing import Annotated

import pytest

from trellis import (
    ArtifactConfig,
    Client,
    ExecutionStatus,
    ExternalArtifact,
    ResourceSettings,
    add_tags,
    get_step_context,
    load_artifact,
    log_metadata,
    pipeline,
    remove_tags,
    save_artifact,
    step,
)
from trellis.exceptions import ConfigurationError, DefinitionError, ParameterError

turns = threading.Barrier(2, timeout=10)


@step
def talker(name: str) -> int:
    log = logging.getLogger(f"talk.{name}")
    for i in range(3):
        turns.wait()  # both steps print at the same moments
        print(f"{name} says {i}")
        log.warning("%s warns %d", name, i)
    return 1


def test_concurrent_steps_logs_do_not_mix(capsys: pytest.CaptureFixture[str]) -> None:
    @pipeline(max_parallelism=2, enable_cache=False)
    def chatty() -> None:
        talker("alice", id="alice")
        talker("bob", id="bob")

    run = chatty()
    for me, other in (("alice", "bob"), ("bob", "alice")):
        logs = run.steps[me].logs
        assert logs is not None
        assert [line for line in logs.splitlines() if "says" in line] == [
            f"{me} says {i}" for i in range(3)
        ]
        assert f"WARNING talk.{me}: {me} warns 2" in logs
        assert other not in logs
    out = capsys.readouterr()
    assert "[alice] alice says 0" in out.out  # shown live, prefixed with the step id
    assert "[bob] " in out.err


def test_step_logs_can_be_turned_off() -> None:
    @step(enable_step_logs=False)
    def silent() -> int:
        print("nobody hears this")
        return 1

    @pipeline
    def p() -> None:
        silent()

    assert p().steps["silent"].logs is None


@step
def measured(rows: int) -> Annotated[list[int], "table"]:
    log_metadata({"accuracy": 0.93, "epochs": 3, "notes": {"ok": True}})
    log_metadata({"source": "synthetic"}, infer_artifact=True)
    return list(range(rows))


def test_log_metadata_inside_and_outside_steps() -> None:
    @pipeline
    def p() -> None:
        measured(4)

    run = p()
    step_run = run.steps["measured"]
    assert step_run.run_metadata == {"accuracy": 0.93, "epochs": 3, "notes": {"ok": True}}
    assert isinstance(step_run.run_metadata["epochs"], int)
    table = step_run.outputs["table"]
    assert table.run_metadata["source"] == "synthetic"
    assert table.run_metadata["length"] == 4  # extracted by the materializer
    assert table.run_metadata["storage_size"] == table.size
    log_metadata({"reviewed": True, "score": 1.0}, run_id=run.id)
    log_metadata({"checked": 2}, run_id=run.name, step_name="measured")
    log_metadata({"approved": "yes"}, artifact_name="table")
    assert run.run_metadata == {"reviewed": True, "score": 1.0}
    assert isinstance(run.run_metadata["score"], float)
    assert Client().get_pipeline_run(run.id).steps["measured"].run_metadata["checked"] == 2
    assert Client().get_artifact_version("table").run_metadata["approved"] == "yes"
    with pytest.raises(ParameterError, match="must be JSON"):
        log_metadata({"bad": object()}, run_id=run.id)
    from trellis import TrellisError

    with pytest.raises(TrellisError, match="outside a step needs a target"):
        log_metadata({"x": 1})


def test_artifact_metadata_and_visualizations_can_be_turned_off() -> None:
    @step(enable_artifact_metadata=False, enable_artifact_visualization=False)
    def bare() -> dict[str, int]:
        return {"a": 1}

    @step
    def rich() -> dict[str, int]:
        return {"a": 1, "b": 2}

    @pipeline
    def p() -> None:
        bare()
        rich()

    run = p()
    plain = run.steps["bare"].output
    assert set(plain.run_metadata) == {"storage_size", "content_hash"}
    assert plain.visualizations == []
    full = run.steps["rich"].output
    assert full.run_metadata["length"] == 2
    [view] = full.visualizations
    assert view.type == "json"
    assert b'"b": 2' in view.read()


def test_tags_on_pipelines_runs_and_artifacts() -> None:
    @step
    def model() -> Annotated[dict[str, float], ArtifactConfig(name="model", tags=["candidate"])]:
        return {"w": 1.0}

    @pipeline(tags=["nightly", "v1"])
    def tagged() -> None:
        model()

    @pipeline
    def untagged() -> None:
        model.with_options(enable_cache=False)()

    run = tagged()
    untagged()
    client = Client()
    assert sorted(run.tags) == ["nightly", "v1"]
    assert [r.id for r in client.list_pipeline_runs(tag="nightly").items] == [run.id]
    assert run.steps["model"].output.tags == ["candidate"]
    assert [a.name for a in client.list_artifacts(tag="candidate").items] == ["model"]
    add_tags(["best"], artifact="model", artifact_version=1)
    add_tags(["reviewed"], run=run.name)
    assert client.get_artifact_version("model", 1).tags == ["best", "candidate"]
    assert [v.version for v in client.list_artifact_versions("model", tag="best").items] == [1]
    remove_tags(["nightly"], run=run.id)
    assert sorted(client.get_pipeline_run(run.id).tags) == ["reviewed", "v1"]
    with pytest.raises(ParameterError, match="Tag exactly one thing"):
        add_tags(["x"])


def test_step_context_describes_the_running_step() -> None:
    seen: dict[str, object] = {}

    @step
    def source() -> Annotated[int, "number"]:
        return 7

    @step
    def inspect_me(number: int) -> tuple[Annotated[int, "a"], Annotated[int, "b"]]:
        context = get_step_context()
        seen.update(
            pipeline=context.pipeline_name,
            run=context.run_name,
            step=context.step_name,
            attempt=context.attempt,
            input_name=context.inputs["number"].name,  # type: ignore[union-attr]
            outputs=context.outputs,
            uri=context.get_output_artifact_uri("b"),
        )
        return number, number

    @pipeline
    def contextual() -> None:
        inspect_me(source())

    run = contextual()
    assert seen["pipeline"] == "contextual"
    assert seen["run"] == run.name
    assert (seen["step"], seen["attempt"], seen["outputs"]) == ("inspect_me", 1, ("a", "b"))
    assert seen["input_name"] == "number"
    assert str(seen["uri"]).endswith(f"attempts/{run.id}/inspect_me/b/1/files")


def test_save_artifact_inside_a_step_is_linked_to_the_step_run() -> None:
    @step
    def with_extra() -> int:
        save_artifact({"threshold": 0.5}, "serving_config", tags=["prod"])
        return 1

    @pipeline
    def p() -> None:
        with_extra()

    run = p()
    saved = run.steps["with_extra"].outputs["serving_config"]
    assert saved.load() == {"threshold": 0.5}
    assert saved.tags == ["prod"]
    assert saved.producer_step_run_id == run.steps["with_extra"].id
    assert load_artifact("serving_config") == {"threshold": 0.5}


def test_save_artifact_outside_a_step() -> None:
    first = save_artifact([1, 2], "numbers")
    second = save_artifact([1, 2, 3], "numbers", tags=["longer"])
    assert first is not None
    assert second is not None
    assert (first.version, second.version) == (1, 2)
    assert second.producer_step_run_id is None
    assert load_artifact("numbers") == [1, 2, 3]
    assert load_artifact("numbers", version=1) == [1, 2]


@step
def total(values: list[int]) -> int:
    return sum(values)


def test_external_artifacts_by_value_and_by_name() -> None:
    @pipeline
    def uploads() -> None:
        total(ExternalArtifact(value=[1, 2, 3], name="uploaded"))

    first = uploads()
    assert first.steps["total"].output.load() == 6
    assert first.steps["total"].inputs["values"].name == "uploaded"
    second = uploads()  # same content: the version is reused and the step cached
    assert second.steps["total"].status is ExecutionStatus.CACHED
    assert Client().get_artifact_version("uploaded").version == 1
    save_artifact([10, 20], "uploaded")

    @pipeline
    def references() -> None:
        total(ExternalArtifact(name="uploaded", version=2), id="v2")
        total(ExternalArtifact(name="uploaded", version=1), id="v1")

    run = references()
    assert (run.steps["v2"].output.load(), run.steps["v1"].output.load()) == (30, 6)
    with pytest.raises(DefinitionError, match=r"either value= .* or name="):
        ExternalArtifact([1], version=1)


def test_resource_settings_are_validated_recorded_and_checked() -> None:
    @step(settings={"resources": ResourceSettings(cpu_count=1, memory="256MB")})
    def modest() -> int:
        return 1

    @pipeline
    def p() -> None:
        modest()

    run = p()
    [node] = [n for n in run.record.plan["nodes"] if n["id"] == "modest"]
    assert node["settings"]["resources"]["memory"] == "256MB"

    greedy = modest.with_options(settings={"resources": {"cpu_count": 4096}})

    @pipeline
    def too_big() -> None:
        greedy()

    with pytest.raises(ConfigurationError, match="asks for 4096 CPUs but this machine has"):
        too_big()
    with pytest.raises(DefinitionError, match="unknown settings key 'gpu'"):
        modest.with_options(settings={"gpu": {}})
    with pytest.raises(DefinitionError, match=r"invalid settings\['resources'\]"):
        modest.with_options(settings={"resources": {"memory": "lots"}})


def test_a_step_that_prints_nothing_has_empty_logs_and_no_file() -> None:
    @step
    def quiet() -> int:
        return 1

    @pipeline
    def p() -> None:
        quiet()

    step_run = p().steps["quiet"]
    assert step_run.logs == ""
    assert step_run.record.log_uri is None
