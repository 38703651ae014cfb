"""trellis: machine-learning pipelines as plain Python functions.

Example:
    >>> from trellis import pipeline, step
    >>> @step
    ... def greet(name: str) -> str:
    ...     return f"Hello {name}!"
    >>> @pipeline
    ... def hello(name: str = "World") -> None:
    ...     greet(name=name)

Names that need the stores (``Client``, ``load_artifact``, materializers) are
imported on first use so that ``import trellis`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trellis.dsl import OutputHandle, Pipeline, Step, pipeline, step
from trellis.exceptions import (
    DefinitionError,
    NotFoundError,
    RunFailedError,
    StepFailedError,
    TrellisError,
)

if TYPE_CHECKING:
    from trellis.artifacts import BaseMaterializer, register_materializer
    from trellis.client import Client, load_artifact
    from trellis.config import CachePolicy
    from trellis.metadata import ExecutionStatus

__version__ = "0.1.0"

__all__ = [
    "BaseMaterializer",
    "CachePolicy",
    "Client",
    "DefinitionError",
    "ExecutionStatus",
    "NotFoundError",
    "OutputHandle",
    "Pipeline",
    "RunFailedError",
    "Step",
    "StepFailedError",
    "TrellisError",
    "load_artifact",
    "pipeline",
    "register_materializer",
    "step",
]

_LAZY = {
    "CachePolicy": "trellis.config",
    "BaseMaterializer": "trellis.artifacts",
    "register_materializer": "trellis.artifacts",
    "Client": "trellis.client",
    "load_artifact": "trellis.client",
    "ExecutionStatus": "trellis.metadata",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'trellis' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
