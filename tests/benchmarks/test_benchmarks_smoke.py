"""The benchmark suite still runs: every case, tiny sizes, one repetition.

It asserts that each case ran and produced numbers, never how fast: timings on
shared CI machines are noise (the figures live in BENCHMARKS.md).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CASES = [
    "import",
    "cli",
    "chain",
    "chain-1000",
    "fan",
    "cached",
    "array",
    "compile-10k",
    "postgres",
    "first-run",
]


def test_every_case_runs_at_tiny_sizes(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--repeat", "1", "--json", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads(output.read_text())
    assert document["quick"] is True
    assert document["machine"]["nproc"] >= 1
    assert document["machine"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert list(document["cases"]) == CASES
    for name, case in document["cases"].items():
        if case["status"] == "skipped":
            # Only PostgreSQL may be missing, and only outside CI (CI starts the server).
            assert name == "postgres", case
            assert not os.environ.get("CI"), f"CI must run the PostgreSQL case: {case['reason']}"
            assert "unreachable" in case["reason"] or "driver" in case["reason"]
            continue
        assert case["status"] == "ok", case
        assert isinstance(case["median"], float), case
        assert math.isfinite(case["median"]), case
        assert case["median"] > 0, case
        assert case["budget"], case
        assert case["within_budget"] is None  # --quick sizes are not the budgets' sizes
    assert "chain-1000" in result.stdout  # the table was printed
