"""The artifact store: content addressing, atomic commits, errors, other filesystems."""

from __future__ import annotations

import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import pytest

from trellis.artifacts import ArtifactStore, BaseMaterializer, open_artifact_store
from trellis.exceptions import ArtifactStoreError, MaterializerError

SCOPE = "run-1/train/model/0"


def load(store: ArtifactStore, stored: Any, **options: Any) -> Any:
    return store.load(
        stored.uri, materializer=stored.materializer, data_type=stored.data_type, **options
    )


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


class CrashingMaterializer(BaseMaterializer):
    """Writes part of the artifact, then fails, like a process dying mid-save."""

    def save(self, data: Any) -> None:
        with self.open("part-1.bin", "wb") as f:
            f.write(b"half")
        raise RuntimeError("disk on fire")


class CountingMaterializer(BaseMaterializer):
    """Supplies its own content hash and counts how often it writes."""

    saves: ClassVar[int] = 0

    def save(self, data: Any) -> None:
        type(self).saves += 1
        with self.open("value.txt", "w") as f:
            f.write(str(data))

    def load(self, data_type: type[Any]) -> Any:
        with self.open("value.txt", "r") as f:
            return data_type(f.read())

    def content_hash(self, data: Any) -> str | None:
        return hashlib.sha256(str(data).encode()).hexdigest()


# -- content addressing ------------------------------------------------------------------


def test_identical_content_is_stored_once(fresh_store: ArtifactStore) -> None:
    first = fresh_store.save({"a": [1, 2]}, scope="run-1/s/o/0")
    second = fresh_store.save({"a": [1, 2]}, scope="run-2/s/o/0")
    other = fresh_store.save({"a": [1, 3]}, scope="run-3/s/o/0")
    assert first == second
    assert other.uri != first.uri
    assert other.content_hash != first.content_hash
    root = Path(fresh_store.url)
    assert first.uri == str(root / "objects" / first.content_hash[:2] / first.content_hash)
    assert files_under(root / "objects") == sorted(
        f"{a.content_hash[:2]}/{a.content_hash}/data.json" for a in (first, other)
    )
    assert files_under(root / ".tmp") == []


def test_same_bytes_of_different_types_are_different_artifacts(
    fresh_store: ArtifactStore,
) -> None:
    as_list = fresh_store.save([1, 2], scope=SCOPE)
    as_tuple = fresh_store.save((1, 2), scope=SCOPE)
    assert as_list.content_hash != as_tuple.content_hash
    assert load(fresh_store, as_tuple) == (1, 2)


def test_stored_artifact_describes_the_value(fresh_store: ArtifactStore) -> None:
    stored = fresh_store.save([1, 2, 3], scope=SCOPE)
    assert stored.materializer == "trellis.artifacts.materializers.json_values:JsonMaterializer"
    assert stored.data_type == "builtins:list"
    assert stored.size == len(b"[1,2,3]")
    assert stored.metadata == {"length": 3, "storage_size": 7, "content_hash": stored.content_hash}
    assert len(stored.content_hash) == 64


def test_file_hash_is_used_when_the_materializer_has_none(fresh_store: ArtifactStore) -> None:
    first = fresh_store.save({"a": (1,)}, scope=SCOPE)  # pickled: hashed from its file
    second = fresh_store.save({"a": (1,)}, scope=SCOPE)
    assert first.uri == second.uri
    assert first.content_hash == second.content_hash


def test_a_known_value_hash_skips_writing_again(fresh_store: ArtifactStore) -> None:
    CountingMaterializer.saves = 0
    first = fresh_store.save(41, scope=SCOPE, materializer=CountingMaterializer)
    second = fresh_store.save(41, scope=SCOPE, materializer=CountingMaterializer)
    assert CountingMaterializer.saves == 1
    assert second == first
    assert load(fresh_store, second) == 41


def test_equal_values_hash_equal_on_every_store(store: ArtifactStore) -> None:
    first = store.save({"k": "v"}, scope="run-1/s/o/0")
    second = store.save({"k": "v"}, scope="run-2/s/o/0")
    assert first.content_hash == second.content_hash


