"""Read-side query API over the metadata and artifact stores."""

from __future__ import annotations

from trellis.client._client import Client, load_artifact
from trellis.client._explain import CacheExplanation, explain_cache
from trellis.client._stores import close_metadata_stores, open_metadata_store
from trellis.client._views import (
    ArtifactVersionView,
    PipelineRunView,
    PipelineView,
    StepRunView,
)

__all__ = [
    "ArtifactVersionView",
    "CacheExplanation",
    "Client",
    "PipelineRunView",
    "PipelineView",
    "StepRunView",
    "close_metadata_stores",
    "explain_cache",
    "load_artifact",
    "open_metadata_store",
]
