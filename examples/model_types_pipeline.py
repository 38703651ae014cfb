"""The reference's loop over model types: one configured copy of a step per type."""

from __future__ import annotations

from trellis import pipeline, step


@step
def load_data() -> list[float]:
    return [0.5, 1.5, 2.5, 3.5]


@step
def train_model(data: list[float], model_type: str) -> dict[str, float | str]:
    factor = {"linear": 1.0, "tree": 1.2, "forest": 1.5}.get(model_type, 0.5)
    return {"model_type": model_type, "score": round(sum(data) * factor, 3)}


@step
def select_best(models: list[dict[str, float | str]]) -> str:
    best = max(models, key=lambda m: float(m["score"]))
    return str(best["model_type"])


@pipeline
def training_pipeline(model_types: list[str]) -> str:
    """Train one model per type, then pick the best."""
    data = load_data()
    models = []
    for model_type in model_types:
        model = train_model.with_options(name=f"train_{model_type}")(
            data=data, model_type=model_type
        )
        models.append(model)
    best_model = select_best(models)
    return best_model


if __name__ == "__main__":
    run = training_pipeline(model_types=["linear", "tree", "forest"])
    print(sorted(run.steps))
    print("best:", run.outputs["select_best"].load())
