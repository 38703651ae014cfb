"""`trellis run`, `trellis cache explain` and `trellis cache clear`."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from trellis import Client, ExecutionStatus
from trellis.cli import cli, main

PIPELINE_FILE = """
from trellis import pipeline, step

@step
def load(n: int) -> list[int]:
    return list(range(n))

@step
def total(data: list[int], scale: float = 1.0) -> float:
    return sum(data) * scale

@pipeline
def summing(n: int = 3, scale: float = 1.0) -> None:
    total(load(n), scale=scale)

if __name__ == "__main__":
    raise SystemExit("the CLI must import this file, not run it as a script")
"""


@pytest.fixture
def pipeline_file(tmp_path: Path) -> Path:
    path = tmp_path / "summing_pipeline.py"
    path.write_text(textwrap.dedent(PIPELINE_FILE))
    return path


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_run_a_pipeline_file_with_parameters(pipeline_file: Path) -> None:
    code, out = invoke("run", str(pipeline_file), "-p", "n=4", "-p", "scale=0.5")
    assert code == 0
    assert ": completed" in out
    run = Client().get_pipeline("summing").last_run
    assert run.parameters == {"n": 4, "scale": 0.5}
    assert run.steps["total"].output.load() == 3.0


def test_run_no_cache_refreshes_every_step(pipeline_file: Path) -> None:
    invoke("run", f"{pipeline_file}:summing")
    invoke("run", str(pipeline_file))
    assert {s.status for s in Client().get_pipeline("summing").last_run.steps.values()} == {
        ExecutionStatus.CACHED
    }
    code, _ = invoke("run", str(pipeline_file), "--no-cache")
    assert code == 0
    refreshed = Client().get_pipeline("summing").last_run
    assert {s.status for s in refreshed.steps.values()} == {ExecutionStatus.COMPLETED}


def test_run_target_errors(pipeline_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", f"{pipeline_file}:nope"]) == 2
    assert "has no pipeline named 'nope'; it defines: summing." in capsys.readouterr().err
    assert main(["run", "missing_file.py"]) == 2
    assert "No such file: missing_file.py" in capsys.readouterr().err
    assert main(["run", str(pipeline_file), "-p", "oops"]) == 2
    assert "Parameter 'oops' is not name=value" in capsys.readouterr().err
    assert main(["run", str(pipeline_file), "-p", "bogus=1"]) == 2
    assert "Unknown parameter `bogus` for pipeline `summing`" in capsys.readouterr().err


def test_cache_explain_and_clear(pipeline_file: Path) -> None:
    invoke("run", str(pipeline_file), "-p", "scale=1.0")
    invoke("run", str(pipeline_file), "-p", "scale=2.0")
    run = Client().get_pipeline("summing").last_run
    code, out = invoke("cache", "explain", run.name, "total")
    assert code == 0
    assert out.splitlines() == [
        f"Step `total` in run `{run.name}`: cache miss",
        "- parameter `scale` changed 1.0 → 2.0",
    ]
    code, out = invoke("cache", "explain", run.id, "load")
    assert "cache hit" in out.splitlines()[0]
    code, out = invoke("cache", "clear", "--pipeline", "summing", "--step", "load")
    assert out.strip() == "Cleared 1 cached step result; their artifacts are kept."
    code, out = invoke("cache", "clear", "--older-than", "3")
    assert out.startswith("Cleared 0 cached step results")


def test_cache_explain_unknown_step(
    pipeline_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    invoke("run", str(pipeline_file))
    run = Client().get_pipeline("summing").last_run
    assert main(["cache", "explain", run.id, "nope"]) == 3
    assert "has no step `nope`; its steps are: load, total." in capsys.readouterr().err


FAILING_FILE = """
from trellis import pipeline, step

@step
def divide(x: float) -> float:
    return 1 / x

@pipeline(enable_cache=False)
def dividing(x: float = 0.0) -> None:
    divide(x)
"""


def test_a_failed_run_shows_the_step_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "dividing.py"
    path.write_text(textwrap.dedent(FAILING_FILE))
    assert main(["run", str(path)]) == 1
    err = capsys.readouterr().err
    assert "return 1 / x" in err  # the step's own traceback, before the summary
    assert err.index("ZeroDivisionError: float division by zero") < err.index("Error: Pipeline")
    run = Client().get_pipeline("dividing").last_run
    assert main(["runs", "show", run.id]) == 0
    out = capsys.readouterr().out
    assert "Traceback of step `divide` (attempt 1):" in out
    assert "return 1 / x" in out
