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

from trellis.config import ArtifactConfig, ExecutionMode
from trellis.dsl import ExternalArtifact, OutputHandle, Pipeline, Step, pipeline, step
from trellis.exceptions import (
    DefinitionError,
    NotFoundError,
    RunFailedError,
    StepFailedError,
    TrellisError,
)

if TYPE_CHECKING:
    from trellis.artifacts import BaseMaterializer, register_materializer
    from trellis.client import Client, add_tags, load_artifact, remove_tags
    from trellis.config import CachePolicy, DockerSettings, ResourceSettings, RetryConfig
    from trellis.engine import log_metadata, save_artifact
    from trellis.metadata import ExecutionStatus
    from trellis.runtime import StepContext, get_step_context

__version__ = "0.1.0"

__all__ = [
    "ArtifactConfig",
    "BaseMaterializer",
    "CachePolicy",
    "Client",
    "DefinitionError",
    "DockerSettings",
    "ExecutionMode",
    "ExecutionStatus",
    "ExternalArtifact",
    "NotFoundError",
    "OutputHandle",
    "Pipeline",
    "ResourceSettings",
    "RetryConfig",
    "RunFailedError",
    "Step",
    "StepContext",
    "StepFailedError",
    "TrellisError",
    "add_tags",
    "get_step_context",
    "load_artifact",
    "log_metadata",
    "pipeline",
    "register_materializer",
    "remove_tags",
    "save_artifact",
    "step",
]

_LAZY = {
    "CachePolicy": "trellis.config",
    "DockerSettings": "trellis.config",
    "ResourceSettings": "trellis.config",
    "RetryConfig": "trellis.config",
    "add_tags": "trellis.client",
    "remove_tags": "trellis.client",
    "log_metadata": "trellis.engine",
    "save_artifact": "trellis.engine",
    "StepContext": "trellis.runtime",
    "get_step_context": "trellis.runtime",
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
