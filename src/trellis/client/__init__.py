"""Read-side query API over the metadata and artifact stores."""

from __future__ import annotations

from trellis.client._client import Client, load_artifact
from trellis.client._stores import close_metadata_stores, open_metadata_store
from trellis.client._views import (
    ArtifactVersionView,
    PipelineRunView,
    PipelineView,
    StepRunView,
)

__all__ = [
    "ArtifactVersionView",
    "Client",
    "PipelineRunView",
    "PipelineView",
    "StepRunView",
    "close_metadata_stores",
    "load_artifact",
    "open_metadata_store",
]
