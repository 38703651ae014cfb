"""The public names of ``trellis.artifacts``."""

from __future__ import annotations

import trellis.artifacts
import trellis.artifacts.materializers

EXPECTED = [
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


def test_all_is_sorted_and_complete() -> None:
    assert trellis.artifacts.__all__ == EXPECTED
    for name in EXPECTED:
        assert getattr(trellis.artifacts, name) is not None


def test_pickle_fallback_warning_is_a_user_warning() -> None:
    assert issubclass(trellis.artifacts.PickleFallbackWarning, UserWarning)


def test_every_builtin_materializer_is_reachable_by_name() -> None:
    names = trellis.artifacts.materializers.__all__
    assert names == sorted(names)
    for name in names:
        cls = getattr(trellis.artifacts.materializers, name)
        assert issubclass(cls, trellis.artifacts.BaseMaterializer)
        assert cls.__name__ == name
