"""Caching: content-hash keys, early cutoff, CachePolicy, and explanations of every miss."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from trellis import CachePolicy, Client, ExecutionStatus, pipeline, step
from trellis.dsl import Step

CACHED = ExecutionStatus.CACHED
COMPLETED = ExecutionStatus.COMPLETED

calls: list[str] = []


@step
def load(n: int = 3) -> list[int]:
    calls.append("load")
    return list(range(n))


@step
def parity(n: int) -> int:
    calls.append("parity")
    return n % 2


@step
def train(data: list[int], lr: float = 0.1) -> float:
    calls.append("train")
    return sum(data) * lr


@step
def consume(bit: int) -> int:
    calls.append("consume")
    return bit + 100


@pytest.fixture(autouse=True)
def _reset_calls() -> None:
    calls.clear()


def statuses(run: Any) -> dict[str, ExecutionStatus]:
    return {name: s.status for name, s in run.steps.items()}


def explain(run: Any, step_id: str) -> str:
    return str(run.steps[step_id].cache_explanation())


def make_module(folder: Path, name: str, source: str) -> ModuleType:
    """Import ``source`` as a real module file (so its source can be read)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pipeline
def training(lr: float = 0.1, n: int = 3) -> None:
    train(load(n), lr=lr)


def test_unchanged_rerun_hits() -> None:
    first = training()
    second = training()
    assert statuses(second) == {"load": CACHED, "train": CACHED}
    assert calls == ["load", "train"]  # no function call for cached steps
    assert second.steps["train"].original_step_run_id == first.steps["train"].id
    assert second.steps["train"].output.id == first.steps["train"].output.id
    assert Client().get_artifact_version("training::train::output").version == 1
    assert explain(second, "train").startswith("Step `train` in run")
    assert f"reused the outputs of step run {first.steps['train'].id}" in explain(second, "train")


def test_changed_parameter_misses_and_says_which() -> None:
    training(lr=0.1)
    second = training(lr=0.01)
    assert statuses(second) == {"load": CACHED, "train": COMPLETED}
    assert "- parameter `lr` changed 0.1 → 0.01" in explain(second, "train")


def test_first_run_explains_there_is_nothing_to_reuse() -> None:
    run = training()
    assert "no earlier run of step `train` in pipeline `training`" in explain(run, "train")


SOURCE_V1 = """
from trellis import step

@step
def work(x: int) -> int:
    return x * 2
"""

SOURCE_COMMENTED = """
from trellis import step

@step
def work(x: int) -> int:
    '''Now with a docstring.'''
    # and a comment, and different spacing
    return x*2
"""

SOURCE_CHANGED = """
from trellis import step

@step
def work(x: int) -> int:
    return x * 3
"""


def _run_work(work: Step[Any, Any]) -> Any:
    @pipeline(name="working")
    def working() -> None:
        work(21)

    return working()


def test_comment_only_change_hits_and_logic_change_misses_with_diff(tmp_path: Path) -> None:
    _run_work(make_module(tmp_path / "a", "work_v1", SOURCE_V1).work)
    commented = _run_work(make_module(tmp_path / "b", "work_v1c", SOURCE_COMMENTED).work)
    assert statuses(commented) == {"work": CACHED}
    changed = _run_work(make_module(tmp_path / "c", "work_v2", SOURCE_CHANGED).work)
    assert statuses(changed) == {"work": COMPLETED}
    assert changed.steps["work"].output.load() == 63
    explanation = changed.steps["work"].cache_explanation()
    assert "code changed" in explanation.reasons
    assert explanation.code_diff is not None
    # compared with the latest earlier run: the commented version
    assert "-    return x*2\n+    return x * 3" in explanation.code_diff


HELPER_V1 = """
def scale(x):
    return x + 1
"""

HELPER_V2 = """
def scale(x):
    return x + 2
"""


def test_changed_source_dependency_misses(tmp_path: Path) -> None:
    def build(helper: ModuleType) -> Any:
        @step(cache_policy=CachePolicy(source_dependencies=[helper.scale]))
        def scaled(x: int) -> int:
            return int(helper.scale(x))

        @pipeline(name="scaling")
        def scaling() -> None:
            scaled(1)

        return scaling()

    build(make_module(tmp_path / "h1", "helper_a", HELPER_V1))
    again = build(make_module(tmp_path / "h1b", "helper_a", HELPER_V1))
    assert statuses(again) == {"scaled": CACHED}
    changed = build(make_module(tmp_path / "h2", "helper_a", HELPER_V2))
    assert statuses(changed) == {"scaled": COMPLETED}
    assert changed.steps["scaled"].output.load() == 3
    assert "source dependency `helper_a.scale` changed" in explain(changed, "scaled")


