"""Artifact stores for tests: a local folder and an in-memory fsspec filesystem."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from trellis.artifacts import ArtifactStore, StoredArtifact

from ._helpers import RoundTrip


@pytest.fixture(scope="session")
def local_store(tmp_path_factory: pytest.TempPathFactory) -> ArtifactStore:
    """One local store per session (Hypothesis examples share it, like real runs do)."""
    return ArtifactStore(str(tmp_path_factory.mktemp("artifact-store")))


@pytest.fixture(scope="session")
def memory_store() -> Iterator[ArtifactStore]:
    """A store on fsspec's process-wide memory filesystem, removed afterwards."""
    store = ArtifactStore(f"memory://trellis-tests-{os.getpid()}-{os.urandom(4).hex()}")
    yield store
    import fsspec

    fsspec.filesystem("memory").rm(store.url, recursive=True)


@pytest.fixture(scope="session", params=["local", "memory"])
def store(request: pytest.FixtureRequest) -> ArtifactStore:
    """Each store kind in turn."""
    fixture: ArtifactStore = request.getfixturevalue(f"{request.param}_store")
    return fixture


@pytest.fixture(scope="session")
def roundtrip(store: ArtifactStore) -> RoundTrip:
    """Save a value into ``store`` and load it back: ``stored, loaded = roundtrip(value)``."""

    def run(value: Any, **save_options: Any) -> tuple[StoredArtifact, Any]:
        stored = store.save(value, scope="run/step/output/0", **save_options)
        loaded = store.load(
            stored.uri, materializer=stored.materializer, data_type=stored.data_type
        )
        return stored, loaded

    return run


@pytest.fixture
def fresh_store(tmp_path: Any) -> ArtifactStore:
    """An empty local store for tests that inspect the folder layout."""
    return ArtifactStore(str(tmp_path / "store"))
