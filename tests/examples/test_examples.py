"""Every example script runs from a fresh store and does what it says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from trellis import Client, ExecutionStatus

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(name: str, home: Path) -> str:
    env = {**os.environ, "TRELLIS_HOME": str(home)}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_quickstart(trellis_home: Path) -> None:
    out = run_example("quickstart.py", trellis_home)
    assert ": completed" in out
    assert "Artifact 'slope' v1 = 2.0" in out
    run = Client().get_pipeline("training").last_run
    assert run.status is ExecutionStatus.COMPLETED
    assert run.parameters == {"lr": 0.02}
    assert round(run.outputs["mse"].load(), 4) == float(out.split("mse = ")[1].split()[0])


def test_simple_pipeline(trellis_home: Path) -> None:
    assert run_example("simple_pipeline.py", trellis_home).strip() == "Hello trellis!"
    run = Client().get_pipeline("simple_pipeline").last_run
    assert run.outputs["greeting"].load() == "Hello trellis!"
    assert run.parameters == {"name": "trellis"}


def test_parallel_pipeline_overlaps_the_three_trainings(trellis_home: Path) -> None:
    run_example("parallel_pipeline.py", trellis_home)
    run = Client().get_pipeline("parallel_pipeline").last_run
    steps = [run.steps[f"train_model_{x}"] for x in "abc"]
    latest_start = max(s.start_time for s in steps)
    earliest_end = min(s.end_time for s in steps)
    # each training sleeps 0.3 s with three workers: all three ran at the same moment
    assert latest_start < earliest_end
    assert run.steps["compare_models"].start_time >= max(s.end_time for s in steps)
    assert run.steps["compare_models"].output.load() == "c"


def test_model_types_pipeline(trellis_home: Path) -> None:
    out = run_example("model_types_pipeline.py", trellis_home)
    assert "['load_data', 'select_best', 'train_forest', 'train_linear', 'train_tree']" in out
    run = Client().get_pipeline("training_pipeline").last_run
    assert [a.load()["model_type"] for a in run.steps["select_best"].inputs["models"]] == [
        "linear",
        "tree",
        "forest",
    ]
    assert run.outputs["select_best"].load() == "forest"


def test_cached_pipeline(trellis_home: Path) -> None:
    out = run_example("cached_pipeline.py", trellis_home)
    assert "expensive_data_loading: first run completed, second run cached" in out
    assert "train_model: first run completed, second run cached" in out


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_every_example_has_a_test(name: str) -> None:
    tested = {
        "quickstart.py",
        "simple_pipeline.py",
        "parallel_pipeline.py",
        "model_types_pipeline.py",
        "cached_pipeline.py",
    }
    assert name in tested, f"examples/{name} has no test in {__file__}"
