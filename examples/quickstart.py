"""Quickstart: three steps, one pipeline, a recorded run you can query.

Run it with ``python examples/quickstart.py``; then try ``trellis runs list``.
"""

from __future__ import annotations

from typing import Annotated

from trellis import Client, pipeline, step


@step
def load_data() -> Annotated[dict[str, list[float]], "dataset"]:
    """A tiny data set: y is roughly 2 * x."""
    return {"x": [1.0, 2.0, 3.0, 4.0, 5.0], "y": [2.1, 3.9, 6.2, 7.8, 10.1]}


@step
def train(
    data: dict[str, list[float]], lr: float = 0.01, epochs: int = 200
) -> Annotated[float, "slope"]:
    """Fit y = w * x by gradient descent."""
    w = 0.0
    for _ in range(epochs):
        grad = sum(2 * (w * x - y) * x for x, y in zip(data["x"], data["y"], strict=False)) / len(
            data["x"]
        )
        w -= lr * grad
    return w


@step
def evaluate(data: dict[str, list[float]], slope: float) -> Annotated[float, "mse"]:
    """Mean squared error of the fitted line."""
    errors = [(slope * x - y) ** 2 for x, y in zip(data["x"], data["y"], strict=False)]
    return sum(errors) / len(errors)


@pipeline
def training(lr: float = 0.01) -> Annotated[float, "mse"]:
    data = load_data()
    slope = train(data, lr=lr)
    return evaluate(data, slope)


if __name__ == "__main__":
    run = training(lr=0.02)
    print(f"Run {run.name}: {run.status.value}")
    for name, step_run in run.steps.items():
        print(f"  {name:<10} {step_run.status.value:<10} {step_run.output.load()!r}")
    print(f"Pipeline output mse = {run.outputs['mse'].load():.4f}")

    client = Client()
    latest = client.get_artifact_version("slope")
    print(f"Artifact 'slope' v{latest.version} = {latest.load():.3f}")
    print(f"{len(client.get_pipeline('training').runs)} run(s) recorded in {client.settings.home}")
    print("Next: `trellis runs list` and `trellis runs show " + run.id + "`")
