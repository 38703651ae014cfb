"""Running static pipelines end to end on the local launcher."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import pytest

from trellis import Client, ExecutionStatus, StepFailedError, pipeline, step
from trellis.exceptions import MaterializerError


@step
def make(value: int = 1) -> int:
    return value


@step
def inc(x: int) -> int:
    return x + 1


@step
def split(x: int) -> tuple[Annotated[int, "low"], Annotated[int, "high"]]:
    return x - 1, x + 1


@step
def total(values: list[int]) -> int:
    return sum(values)


@step
def boom(x: int) -> int:
    raise ValueError(f"bad input {x}")


@step
def nothing(x: int) -> None:
    return None


def test_chain_records_completed_run_with_versions() -> None:
    @pipeline
    def chain(start: int = 3) -> Annotated[int, "result"]:
        return inc(inc(make(start)))

    run = chain()
    assert run.status is ExecutionStatus.COMPLETED
    assert list(run.steps) == ["make", "inc", "inc_2"]
    assert run.steps["inc_2"].output.load() == 5
    assert run.outputs["result"].load() == 5
    assert run.parameters == {"start": 3}
    assert run.steps["make"].parameters == {"value": 3}
    producer = run.steps["inc"]
    assert producer.inputs["x"].id == run.steps["make"].output.id
    assert producer.parent_step_ids == [run.steps["make"].id]
    assert run.steps["inc"].output.name == "chain::inc::output"
    assert all(s.start_time <= s.end_time for s in run.steps.values())


def test_artifact_versions_increase_per_name() -> None:
    @pipeline(enable_cache=False)
    def named(start: int) -> None:
        make.with_options(name="seed")(start)

    @step
    def seed(value: int) -> Annotated[int, "seed_value"]:
        return value

    @pipeline(enable_cache=False)
    def seeded(start: int) -> None:
        seed(start)

    for start in (10, 20, 30):
        seeded(start)
    client = Client()
    assert client.get_artifact_version("seed_value").version == 3
    assert client.get_artifact_version("seed_value").load() == 30
    assert client.get_artifact_version("seed_value", version=1).load() == 10
    versions = client.list_artifact_versions("seed_value")
    assert [v.version for v in versions.items] == [3, 2, 1]


def test_multiple_outputs_unpack_and_list_inputs() -> None:
    @pipeline
    def fan() -> Annotated[int, "sum"]:
        low, high = split(make(10))
        return total([low, high, inc(low)])

    run = fan()
    assert set(run.steps["split"].outputs) == {"low", "high"}
    assert run.outputs["sum"].load() == 9 + 11 + 10
    inputs = run.steps["total"].inputs["values"]
    assert isinstance(inputs, list)
    assert [a.load() for a in inputs] == [9, 11, 10]


def test_none_output_step_has_no_outputs() -> None:
    @pipeline
    def sink() -> None:
        nothing(make())

    run = sink()
    assert run.steps["nothing"].outputs == {}
    assert run.steps["nothing"].status is ExecutionStatus.COMPLETED


def test_independent_steps_run_concurrently() -> None:
    barrier = threading.Barrier(3, timeout=10)

    @step
    def meet(x: int) -> int:
        barrier.wait()  # all three must be running at once, or this times out
        return x

    @pipeline(max_parallelism=3, enable_cache=False)
    def together() -> None:
        data = make()
        total([meet(data), meet(data), meet(data)])

    run = together()
    assert run.status is ExecutionStatus.COMPLETED
    assert [s.status for s in run.steps.values()].count(ExecutionStatus.COMPLETED) == 5


def test_parallelism_one_runs_steps_inline() -> None:
    threads: list[threading.Thread] = []

    @step
    def where() -> int:
        threads.append(threading.current_thread())
        return 1

    @pipeline(max_parallelism=1, enable_cache=False)
    def inline() -> None:
        where()
        where()

    inline()
    assert threads == [threading.main_thread()] * 2


def test_after_orders_steps_without_data() -> None:
    order: list[str] = []

    @step
    def record(tag: str) -> None:
        order.append(tag)

    @pipeline(max_parallelism=4, enable_cache=False)
    def ordered() -> None:
        record("late", id="late", after=["early"])
        record("early", id="early")

    run = ordered()
    assert order == ["early", "late"]
    assert run.steps["late"].parent_step_ids == [run.steps["early"].id]


def test_failing_step_fails_run_skips_downstream_keeps_other_branches() -> None:
    @pipeline(enable_cache=False)
    def broken() -> None:
        data = make(7)
        inc(boom(data))
        inc(data)

    with pytest.raises(StepFailedError) as info:
        broken()
    error = info.value
    run = Client().get_pipeline_run(error.run_id)
    message = str(error)
    assert "Pipeline `broken` failed: step `boom` raised ValueError: bad input 7." in message
    assert run.id in message
    assert f"trellis runs show {run.id}" in message
    assert "not run: inc" in message
    assert isinstance(error.__cause__, ValueError)
    assert run.status is ExecutionStatus.FAILED
    statuses = {name: s.status for name, s in run.steps.items()}
    assert statuses == {
        "make": ExecutionStatus.COMPLETED,
        "boom": ExecutionStatus.FAILED,
        "inc": ExecutionStatus.SKIPPED,
        "inc_2": ExecutionStatus.COMPLETED,
    }
    failed = run.steps["boom"]
    assert failed.error == "ValueError: bad input 7"
    assert 'raise ValueError(f"bad input {x}")' in failed.traceback


def test_wrong_number_of_outputs_is_a_clear_step_failure() -> None:
    @step
    def pair() -> tuple[Annotated[int, "a"], Annotated[int, "b"]]:
        return (1, 2, 3)  # type: ignore[return-value]

    @pipeline
    def p() -> None:
        pair()

    with pytest.raises(StepFailedError, match=r"declares 2 outputs \(a, b\) but returned 3 values"):
        p()


def test_wrong_output_type_is_a_clear_step_failure() -> None:
    @step
    def typed() -> int:
        return "seven"  # type: ignore[return-value]

    @pipeline
    def p() -> None:
        typed()

    with pytest.raises(StepFailedError) as info:
        p()
    assert "output `output` is declared as int but the step returned a str ('seven')" in str(
        info.value
    )


def test_unpicklable_output_fails_with_materializer_advice() -> None:
    class Holder:
        def __init__(self) -> None:
            self.lock = threading.Lock()

    @step
    def hold() -> Holder:
        return Holder()

    @pipeline
    def p() -> None:
        hold()

    with pytest.raises(StepFailedError) as info:
        p()
    assert isinstance(info.value.__cause__, MaterializerError)
    message = str(info.value)
    assert "step `hold` raised trellis.exceptions.MaterializerError" in message
    assert "no materializer handles it and cloudpickle failed" in message
    assert "trellis.register_materializer(MyMaterializer, Holder)" in message


def test_second_run_is_cached_and_reuses_versions() -> None:
    calls: list[int] = []

    @step
    def counted(x: int) -> int:
        calls.append(x)
        return x * 2

    @pipeline
    def cached(x: int = 2) -> None:
        counted(make(x))

    first = cached()
    second = cached()
    assert calls == [2]
    assert second.steps["counted"].status is ExecutionStatus.CACHED
    assert second.steps["counted"].original_step_run_id == first.steps["counted"].id
    assert second.steps["counted"].output.id == first.steps["counted"].output.id
    third = cached(x=3)
    assert calls == [2, 3]
    assert third.steps["counted"].status is ExecutionStatus.COMPLETED


def test_step_called_outside_pipeline_is_a_plain_call() -> None:
    assert inc(41) == 42
    assert split(5) == (4, 6)


def test_parallelism_limit_is_respected_and_start_times_are_real() -> None:
    lock = threading.Lock()
    running = [0]
    peak = [0]
    release = threading.Event()

    @step
    def busy(x: int) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            if running[0] == 2:
                release.set()
        release.wait(timeout=10)  # the first two wait for each other
        with lock:
            running[0] -= 1
        return x

    @pipeline(max_parallelism=2, enable_cache=False)
    def limited() -> None:
        data = make()
        busy(data)
        busy(data)
        busy(data)

    run = limited()
    assert peak[0] == 2
    steps = sorted((run.steps[n] for n in ("busy", "busy_2", "busy_3")), key=lambda s: s.start_time)
    # the third step began only when one of the first two had ended
    assert steps[2].start_time >= min(steps[0].end_time, steps[1].end_time)


def test_materializer_metadata_that_is_not_json_is_a_step_failure() -> None:
    from trellis import BaseMaterializer

    class OddMetadata(BaseMaterializer):
        def save(self, data: int) -> None:
            with self.open("v.txt", "w") as fh:
                fh.write(str(data))

        def load(self, data_type: type) -> int:
            with self.open("v.txt", "r") as fh:
                return int(fh.read())

        def extract_metadata(self, data: int) -> dict[str, object]:
            return {"when": object()}

    odd = make.with_options(name="odd", output_materializers=OddMetadata)

    @pipeline(enable_cache=False)
    def p() -> None:
        odd(1)
        inc(2)

    with pytest.raises(StepFailedError) as info:
        p()
    assert "extracted metadata for output `output` that is not JSON" in str(info.value)
    run = Client().get_pipeline_run(info.value.run_id)
    assert run.steps["inc"].status is ExecutionStatus.COMPLETED


def test_missing_run_output_says_why() -> None:
    @pipeline(enable_cache=False)
    def p() -> Annotated[int, "result"]:
        return inc(boom(make()))

    with pytest.raises(StepFailedError) as info:
        p()
    run = Client().get_pipeline_run(info.value.run_id)
    from trellis import NotFoundError

    with pytest.raises(NotFoundError, match="step `inc` is skipped"):
        run.outputs["result"]
    with pytest.raises(NotFoundError, match="has no output named 'other'"):
        run.outputs["other"]


def test_run_environment_records_the_git_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "f.txt").write_text("x")
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "add", "f.txt"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    head = subprocess.run(
        [*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    monkeypatch.chdir(tmp_path)

    @pipeline
    def p() -> None:
        make()

    assert p().environment["git"]["commit"] == head
