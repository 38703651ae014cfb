"""The static checks CI enforces: lint, format, strict types, layers, public API."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import trellis

ROOT = Path(__file__).resolve().parents[1]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; install the test extras: pip install -e '.[test]'")
    return found


def test_ruff_lint_is_clean() -> None:
    result = _run(_tool("ruff"), "check", "src", "tests", "examples", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = _run(_tool("ruff"), "format", "--check", "src", "tests", "examples", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    result = _run(sys.executable, "-m", "mypy", "src")
    assert result.returncode == 0, result.stdout + result.stderr


def test_layer_contract_holds() -> None:
    result = _run(_tool("lint-imports"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_public_api_is_sorted_and_importable() -> None:
    assert trellis.__all__ == sorted(trellis.__all__)
    for name in trellis.__all__:
        assert getattr(trellis, name) is not None


def test_import_trellis_stays_light() -> None:
    code = (
        "import sys, trellis; "
        "heavy = [m for m in ('sqlalchemy', 'alembic', 'fsspec', 'pydantic', 'numpy', "
        "'pandas', 'pyarrow', 'cloudpickle', 'rich', 'click') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    result = _run(sys.executable, "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


TYPED_USAGE = """
from typing import Annotated
from trellis import Pipeline, Step, pipeline, step

@step
def plain(a: int, b: str = "x") -> float:
    return float(a)

@step(enable_cache=False)
def configured(a: int) -> Annotated[int, "out"]:
    return a

@pipeline
def p(n: int = 1) -> None:
    configured(n)

s1: Step[[int, str], float] = plain
s2: Step[[int], int] = configured
pl: Pipeline[[int], None] = p
value: float = plain(1, b="y")
copy: Step[[int], int] = configured.with_options(name="other")
plain("wrong type")
"""


def test_decorators_keep_the_function_signature(tmp_path: Path) -> None:
    module = tmp_path / "typed_usage.py"
    module.write_text(TYPED_USAGE)
    result = _run(sys.executable, "-m", "mypy", "--strict", str(module))
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1, result.stdout
    assert 'Argument 1 to "__call__" of "Step" has incompatible type "str"' in errors[0]
