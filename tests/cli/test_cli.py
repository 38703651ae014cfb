"""The CLI over a store with real runs; piped output is plain tab-separated text."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import click
import pytest
from click.testing import CliRunner

from trellis import pipeline, step
from trellis.cli import cli, main


@step
def produce(n: int) -> Annotated[int, "number"]:
    return n


@step
def double(x: int) -> int:
    return x * 2


@pipeline(enable_cache=False)
def numbers(n: int = 2) -> None:
    double(produce(n))


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_runs_list_and_show() -> None:
    first = numbers()
    numbers(n=5)
    code, out = invoke("runs", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split("\t") == ["id", "name", "pipeline", "status", "started", "duration"]
    assert len(lines) == 3
    assert lines[2].startswith(first.id)
    code, out = invoke("runs", "show", first.name)
    assert code == 0
    assert f"id          {first.id}" in out
    step_lines = out.split("step\tstatus\tattempts\tstarted\tduration\toutputs\n", 1)[1]
    step_lines = step_lines.splitlines()
    assert [line.split("\t")[:2] for line in step_lines] == [
        ["produce", "completed"],
        ["double", "completed"],
    ]
    assert "number:v1" in step_lines[0]


def test_runs_list_filters_by_pipeline_and_status() -> None:
    numbers()
    code, out = invoke("runs", "list", "--status", "failed")
    assert code == 0
    assert out.splitlines()[1:] == []
    code, out = invoke("runs", "list", "--pipeline", "numbers", "--status", "completed")
    assert len(out.splitlines()) == 2
    result = CliRunner().invoke(cli, ["runs", "list", "--status", "bogus"])
    assert result.exit_code == 2
    assert "choose one of" in result.output


def test_artifacts_list_and_versions() -> None:
    numbers(n=1)
    numbers(n=2)
    _, out = invoke("artifacts", "list")
    rows = [line.split("\t") for line in out.splitlines()[1:]]
    assert ["number", "2"] in [row[:2] for row in rows]
    assert ["numbers::double::output", "2"] in [row[:2] for row in rows]
    _code, out = invoke("artifacts", "versions", "number")
    assert [line.split("\t")[0] for line in out.splitlines()[1:]] == ["2", "1"]


def test_errors_render_once_with_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs", "show", "no-such-run"]) == 3
    err = capsys.readouterr().err
    assert err == (
        "Error: No pipeline run named or with id 'no-such-run'. "
        "List runs with `trellis runs list`.\n"
    )
    assert main(["artifacts", "versions", "nope"]) == 3


def test_init_creates_project_folder(tmp_path: Path) -> None:
    code, out = invoke("init", str(tmp_path))
    assert code == 0
    assert f"Created {tmp_path / '.trellis'}" in out
    assert (tmp_path / ".trellis" / "config.toml").is_file()
    code, out = invoke("init", str(tmp_path))
    assert "Already initialized" in out


def test_help_lists_every_command() -> None:
    code, out = invoke("--help")
    assert code == 0
    for command in ("init", "runs", "artifacts"):
        assert command in out
    assert main(["--help"]) == 0


def test_runs_are_stored_in_the_nearest_project_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    assert main(["init", str(project)]) == 0
    monkeypatch.delenv("TRELLIS_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "user-data"))
    monkeypatch.chdir(project / "src")
    run = numbers(n=4)
    assert (project / ".trellis" / "trellis.db").is_file()
    assert not (tmp_path / "user-data").exists()
    code, out = invoke("runs", "list")
    assert code == 0
    assert run.id in out


def _commands(group: click.Group, prefix: str = "trellis") -> list[str]:
    found = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
        else:
            found.append(path)
    return found


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = [
        command
        for command in _commands(cli)
        if not re.search(re.escape(command) + r"(?![\w-])", readme)
    ]
    assert missing == [], f"README.md does not mention {missing}"


@step
def chatty_step(n: int) -> int:
    print(f"working on {n}")
    return n


def test_runs_logs_and_tag_filters() -> None:
    @pipeline(tags=["weekly"], enable_cache=False)
    def logged(n: int = 1) -> None:
        chatty_step(n)

    run = logged(n=5)
    numbers()
    code, out = invoke("runs", "logs", run.name, "chatty_step")
    assert code == 0
    assert out == "working on 5\n"
    code, out = invoke("runs", "logs", run.id)
    assert out.splitlines() == ["== chatty_step (completed) ==", "working on 5"]
    code, out = invoke("runs", "list", "--tag", "weekly")
    assert [line.split("\t")[0] for line in out.splitlines()[1:]] == [run.id]
    code, out = invoke("artifacts", "list", "--tag", "nope")
    assert out.splitlines()[1:] == []
    assert main(["runs", "logs", run.id, "ghost"]) == 3
