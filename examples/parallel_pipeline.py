"""The reference's parallel pipeline: three independent trainings run at the same time."""

from __future__ import annotations

import time

from trellis import pipeline, step


@step
def load_data() -> list[int]:
    return list(range(10))


def _train(data: list[int], weight: int) -> dict[str, float]:
    started = time.time()
    time.sleep(0.3)  # stands in for real training work
    return {"score": sum(data) * weight / 100, "started": started, "ended": time.time()}


@step
def train_model_a(data: list[int]) -> dict[str, float]:
    return _train(data, 1)


@step
def train_model_b(data: list[int]) -> dict[str, float]:
    return _train(data, 2)


@step
def train_model_c(data: list[int]) -> dict[str, float]:
    return _train(data, 3)


@step
def compare_models(a: dict[str, float], b: dict[str, float], c: dict[str, float]) -> str:
    scores = {"a": a["score"], "b": b["score"], "c": c["score"]}
    return max(scores, key=lambda name: scores[name])


# Independent steps run at once, one per CPU by default; three here so that the
# three trainings overlap even on a 2-core machine. Caching is off so that every
# run of this example really trains.
@pipeline(enable_cache=False, max_parallelism=3)
def parallel_pipeline() -> None:
    data = load_data()
    # These three steps run in parallel (no dependencies between them)
    train_result = train_model_a(data)
    test_result = train_model_b(data)
    baseline = train_model_c(data)
    # This step waits for all three to complete
    compare_models(train_result, test_result, baseline)


if __name__ == "__main__":
    run = parallel_pipeline()
    for name in ("train_model_a", "train_model_b", "train_model_c"):
        step = run.steps[name]
        print(f"{name}: {step.start_time:%H:%M:%S.%f} -> {step.end_time:%H:%M:%S.%f}")
    print("best:", run.steps["compare_models"].output.load())
