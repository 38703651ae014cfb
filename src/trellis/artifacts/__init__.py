"""Artifact store and materializers: how step outputs become files and come back.

Importing this package is cheap: fsspec, cloudpickle, pydantic, NumPy, pandas,
pyarrow and matplotlib are imported only when a store is opened or a value of
their type is saved.

Example:
    >>> from trellis.artifacts import ArtifactStore
    >>> store = ArtifactStore("/tmp/trellis-artifacts")
    >>> stored = store.save({"lr": 0.1}, scope="run-1/train/config/0")
    >>> store.load(stored.uri, materializer=stored.materializer, data_type=stored.data_type)
    {'lr': 0.1}
"""

from __future__ import annotations

from trellis.artifacts._artifact_store import ArtifactStore
from trellis.artifacts._import_paths import import_object, import_path
from trellis.artifacts._materializer import BaseMaterializer
from trellis.artifacts._opening import open_artifact_store
from trellis.artifacts._records import StoredArtifact
from trellis.artifacts._registry import (
    MaterializerRegistry,
    materializer_registry,
    register_materializer,
)
from trellis.artifacts._visualizations import VisualizationType
from trellis.artifacts.materializers.cloudpickled import PickleFallbackWarning

__all__ = [
    "ArtifactStore",
    "BaseMaterializer",
    "MaterializerRegistry",
    "PickleFallbackWarning",
    "StoredArtifact",
    "VisualizationType",
    "import_object",
    "import_path",
    "materializer_registry",
    "open_artifact_store",
    "register_materializer",
]
