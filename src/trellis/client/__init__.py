"""Read-side query API over the metadata and artifact stores."""

from __future__ import annotations

from trellis.client._client import Client, add_tags, load_artifact, remove_tags
from trellis.client._explain import CacheExplanation, explain_cache
from trellis.client._stores import close_metadata_stores, open_metadata_store
from trellis.client._views import (
    ArtifactVersionView,
    PipelineRunView,
    PipelineView,
    StepRunView,
    Visualization,
)

__all__ = [
    "ArtifactVersionView",
    "CacheExplanation",
    "Client",
    "PipelineRunView",
    "PipelineView",
    "StepRunView",
    "Visualization",
    "add_tags",
    "close_metadata_stores",
    "explain_cache",
    "load_artifact",
    "open_metadata_store",
    "remove_tags",
]
