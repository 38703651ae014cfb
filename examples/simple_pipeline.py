"""The reference's simple pipeline: a parameter in, a named greeting artifact out."""

from __future__ import annotations

from typing import Annotated

from trellis import pipeline, step


@step
def simple_step(name: str) -> str:
    return f"Hello {name}!"


@pipeline
def simple_pipeline(name: str = "World") -> Annotated[str, "greeting"]:
    """A simple pipeline that demonstrates trellis basics.

    Args:
        name: Name to include in greeting

    Returns:
        A greeting message as an artifact
    """
    greeting = simple_step(name=name)
    return greeting


if __name__ == "__main__":
    run = simple_pipeline(name="trellis")
    print(run.outputs["greeting"].load())