def test_changed_file_dependency_misses(tmp_path: Path) -> None:
    data = tmp_path / "labels.csv"
    data.write_text("a,b\n1,2\n")

    @step(cache_policy=CachePolicy(file_dependencies=[data]))
    def read_labels() -> str:
        return data.read_text()

    @pipeline
    def labels() -> None:
        read_labels()

    labels()
    assert statuses(labels()) == {"read_labels": CACHED}
    data.write_text("a,b\n1,3\n")
    changed = labels()
    assert statuses(changed) == {"read_labels": COMPLETED}
    assert changed.steps["read_labels"].output.load() == "a,b\n1,3\n"
    assert f"file dependency `{data}` changed" in explain(changed, "read_labels")


def test_missing_file_dependency_fails_before_the_run(tmp_path: Path) -> None:
    @step(cache_policy=CachePolicy(file_dependencies=[tmp_path / "nope.csv"]))
    def reads() -> int:
        return 1

    @pipeline
    def broken() -> None:
        reads()

    from trellis.exceptions import DefinitionError

    with pytest.raises(DefinitionError, match=r"file dependency '.*nope.csv' cannot be read"):
        broken()
    assert Client().list_pipeline_runs().total == 0


def test_cache_func_and_cache_version_join_the_key() -> None:
    token = ["a"]

    def current() -> str:
        return token[0]

    def build(version: str) -> Any:
        @step(cache_policy=CachePolicy(cache_func=current, cache_version=version))
        def tokened() -> int:
            calls.append("tokened")
            return 1

        @pipeline(name="tokens")
        def tokens() -> None:
            tokened()

        return tokens()

    build("1")
    assert statuses(build("1")) == {"tokened": CACHED}
    token[0] = "b"
    changed = build("1")
    assert statuses(changed) == {"tokened": COMPLETED}
    assert 'cache_func result changed "a" → "b"' in explain(changed, "tokened")
    bumped = build("2")
    assert statuses(bumped) == {"tokened": COMPLETED}
    assert 'cache_version changed "1" → "2"' in explain(bumped, "tokened")


def test_early_cutoff_keeps_consumers_cached() -> None:
    @pipeline
    def cutoff(n: int) -> None:
        consume(parity(n))

    cutoff(n=1)
    second = cutoff(n=3)  # parity re-runs (new parameter) but returns 1 again
    assert statuses(second) == {"parity": COMPLETED, "consume": CACHED}
    assert calls == ["parity", "consume", "parity"]
    third = cutoff(n=4)
    assert statuses(third) == {"parity": COMPLETED, "consume": COMPLETED}
    reason = explain(third, "consume")
    assert (
        f"input `bit` has new content (produced by step `parity` in run `{third.name}`)" in reason
    )


@step
def process_data(value: int, timestamp: datetime) -> int:
    calls.append("process_data")
    return value * 2


@pipeline(cache_policy=CachePolicy(max_age_days=7, ignore_fields=["timestamp"]))
def time_sensitive_pipeline() -> None:
    process_data(value=2, timestamp=datetime.now())


def test_ignored_field_hits_with_a_new_timestamp() -> None:
    time_sensitive_pipeline()
    second = time_sensitive_pipeline()
    assert statuses(second) == {"process_data": CACHED}
    assert "timestamp" not in second.steps["process_data"].cache_parts["parts"]["parameters"]
    assert "timestamp" in second.steps["process_data"].parameters  # still recorded


def test_expired_result_misses(monkeypatch: pytest.MonkeyPatch) -> None:
    time_sensitive_pipeline()
    later = datetime.now(UTC) + timedelta(days=9)
    monkeypatch.setattr("trellis.engine._run.utc_now", lambda: later)
    expired = time_sensitive_pipeline()
    assert statuses(expired) == {"process_data": COMPLETED}
    assert calls == ["process_data", "process_data"]
    assert "cached result expired (age 9 d > 7 d)" in explain(expired, "process_data")


def test_deleted_artifact_misses_and_reruns(trellis_home: Path) -> None:
    first = training()
    shutil.rmtree(first.steps["train"].output.uri)
    second = training()
    assert statuses(second) == {"load": CACHED, "train": COMPLETED}
    assert second.steps["train"].output.load() == pytest.approx(0.3)
    assert "cached artifacts were deleted: output(s) output" in explain(second, "train")
    assert statuses(training()) == {"load": CACHED, "train": CACHED}


def test_step_level_disable_inside_cached_pipeline() -> None:
    @step(enable_cache=False)
    def fresh(data: list[int]) -> int:
        calls.append("fresh")
        return len(data)

    @pipeline(enable_cache=True)
    def mixed() -> None:
        fresh(load())

    mixed()
    second = mixed()
    assert statuses(second) == {"load": CACHED, "fresh": COMPLETED}
    assert calls == ["load", "fresh", "fresh"]
    assert "cache disabled: set on step `fresh` (enable_cache=False)" in explain(second, "fresh")


