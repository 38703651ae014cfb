"""Medians and spreads, the table on stdout, the JSON file and the machine they ran on."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks._harness import ROOT, Measurements
from benchmarks.cases import Case


def summarize(repetitions: Sequence[Measurements]) -> dict[str, dict[str, Any]]:
    """Median, min, max and every value of each measurement over the repetitions."""
    names = dict.fromkeys(name for measurements in repetitions for name in measurements)
    summary: dict[str, dict[str, Any]] = {}
    for name in names:
        values = [m[name] for m in repetitions if name in m]
        summary[name] = {
            "median": statistics.median(values),
            "min": min(values),
            "max": max(values),
            "values": values,
        }
    return summary


def case_result(
    case: Case, sizes: Mapping[str, int], repetitions: Sequence[Measurements], quick: bool
) -> dict[str, Any]:
    """The JSON record of a case that ran: its main figure, every measurement, the budget."""
    measurements = summarize(repetitions)
    medians = {name: values["median"] for name, values in measurements.items()}
    main = measurements[case.main]
    return {
        **case.describe(),
        "status": "ok",
        "sizes": dict(sizes),
        "median": main["median"],
        "min": main["min"],
        "max": main["max"],
        # budgets are stated for the full sizes; --quick runs only check that it works
        "within_budget": None if quick else all(check.passes(medians) for check in case.budget),
        "checks": {check.text: None if quick else check.passes(medians) for check in case.budget},
        "measurements": measurements,
    }


def _read(path: str, key: str) -> str | None:
    try:
        with open(path) as lines:
            for line in lines:
                name, _, value = line.partition(":")
                if name.strip() == key:
                    return value.strip()
    except OSError:
        pass
    return None


def _git(*args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip()


def _usable_cpus() -> int | None:
    """What ``nproc`` prints: the CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


def machine_info() -> dict[str, Any]:
    memory = _read("/proc/meminfo", "MemTotal")
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "nproc": _usable_cpus(),
        "cpu_model": _read("/proc/cpuinfo", "model name") or platform.processor() or None,
        "memory_total_mb": int(memory.split()[0]) // 1024 if memory else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "python_executable": sys.executable,
        "trellis": importlib.metadata.version("trellis"),
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": None if status is None else bool(status),
        # other work on a shared machine shows up as noise in every figure
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


# --- the table ----------------------------------------------------------------------------


def format_value(name: str, value: float) -> str:
    """A measurement with its unit, read from its name."""
    if name.endswith("seconds"):
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if name.endswith("ms_per_step"):
        return f"{value:.2f} ms/step"
    if name.endswith("_mb"):
        return f"{value:.0f} MB"
    return f"{value:.2f}x"


def _detail(name: str, value: float) -> str:
    label = name.removesuffix("seconds").removesuffix("ms_per_step").removesuffix("mb")
    return " ".join(filter(None, [label.replace("_", " ").strip(), format_value(name, value)]))


def _row(name: str, result: Mapping[str, Any]) -> list[str]:
    status = result["status"]
    if status == "skipped":
        return [name, "-", "-", result["budget"], "skipped", result["reason"]]
    if status == "error":
        first_line = str(result["error"]).splitlines()[0] if result["error"] else ""
        return [name, "-", "-", result["budget"], "ERROR", first_line]
    main = result["main"]
    within = result["within_budget"]
    details = [
        _detail(label, values["median"])
        for label, values in result["measurements"].items()
        if label != main
    ]
    return [
        name,
        format_value(main, result["median"]),
        f"{format_value(main, result['min'])} - {format_value(main, result['max'])}",
        result["budget"],
        "n/a" if within is None else ("✓" if within else "✗"),
        "; ".join(details),
    ]


def table(results: Mapping[str, Mapping[str, Any]]) -> str:
    """Plain aligned text, one row per case."""
    header = ["case", "median", "spread (min - max)", "budget", "ok", "details (medians)"]
    rows = [header] + [_row(name, result) for name, result in results.items()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        + "  "
        + row[-1]
        for row in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(line.rstrip() for line in lines)


def markdown_table(results: Mapping[str, Mapping[str, Any]]) -> str:
    """The table of BENCHMARKS.md: the issue's columns with the measured medians."""
    lines = [
        "| case | what | budget | median (min - max) | ok | ZenML 0.98 |",
        "|---|---|---|---|---|---|",
    ]
    for name, result in results.items():
        row = _row(name, result)
        measured = f"{row[1]} ({row[2]})" if result["status"] == "ok" else row[4]
        cells = [name, result["what"], row[3], measured, row[4], result["zenml_0_98"]]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)


def machine_line(machine: Mapping[str, Any]) -> str:
    return (
        f"{machine['nproc']} CPUs ({machine['cpu_model']}), Python {machine['python']}, "
        f"trellis {machine['trellis']} at {str(machine['git_commit'])[:12]}"
        + (" (uncommitted changes)" if machine["git_dirty"] else "")
        + f"; load average {machine['load_average_at_start'][0]:.2f} at start"
    )


def write_json(path: Path, document: Mapping[str, Any]) -> None:
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