def test_concurrent_saves_from_threads(fresh_store: ArtifactStore) -> None:
    values = [i % 7 for i in range(200)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        stored = list(pool.map(lambda v: fresh_store.save([v], scope=SCOPE), values))
    for value, artifact in zip(values, stored, strict=True):
        assert load(fresh_store, artifact) == [value]
    assert len({a.uri for a in stored}) == 7
    assert files_under(Path(fresh_store.url) / ".tmp") == []


# -- write, then commit ------------------------------------------------------------------


def test_a_crash_mid_save_leaves_nothing_under_objects(fresh_store: ArtifactStore) -> None:
    with pytest.raises(MaterializerError) as caught:
        fresh_store.save(1, scope=SCOPE, materializer=CrashingMaterializer)
    message = str(caught.value)
    assert "CrashingMaterializer failed to save a value of type builtins.int" in message
    assert "RuntimeError: disk on fire" in message
    assert "nothing was stored" in message
    root = Path(fresh_store.url)
    assert files_under(root / "objects") == []
    assert files_under(root / ".tmp") == []


def test_a_crash_mid_save_on_memory_removes_the_attempt(memory_store: ArtifactStore) -> None:
    import fsspec

    scope = f"crash-{os.urandom(4).hex()}/s/o/0"
    with pytest.raises(MaterializerError, match="disk on fire"):
        memory_store.save(1, scope=scope, materializer=CrashingMaterializer)
    fs = fsspec.filesystem("memory")
    assert fs.find(f"{memory_store.url}/attempts/{scope}") == []


def test_remote_stores_write_attempt_scoped_folders(memory_store: ArtifactStore) -> None:
    first = memory_store.save([1], scope="run-1/train/data/0")
    again = memory_store.save([1], scope="run-1/train/data/0")
    assert first.uri.startswith(f"{memory_store.url}/attempts/run-1/train/data/0/")
    assert again.uri != first.uri  # a re-run attempt never mixes files with the first
    assert again.content_hash == first.content_hash
    assert memory_store.exists(first.uri)
    assert load(memory_store, first) == [1]


@pytest.mark.parametrize("scope", ["", "/abs", "a/../b", "a//b", "./a"])
def test_scope_must_be_a_relative_key(fresh_store: ArtifactStore, scope: str) -> None:
    with pytest.raises(ValueError, match="must be a relative key"):
        fresh_store.save(1, scope=scope)


# -- errors -----------------------------------------------------------------------------


def test_unpicklable_values_raise_materializer_error(fresh_store: ArtifactStore) -> None:
    class LockHolder:
        def __init__(self) -> None:
            self.lock = threading.Lock()

    with pytest.raises(MaterializerError) as caught:
        fresh_store.save(LockHolder(), scope=SCOPE)
    message = str(caught.value)
    assert f"type {__name__}.test_unpicklable_values_raise_materializer_error.<locals>" in message
    assert "cloudpickle failed (TypeError: cannot pickle '_thread.lock' object)" in message
    assert "trellis.register_materializer(MyMaterializer," in message
    assert "@step(output_materializers=...)" in message
    assert files_under(Path(fresh_store.url)) == []


def test_generators_raise_materializer_error(fresh_store: ArtifactStore) -> None:
    with pytest.raises(MaterializerError, match=r"type builtins\.generator.*cannot pickle"):
        fresh_store.save((i for i in range(3)), scope=SCOPE)


def test_unknown_protocol_is_refused() -> None:
    with pytest.raises(ArtifactStoreError) as caught:
        ArtifactStore("nosuchproto://bucket/x")
    message = str(caught.value)
    assert "cannot open the artifact store 'nosuchproto://bucket/x'" in message
    assert "Protocol not known: nosuchproto" in message
    assert "TRELLIS_ARTIFACTS" in message


def test_missing_fsspec_driver_says_what_to_install() -> None:
    import fsspec

    fsspec.register_implementation(
        "trellistestfs", "no_such_driver_zz.FS", clobber=True, errtxt="Install no_such_driver_zz"
    )
    with pytest.raises(ArtifactStoreError, match=r"driver for it is not installed.*pip install"):
        ArtifactStore("trellistestfs://bucket/x")


def test_a_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "file.txt"
    path.write_text("x")
    with pytest.raises(ArtifactStoreError, match=r"is a file, not a folder.*TRELLIS_ARTIFACTS"):
        ArtifactStore(str(path))


def test_loading_a_deleted_artifact_says_so(store: ArtifactStore) -> None:
    stored = store.save(f"gone-{os.urandom(4).hex()}", scope=SCOPE)
    store.delete(stored.uri)
    assert not store.exists(stored.uri)
    with pytest.raises(ArtifactStoreError) as caught:
        load(store, stored)
    message = str(caught.value)
    assert f"cannot load the artifact at {stored.uri!r}" in message
    assert "deleted from the artifact store" in message
    assert "Re-run the step" in message
    store.delete(stored.uri)  # deleting again does nothing


def test_delete_refuses_paths_outside_the_store(fresh_store: ArtifactStore, tmp_path: Path) -> None:
    outside = tmp_path / "precious"
    outside.mkdir()
    for uri in (str(outside), fresh_store.url, f"{fresh_store.url}/objects/../.."):
        with pytest.raises(ArtifactStoreError, match="refusing to delete"):
            fresh_store.delete(uri)
    assert outside.exists()


def test_uri_of_another_filesystem_is_refused(fresh_store: ArtifactStore) -> None:
    with pytest.raises(ArtifactStoreError, match=r"not on the filesystem.*memory://"):
        fresh_store.exists("memory:///elsewhere/objects/ab/abc")


def test_unknown_materializer_path_is_a_materializer_error(fresh_store: ArtifactStore) -> None:
    stored = fresh_store.save(1, scope=SCOPE)
    with pytest.raises(MaterializerError, match=r"no_such_module_zz.*not importable"):
        fresh_store.load(stored.uri, materializer="no_such_module_zz:M", data_type="builtins:int")
    with pytest.raises(MaterializerError, match=r"'builtins:int' is not a materializer class"):
        fresh_store.load(stored.uri, materializer="builtins:int", data_type="builtins:int")


def test_unimportable_data_type_needs_expected_type(fresh_store: ArtifactStore) -> None:
    stored = fresh_store.save("y", scope=SCOPE)
    with pytest.raises(MaterializerError, match=r"Pass expected_type="):
        fresh_store.load(stored.uri, materializer=stored.materializer, data_type="gone_zz:T")
    loaded = fresh_store.load(
        stored.uri, materializer=stored.materializer, data_type="gone_zz:T", expected_type=str
    )
    assert loaded == "y"


def test_pickles_load_without_their_data_type(fresh_store: ArtifactStore) -> None:
    from trellis.artifacts.materializers import CloudpickleMaterializer

    class Local:
        value = 3

    stored = fresh_store.save(Local(), scope=SCOPE, materializer=CloudpickleMaterializer)
    loaded = fresh_store.load(stored.uri, materializer=stored.materializer, data_type="gone_zz:T")
    assert loaded.value == 3


# -- opening ----------------------------------------------------------------------------


def test_local_urls_are_normalized(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = ArtifactStore("relative/store")
    assert relative.url == str(tmp_path / "relative" / "store")
    assert relative.is_local
    assert (tmp_path / "relative" / "store" / ".tmp").is_dir()
    assert ArtifactStore(f"file://{tmp_path}/other").url == str(tmp_path / "other")


def test_memory_store_is_not_local(memory_store: ArtifactStore) -> None:
    assert memory_store.url.startswith("memory:///")
    assert not memory_store.is_local


def test_open_artifact_store_reuses_one_store_per_url(tmp_path: Path) -> None:
    store = open_artifact_store(str(tmp_path))
    assert open_artifact_store(str(tmp_path)) is store
    assert store.url == str(tmp_path)
