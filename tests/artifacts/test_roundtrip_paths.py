"""Round trips of files and folders given as ``pathlib.Path``."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trellis.artifacts import ArtifactStore
from trellis.exceptions import MaterializerError

from ._helpers import RoundTrip, storage_facts

PATH = "trellis.artifacts.materializers.paths:PathMaterializer"

names = st.text(alphabet="abcdefghij_-", min_size=1, max_size=8)
trees = st.dictionaries(
    st.lists(names, min_size=1, max_size=3).map("/".join), st.binary(max_size=64), max_size=5
)


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@given(st.binary(max_size=2048), names)
def test_file_round_trips(roundtrip: RoundTrip, content: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / f"{name}.bin"
        source.write_bytes(content)
        stored, loaded = roundtrip(source)
    assert stored.materializer == PATH
    assert isinstance(loaded, Path)
    assert loaded.name == source.name
    assert loaded.read_bytes() == content
    assert stored.metadata == {"kind": "file", "name": source.name, **storage_facts(stored)}


@given(trees)
def test_folder_round_trips(roundtrip: RoundTrip, tree: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "data"
        source.mkdir()
        written: dict[str, bytes] = {}
        for relative, content in tree.items():
            target = source / relative
            if any(parent.is_file() for parent in target.parents) or target.is_dir():
                continue  # "a" as a file and "a/b" cannot both exist
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            written[relative] = content
        stored, loaded = roundtrip(source)
    assert stored.metadata == {"kind": "folder", "name": "data", **storage_facts(stored)}
    assert loaded.is_dir()
    assert loaded.name == "data"
    assert read_tree(loaded) == written


def test_local_store_loads_the_path_inside_the_store(local_store: ArtifactStore) -> None:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "report.txt"
        source.write_text("hello")
        stored = local_store.save(source, scope="run/step/output/0")
    loaded = local_store.load(
        stored.uri, materializer=stored.materializer, data_type=stored.data_type
    )
    assert str(loaded).startswith(stored.uri)


def test_missing_path_cannot_be_saved(fresh_store: ArtifactStore, tmp_path: Path) -> None:
    with pytest.raises(MaterializerError, match=r"neither a file nor a folder"):
        fresh_store.save(tmp_path / "nope.csv", scope="run/step/output/0")
    assert not (Path(fresh_store.url) / "objects").exists()
