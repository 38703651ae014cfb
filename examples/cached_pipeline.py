"""The reference's cached pipeline: a second run reuses both steps' results."""

from __future__ import annotations

from trellis import pipeline, step


@step
def expensive_data_loading() -> list[int]:
    return [i * i for i in range(1000)]


@step
def train_model(data: list[int]) -> float:
    return sum(data) / len(data)


@pipeline(enable_cache=True)  # Default is True
def cached_pipeline() -> None:
    data = expensive_data_loading()  # Cached after first run
    train_model(data)  # Only reruns if data changes


if __name__ == "__main__":
    first = cached_pipeline()
    second = cached_pipeline()
    for name in first.steps:
        before, after = first.steps[name].status, second.steps[name].status
        print(f"{name}: first run {before.value}, second run {after.value}")
