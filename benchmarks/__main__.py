"""``python -m benchmarks``: run the cases, print a table, write JSON.

Every repetition of every case runs in fresh processes with empty stores; the
table shows the median and the spread (min - max) of the repetitions, and the
budget of issue 5 with ✓/✗. Timings never fail the suite: the exit code is 1
only when a case crashed.

Example:
    python -m benchmarks                      # every case, 5 repetitions
    python -m benchmarks --case chain --case fan --repeat 9
    python -m benchmarks --quick --repeat 1   # tiny sizes: does it still run?
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks._harness import CaseError, CaseSkipped, Harness, Measurements
from benchmarks._report import (
    case_result,
    machine_info,
    machine_line,
    markdown_table,
    table,
    write_json,
)
from benchmarks.cases import CASES, Case

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "latest.json"


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    names = [case.name for case in CASES]
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--case",
        action="append",
        choices=names,
        metavar="NAME",
        help=f"run only this case (repeatable): {', '.join(names)}",
    )
    parser.add_argument("--repeat", type=int, default=5, help="repetitions per case (5)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a CI smoke run")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write JSON")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument(
        "--markdown", action="store_true", help="also print the table as Markdown (BENCHMARKS.md)"
    )
    arguments = parser.parse_args(argv)
    if arguments.repeat < 1:
        parser.error("--repeat must be at least 1")
    return arguments


def run_case(case: Case, harness: Harness, repeat: int, quick: bool) -> dict[str, Any]:
    sizes = case.sizes_for(quick)
    repetitions: list[Measurements] = []
    try:
        for index in range(repeat):
            print(f"  {case.name} {index + 1}/{repeat}", file=sys.stderr, flush=True)
            repetitions.append(case.measure(harness, sizes))
    except CaseSkipped as exc:
        return {**case.describe(), "status": "skipped", "reason": str(exc), "sizes": dict(sizes)}
    except Exception as exc:  # one crashed case must not hide the others' figures
        if not isinstance(exc, CaseError):
            traceback.print_exc()
        return {**case.describe(), "status": "error", "error": str(exc), "sizes": dict(sizes)}
    return case_result(case, sizes, repetitions, quick)


def main(argv: list[str]) -> int:
    arguments = parse_arguments(argv)
    selected = [c for c in CASES if arguments.case is None or c.name in arguments.case]
    if arguments.list:
        for case in CASES:
            print(f"{case.name:12}  {case.what}  (budget: {case.describe()['budget']})")
        return 0
    machine = machine_info()
    print(f"Machine: {machine_line(machine)}", file=sys.stderr)
    started = datetime.now(UTC)
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="trellis-bench-") as scratch:
        harness = Harness(Path(scratch))
        for case in selected:
            results[case.name] = run_case(case, harness, arguments.repeat, arguments.quick)
    document = {
        "command": shlex.join(["python", "-m", "benchmarks", *argv]),
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "repeat": arguments.repeat,
        "quick": arguments.quick,
        "machine": machine,
        "cases": results,
    }
    machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    write_json(arguments.json, document)
    print(f"\n{machine_line(machine)}; {arguments.repeat} repetition(s) per case")
    print(table(results))
    if arguments.markdown:
        print("\n" + markdown_table(results))
    print(f"\nJSON: {arguments.json}")
    return 1 if any(r["status"] == "error" for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
