"""Raw files such as step logs: written atomically under a key, read back by uri."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from trellis.artifacts import ArtifactStore
from trellis.exceptions import ArtifactStoreError


def test_write_and_read_back(store: ArtifactStore) -> None:
    key = f"logs/run-{os.urandom(4).hex()}/train-1.log"
    uri = store.write_file(key, b"epoch 1\nepoch 2\n")
    assert uri == f"{store.url}/{key}"
    assert store.read_file(uri) == b"epoch 1\nepoch 2\n"
    assert store.write_file(key, b"replaced") == uri
    assert store.read_file(uri) == b"replaced"
    assert store.read_visualization(uri) == b"replaced"


def test_local_write_creates_folders_and_leaves_no_temporary_file(
    fresh_store: ArtifactStore,
) -> None:
    uri = fresh_store.write_file("logs/a/b/c.log", b"")
    root = Path(fresh_store.url)
    assert Path(uri) == root / "logs" / "a" / "b" / "c.log"
    assert fresh_store.read_file(uri) == b""
    assert os.listdir(root / ".tmp") == []


def test_a_removed_folder_is_made_again(fresh_store: ArtifactStore) -> None:
    import shutil

    fresh_store.write_file("logs/run-1/a.log", b"1")
    shutil.rmtree(Path(fresh_store.url) / "logs")
    shutil.rmtree(Path(fresh_store.url) / ".tmp")
    uri = fresh_store.write_file("logs/run-1/a.log", b"2")
    assert fresh_store.read_file(uri) == b"2"


def test_concurrent_writers_of_one_key_never_mix(fresh_store: ArtifactStore) -> None:
    contents = [bytes([i]) * 100_000 for i in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        uris = set(pool.map(lambda c: fresh_store.write_file("logs/same.log", c), contents))
    (uri,) = uris
    assert fresh_store.read_file(uri) in contents


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/etc/passwd",
        "../outside.log",
        "logs/../../outside.log",
        "logs//a.log",
        "./a.log",
        "logs/",
        "objects/ab/abc/data.json",
        "attempts/x.log",
        "visualizations/h/head.html",
        ".tmp/x",
    ],
)
def test_bad_keys_are_refused(fresh_store: ArtifactStore, key: str) -> None:
    with pytest.raises(ValueError, match=r"must be a relative path like 'logs/run_id/step-1.log'"):
        fresh_store.write_file(key, b"x")
    assert not (Path(fresh_store.url).parent / "outside.log").exists()


def test_reading_a_missing_file_names_it(store: ArtifactStore) -> None:
    uri = f"{store.url}/logs/nope-{os.urandom(4).hex()}.log"
    with pytest.raises(ArtifactStoreError) as caught:
        store.read_file(uri)
    message = str(caught.value)
    assert f"cannot read {uri!r}: there is no such file in the artifact store" in message
    assert "re-run the step that wrote it" in message


def test_reading_a_folder_is_refused(fresh_store: ArtifactStore) -> None:
    fresh_store.write_file("logs/run/a.log", b"x")
    with pytest.raises(ArtifactStoreError, match="no such file"):
        fresh_store.read_file(f"{fresh_store.url}/logs/run")


def test_reading_another_filesystem_is_refused(fresh_store: ArtifactStore) -> None:
    with pytest.raises(ArtifactStoreError, match=r"not on the filesystem.*memory://"):
        fresh_store.read_file("memory:///elsewhere/logs/a.log")


def test_an_unwritable_store_raises_artifact_store_error(fresh_store: ArtifactStore) -> None:
    (Path(fresh_store.url) / "logs").write_text("a file where a folder should be")
    with pytest.raises(ArtifactStoreError, match=r"cannot write 'logs/a.log' to the artifact"):
        fresh_store.write_file("logs/a.log", b"x")
    assert os.listdir(Path(fresh_store.url) / ".tmp") == []
