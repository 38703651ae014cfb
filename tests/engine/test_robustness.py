"""Bad stores get clear errors; a crash mid-run leaves only complete, consistent records."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from trellis import Client, ExecutionStatus, pipeline, step
from trellis.exceptions import ArtifactStoreError, SchemaVersionError


@step
def one() -> int:
    return 1


@pipeline
def tiny() -> None:
    one()


def test_artifact_store_url_that_cannot_be_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRELLIS_ARTIFACTS", "nosuchproto://bucket/path")
    with pytest.raises(ArtifactStoreError) as info:
        tiny()
    message = str(info.value)
    assert "nosuchproto://bucket/path" in message
    assert "TRELLIS_ARTIFACTS" in message


def test_artifact_store_path_that_is_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("TRELLIS_ARTIFACTS", str(blocker))
    with pytest.raises(ArtifactStoreError, match="a-file"):
        tiny()


def test_database_created_by_a_newer_trellis(trellis_home: Path) -> None:
    tiny()  # creates the database
    from trellis.client import close_metadata_stores

    close_metadata_stores()
    with sqlite3.connect(trellis_home / "trellis.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    with pytest.raises(SchemaVersionError) as info:
        tiny()
    message = str(info.value)
    assert "9999_from_the_future" in message
    assert "pip install -U trellis" in message


CRASH_IN_STEP = """
import os
from trellis import pipeline, step

@step
def first() -> int:
    return 41

@step
def second(x: int) -> int:
    os._exit(17)  # the driver process dies in the middle of the run

@pipeline(max_parallelism=1)
def crashy() -> None:
    second(first())

crashy()
"""

CRASH_IN_SAVE = """
import os
from trellis import BaseMaterializer, pipeline, step

class HalfWriter(BaseMaterializer):
    def save(self, data):
        with self.open("data.txt", "wb") as fh:
            fh.write(b"half of it")
            fh.flush()
            os._exit(19)  # dies while the artifact's files are being written

    def load(self, data_type):
        raise AssertionError("never loaded")

@step
def first() -> int:
    return 41

@step(output_materializers=HalfWriter)
def second(x: int) -> int:
    return x + 1

@pipeline(max_parallelism=1)
def crashy() -> None:
    second(first())

crashy()
"""


def _crash(script: str, home: Path) -> int:
    env = {**os.environ, "TRELLIS_HOME": str(home)}
    code = textwrap.dedent(script)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    return result.returncode


def _assert_consistent(home: Path) -> None:
    with sqlite3.connect(home / "trellis.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    client = Client()
    for artifact in client.list_artifacts().items:
        for version in client.list_artifact_versions(artifact.name).items:
            assert version.load() == 41  # every recorded artifact is complete


@pytest.mark.parametrize(
    ("script", "exit_code"),
    [(CRASH_IN_STEP, 17), (CRASH_IN_SAVE, 19)],
    ids=["crash-in-step", "crash-while-saving"],
)
def test_crash_mid_run_leaves_consistent_records(
    script: str, exit_code: int, trellis_home: Path
) -> None:
    assert _crash(script, trellis_home) == exit_code
    _assert_consistent(trellis_home)
    run = Client().get_pipeline("crashy").last_run
    assert run.steps["first"].status is ExecutionStatus.COMPLETED
    assert run.steps["second"].status is ExecutionStatus.RUNNING
    assert run.steps["second"].outputs == {}
    objects = trellis_home / "artifacts" / "objects"
    recorded = {
        Path(v.uri).name for v in Client().list_artifact_versions("crashy::first::output").items
    }
    on_disk = {p.name for p in objects.glob("*/*")}
    assert on_disk == recorded  # the half-written output never reached objects/
