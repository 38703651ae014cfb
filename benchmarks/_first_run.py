"""What a user's first ``python my_pipeline.py`` does: import, new store, 3 steps.

The parent times this whole process; the line printed at the end splits it up.
"""

from __future__ import annotations

import json
import time

started = time.perf_counter()

from trellis import pipeline, step  # noqa: E402

imported = time.perf_counter()


@step
def load() -> list[int]:
    return [1, 2, 3]


@step
def double(data: list[int]) -> list[int]:
    return [2 * x for x in data]


@step
def total(data: list[int]) -> int:
    return sum(data)


@pipeline(enable_cache=False)
def first_run() -> None:
    total(double(load()))


if __name__ == "__main__":
    run = first_run()
    assert run.status == "completed", run.status
    finished = time.perf_counter()
    print(json.dumps({"import_seconds": imported - started, "run_seconds": finished - imported}))
