"""`trellis build`: a Dockerfile and build context written from a pipeline's docker settings."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import click
import pytest
from click.testing import CliRunner

from trellis.cli._build import build_command, docker_settings_of, write_build_context
from trellis.config._docker import DockerSettings, render_dockerfile
from trellis.exceptions import ConfigurationError

PIPELINE_SOURCE = """\
from trellis import pipeline, step
from trellis.config import DockerSettings


@step
def produce() -> int:
    return 2


@pipeline(OPTIONS)
def training() -> None:
    produce()
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A pipeline folder with a helper module, a data file and things never copied."""
    folder = tmp_path / "project"
    (folder / "data").mkdir(parents=True)
    (folder / "pipeline.py").write_text("# the pipeline\n")
    (folder / "helpers.py").write_text("def double(x): return 2 * x\n")
    (folder / "data" / "labels.csv").write_text("a,b\n1,2\n")
    (folder / "requirements-prod.txt").write_text("# pinned\nnumpy==1.26.4\n")
    for excluded in (".git", "__pycache__", ".trellis", ".venv", "data/__pycache__"):
        (folder / excluded).mkdir(parents=True)
        (folder / excluded / "junk").write_text("not copied\n")
    return folder


def written_names(paths: list[Path], root: Path) -> list[str]:
    return [path.relative_to(root).as_posix() for path in paths]


def build(project: Path, output: Path, settings: DockerSettings) -> list[Path]:
    return write_build_context(
        output,
        pipeline_name="training",
        pipeline_file=project / "pipeline.py",
        settings=settings,
        python_version="3.11",
        trellis_requirement="trellis==0.1.0",
    )


# --- write_build_context ------------------------------------------------------------------


def test_context_with_a_requirements_list(project: Path, tmp_path: Path) -> None:
    output = tmp_path / "out"
    settings = DockerSettings(requirements=["numpy>=1.26", "pandas"], apt_packages=["git"])
    written = build(project, output, settings)
    assert written_names(written, output) == [
        "Dockerfile",
        ".dockerignore",
        "requirements.txt",
        "src/data/labels.csv",
        "src/helpers.py",
        "src/pipeline.py",
        "src/requirements-prod.txt",
    ]
    assert all(path.is_file() for path in written)
    assert (output / "requirements.txt").read_text() == "numpy>=1.26\npandas\n"
    assert (output / "Dockerfile").read_text() == render_dockerfile(
        settings,
        pipeline_name="training",
        python_version="3.11",
        trellis_requirement="trellis==0.1.0",
        requirements_file="requirements.txt",
        source_dir="src",
        entry_module="pipeline",
    )
    assert (output / "src" / "helpers.py").read_text() == "def double(x): return 2 * x\n"
    assert "**/__pycache__" in (output / ".dockerignore").read_text().splitlines()
    for excluded in (".git", "__pycache__", ".trellis", ".venv", "data/__pycache__"):
        assert not (output / "src" / excluded).exists()


def test_context_with_a_requirements_file(project: Path, tmp_path: Path) -> None:
    output = tmp_path / "out"
    written = build(project, output, DockerSettings(requirements="requirements-prod.txt"))
    assert "requirements.txt" in written_names(written, output)
    assert (output / "requirements.txt").read_bytes() == (
        project / "requirements-prod.txt"
    ).read_bytes()
    absolute = DockerSettings(requirements=str(project / "requirements-prod.txt"))
    build(project, output, absolute)
    assert (output / "requirements.txt").read_text() == "# pinned\nnumpy==1.26.4\n"


def test_missing_requirements_file_says_where_it_looked(project: Path, tmp_path: Path) -> None:
    message = (
        f"The requirements file {project / 'numpy'} of pipeline `training` does not exist "
        f"(relative paths are read from the pipeline's folder {project}). Fix "
        "DockerSettings(requirements=...), or give a list such as requirements=['pandas']."
    )
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        build(project, tmp_path / "out", DockerSettings(requirements="numpy"))
    assert not (tmp_path / "out").exists()  # nothing written before the error


def test_output_inside_the_pipeline_folder_is_not_copied(project: Path) -> None:
    other = project / "build" / "other"
    build(project, other, DockerSettings())
    output = project / "build" / "training"
    written = build(project, output, DockerSettings())
    names = written_names(written, output)
    assert "src/pipeline.py" in names
    assert not any(name.startswith("src/build") for name in names)  # neither this nor other
    assert not (output / "src" / "build").exists()


def test_rebuild_replaces_stale_files(project: Path, tmp_path: Path) -> None:
    output = tmp_path / "out"
    build(project, output, DockerSettings(requirements=["numpy"]))
    (project / "helpers.py").unlink()
    build(project, output, DockerSettings())
    assert not (output / "requirements.txt").exists()
    assert not (output / "src" / "helpers.py").exists()
    written = build(project, output, DockerSettings(copy_files=False))
    assert written_names(written, output) == ["Dockerfile", ".dockerignore"]
    assert not (output / "src").exists()
    dockerfile = (output / "Dockerfile").read_text()
    assert "COPY src/" not in dockerfile
    assert "PYTHONPATH" not in dockerfile


def test_user_dockerfile_is_read_from_the_pipeline_folder(project: Path, tmp_path: Path) -> None:
    (project / "base.Dockerfile").write_text("FROM ubuntu:24.04\nRUN apt-get update\n")
    output = tmp_path / "out"
    build(project, output, DockerSettings(dockerfile="base.Dockerfile"))
    lines = (output / "Dockerfile").read_text().splitlines()
    assert lines[2:6] == [
        "# Base: base.Dockerfile",
        "FROM ubuntu:24.04",
        "RUN apt-get update",
        "# trellis layers",
    ]
    with pytest.raises(ConfigurationError, match=re.escape("use parent_image= instead")):
        build(project, output, DockerSettings(dockerfile="missing.Dockerfile"))


@pytest.mark.parametrize(
    ("make_output", "message"),
    [
        pytest.param(
            lambda tmp: tmp / "project",
            "contains the pipeline's folder",
            id="output-is-the-source",
        ),
        pytest.param(lambda tmp: tmp, "contains the pipeline's folder", id="output-above-source"),
        pytest.param(
            lambda tmp: tmp / "project" / "helpers.py",
            "is a file; choose a folder with --output",
            id="output-is-a-file",
        ),
        pytest.param(
            lambda tmp: tmp / "project" / "data",
            "is not empty and was not written by `trellis build`; choose a new or empty folder "
            "with --output.",
            id="foreign-folder",
        ),
    ],
)
def test_unsafe_output_folders_are_refused(
    project: Path, tmp_path: Path, make_output: Callable[[Path], Path], message: str
) -> None:
    output = make_output(tmp_path)
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        build(project, output, DockerSettings())
    assert (project / "data" / "labels.csv").is_file()


# --- the command ------------------------------------------------------------------------------


def invoke(*args: str) -> str:
    group = click.Group("trellis")
    group.add_command(build_command())
    result = CliRunner().invoke(group, ["build", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def write_pipeline(folder: Path, name: str, docker: str | None) -> Path:
    """``folder/name.py`` defining pipeline ``training`` with ``settings={"docker": docker}``."""
    options = "" if docker is None else f'settings={{"docker": {docker}}}'
    path = folder / f"{name}.py"
    path.write_text(PIPELINE_SOURCE.replace("OPTIONS", options))
    return path


def test_command_end_to_end(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_pipeline(
        project,
        "train_pipeline",
        'DockerSettings(requirements=["scikit-learn>=1.4"], apt_packages=["libgomp1"], '
        'environment={"OMP_NUM_THREADS": "4"})',
    )
    monkeypatch.chdir(project)
    out = invoke("train_pipeline.py:training")
    output = project / "build" / "training"
    assert out.splitlines() == [
        "Wrote the build context of pipeline `training` to build/training:",
        "  Dockerfile",
        "  .dockerignore",
        "  requirements.txt",
        f"  src/ (5 files from {project})",
        "Build the image with: docker build -t training build/training",
    ]
    lines = (output / "Dockerfile").read_text().splitlines()
    major, minor = sys.version_info[:2]
    assert lines[0] == (
        "# Generated by `trellis build` for pipeline `training` (module `train_pipeline`)."
    )
    assert lines[2] == f"FROM python:{major}.{minor}-slim"
    assert "ENV OMP_NUM_THREADS=4" in lines
    assert any("--no-install-recommends libgomp1" in line for line in lines)
    import trellis

    assert lines[-2] == f"RUN python -m pip install --no-cache-dir trellis=={trellis.__version__}"
    assert (output / "requirements.txt").read_text() == "scikit-learn>=1.4\n"
    assert (output / "src" / "train_pipeline.py").is_file()
    assert not (output / "src" / "build").exists()
    assert not (output / "src" / ".git").exists()
    # a second build into the same folder replaces it
    assert invoke("train_pipeline.py") == out


def test_command_with_output_and_module_target(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_pipeline(project, "build_cli_module_target", "DockerSettings(copy_files=False)")
    monkeypatch.syspath_prepend(str(project))
    try:
        out = invoke("build_cli_module_target:training", "--output", str(tmp_path / "image"))
    finally:
        sys.modules.pop("build_cli_module_target", None)
    assert out.splitlines() == [
        f"Wrote the build context of pipeline `training` to {tmp_path / 'image'}:",
        "  Dockerfile",
        "  .dockerignore",
        f"Build the image with: docker build -t training {tmp_path / 'image'}",
    ]
    assert not (tmp_path / "image" / "src").exists()


def test_command_without_docker_settings_uses_defaults(project: Path, tmp_path: Path) -> None:
    path = write_pipeline(project, "plain_pipeline", None)
    invoke(str(path), "-o", str(tmp_path / "out"))
    lines = (tmp_path / "out" / "Dockerfile").read_text().splitlines()
    assert lines[2].startswith("FROM python:3.")
    assert not (tmp_path / "out" / "requirements.txt").exists()


def test_settings_given_as_a_dict_are_validated() -> None:
    stub = SimpleNamespace(name="training", settings={"docker": {"apt_packages": ["git"]}})
    assert docker_settings_of(stub) == DockerSettings(apt_packages=["git"])  # type: ignore[arg-type]
    bad = SimpleNamespace(name="training", settings={"docker": {"apt_packages": ["Git"]}})
    with pytest.raises(
        ConfigurationError,
        match=re.escape("The docker settings of pipeline `training` are invalid: 1 validation"),
    ) as info:
        docker_settings_of(bad)  # type: ignore[arg-type]
    assert "apt package 'Git' is not a valid Debian package name" in str(info.value)


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({}, id="no-docker-key"),
        pytest.param(None, id="no-settings"),
        pytest.param({"docker": None}, id="docker-none"),
    ],
)
def test_missing_settings_mean_defaults(settings: object) -> None:
    stub = SimpleNamespace(name="training", settings=settings)
    assert docker_settings_of(stub) == DockerSettings()  # type: ignore[arg-type]
    assert docker_settings_of(SimpleNamespace(name="bare")) == DockerSettings()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        pytest.param(
            {"docker": "python:3.11"},
            'settings["docker"] of pipeline `training` must be DockerSettings(...), got str.',
            id="wrong-type",
        ),
        pytest.param(
            ["docker"],
            "Pipeline `training` has settings=['docker']; settings must be a dict such as "
            '{"docker": DockerSettings(...)}.',
            id="not-a-dict",
        ),
    ],
)
def test_settings_of_the_wrong_type_are_refused(settings: object, message: str) -> None:
    stub = SimpleNamespace(name="training", settings=settings)
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        docker_settings_of(stub)  # type: ignore[arg-type]


def test_command_reports_a_missing_requirements_file(project: Path, tmp_path: Path) -> None:
    path = write_pipeline(project, "missing_pipeline", 'DockerSettings(requirements="nope.txt")')
    with pytest.raises(ConfigurationError, match=re.escape("nope.txt of pipeline `training`")):
        invoke(str(path), "-o", str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_command_help_names_the_target_forms() -> None:
    group = click.Group("trellis")
    group.add_command(build_command())
    result = CliRunner().invoke(group, ["build", "--help"])
    assert result.exit_code == 0
    assert "path/to/file.py[:pipeline] or package.module[:pipeline]" in result.output
    assert "--output" in result.output


def test_registering_the_command_imports_no_pydantic() -> None:
    code = (
        "import sys; from trellis.cli._build import build_command; build_command(); "
        "print('pydantic' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