def test_run_level_refresh_overrides_steps_and_keys_are_still_stored() -> None:
    @step(enable_cache=True)
    def sticky(data: list[int]) -> int:
        calls.append("sticky")
        return 1

    @pipeline
    def refreshable() -> None:
        sticky(load())

    refreshed = refreshable.with_options(enable_cache=False)()
    assert statuses(refreshed) == {"load": COMPLETED, "sticky": COMPLETED}
    assert "was run with enable_cache=False" in explain(refreshed, "sticky")
    assert refreshed.steps["sticky"].cache_key  # computed even with caching off
    assert statuses(refreshable()) == {"load": CACHED, "sticky": CACHED}


def test_concurrent_runs_keep_cache_entries_intact() -> None:
    errors: list[BaseException] = []

    def run_once(lr: float) -> None:
        try:
            training(lr=lr)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run_once, args=(lr,)) for lr in (0.1, 0.2, 0.1, 0.2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for lr in (0.1, 0.2):
        run = training(lr=lr)
        assert statuses(run) == {"load": CACHED, "train": CACHED}
        assert run.steps["train"].output.load() == pytest.approx(3 * lr)
    versions = Client().list_artifact_versions("training::train::output").items
    assert sorted(v.version for v in versions) == list(range(1, len(versions) + 1))


def test_clear_cache_invalidates_without_deleting_artifacts() -> None:
    first = training()
    cleared = Client().clear_cache(pipeline_name="training", step_name="train")
    assert cleared == 1
    second = training()
    assert statuses(second) == {"load": CACHED, "train": COMPLETED}
    assert first.steps["train"].output.load() == pytest.approx(0.3)  # artifact kept
    assert "cleared by `trellis cache clear`" in explain(second, "train")
    assert Client().clear_cache(pipeline_name="other") == 0


def test_closure_values_join_the_key() -> None:
    def scaler(k: int) -> Step[Any, Any]:
        @step(name="scale")
        def scale(x: int) -> int:
            return x * k

        return scale

    def run_with(k: int) -> Any:
        scale = scaler(k)

        @pipeline(name="scaling_closure")
        def scaling() -> None:
            scale(5)

        return scaling()

    run_with(2)
    assert statuses(run_with(2)) == {"scale": CACHED}
    tripled = run_with(3)
    assert statuses(tripled) == {"scale": COMPLETED}
    assert tripled.steps["scale"].output.load() == 15  # not the cached 10
    assert "captured value `k` changed" in explain(tripled, "scale")


MODULE_WITH_GLOBALS = """
from trellis import pipeline, step

FACTOR = {factor}

def helper(x):
    return x + {offset}

@step
def compute(x: int) -> int:
    return helper(x) * FACTOR

@pipeline(name="globals_pipeline")
def globals_pipeline() -> None:
    compute(1)
"""


def test_module_constants_and_helpers_join_the_key(tmp_path: Path) -> None:
    def run(folder: str, factor: int, offset: int) -> Any:
        source = MODULE_WITH_GLOBALS.format(factor=factor, offset=offset)
        return make_module(tmp_path / folder, "with_globals", source).globals_pipeline()

    run("a", 2, 1)
    assert statuses(run("b", 2, 1)) == {"compute": CACHED}
    changed_constant = run("c", 3, 1)
    assert changed_constant.steps["compute"].output.load() == 6
    assert "captured value `FACTOR` changed" in explain(changed_constant, "compute")
    changed_helper = run("d", 3, 5)
    assert changed_helper.steps["compute"].output.load() == 18
    assert "captured value `helper` changed" in explain(changed_helper, "compute")


def test_a_hit_never_reuses_another_pipelines_unnamed_artifact() -> None:
    @pipeline
    def first_pipeline() -> None:
        load(4)

    @pipeline
    def second_pipeline() -> None:
        load(4)

    first_pipeline()
    second = second_pipeline()
    assert statuses(second) == {"load": COMPLETED}
    assert second.steps["load"].output.name == "second_pipeline::load::output"
    assert Client().get_artifact_version("second_pipeline::load::output").load() == [0, 1, 2, 3]


CONCURRENT_SCRIPT = """
import sys
from trellis import pipeline, step

@step
def base(n: int) -> list[int]:
    return list(range(n))

@step
def total(data: list[int], scale: int) -> int:
    return sum(data) * scale

@pipeline(max_parallelism=2)
def shared(scale: int = 1) -> None:
    total(base(5), scale=scale)

for scale in (1, 2, 1, 2, 3):
    shared(scale=scale)
"""


def test_concurrent_processes_share_one_store_safely(trellis_home: Path) -> None:
    import os
    import subprocess

    env = {**os.environ, "TRELLIS_HOME": str(trellis_home)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT_SCRIPT],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    client = Client()
    runs = client.list_pipeline_runs(pipeline_name="shared", limit=20)
    assert runs.total == 10
    assert {r.status for r in runs.items} == {COMPLETED}
    for run in runs.items:
        total = run.steps["total"]
        assert total.output.load() == 10 * run.parameters["scale"]
    versions = client.list_artifact_versions("shared::total::output").items
    assert sorted(v.version for v in versions) == list(range(1, len(versions) + 1))
    assert {v.load() for v in versions} <= {10, 20, 30}
