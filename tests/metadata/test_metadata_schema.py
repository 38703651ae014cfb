"""Schema creation, Alembic migrations and schema-revision checks on every backend."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from trellis.exceptions import MetadataStoreError, SchemaVersionError
from trellis.metadata import (
    SCHEMA_REVISION,
    AttemptSpec,
    ExecutionStatus,
    MetadataStore,
    _migrator,
)
from trellis.metadata._engine import mask_url
from trellis.metadata._migrator import alembic_config, read_revision
from trellis.metadata._revision import KNOWN_REVISIONS
from trellis.metadata._schema import METADATA


@pytest.fixture
def engine(store_url: str) -> Iterator[sa.Engine]:
    """A plain engine on the test database, for looking behind the store's back."""
    engine = sa.create_engine(store_url, poolclass=sa.NullPool)
    yield engine
    engine.dispose()


def schema_differences(engine: sa.Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, METADATA))


def stamp(engine: sa.Engine, revision: str) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM alembic_version")
        conn.execute(sa.text("INSERT INTO alembic_version VALUES (:r)"), {"r": revision})


def test_schema_revision_is_the_head_of_the_scripts() -> None:
    scripts = ScriptDirectory.from_config(alembic_config())

    assert scripts.get_heads() == [SCHEMA_REVISION]
    oldest_first = [script.revision for script in reversed(list(scripts.walk_revisions()))]
    assert oldest_first == list(KNOWN_REVISIONS)


def test_alembic_upgrade_builds_the_create_all_schema(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")

    assert schema_differences(engine) == []
    with engine.connect() as conn:
        assert read_revision(conn) == SCHEMA_REVISION


def test_alembic_downgrade_removes_every_table(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
        command.downgrade(alembic_config(conn), "base")

    assert set(sa.inspect(engine).get_table_names()) == {"alembic_version"}


def test_new_store_creates_the_schema_and_stamps_it(store_url: str, engine: sa.Engine) -> None:
    MetadataStore(store_url).close()

    assert schema_differences(engine) == []
    with engine.connect() as conn:
        assert read_revision(conn) == SCHEMA_REVISION


def test_concurrent_first_opens_create_the_schema_once(store_url: str, engine: sa.Engine) -> None:
    barrier = threading.Barrier(4)

    def open_one(_: int) -> str:
        barrier.wait()
        store = MetadataStore(store_url)
        store.close()
        return store.dialect

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(open_one, range(4)))

    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").all() == [
            (SCHEMA_REVISION,)
        ]


def test_unknown_revision_is_refused(store_url: str, engine: sa.Engine) -> None:
    MetadataStore(store_url).close()
    stamp(engine, "9999")

    with pytest.raises(SchemaVersionError) as info:
        MetadataStore(store_url)

    assert str(info.value) == (
        f"The metadata store {mask_url(store_url)} has schema revision '9999', which this "
        f"version of trellis does not know (it knows revisions up to '{SCHEMA_REVISION}'); "
        "a newer trellis created or upgraded it. Upgrade trellis (`pip install -U trellis`) "
        "or point TRELLIS_STORE at another database."
    )
    assert "s3cret" not in str(info.value)


def test_known_older_revision_is_upgraded(
    store_url: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    MetadataStore(store_url).close()
    stamp(engine, "0000")
    upgrades: list[str | None] = []

    def fake_upgrade(conn: sa.Connection) -> None:
        upgrades.append(read_revision(conn))
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": SCHEMA_REVISION})

    monkeypatch.setattr(_migrator, "KNOWN_REVISIONS", ("0000", SCHEMA_REVISION))
    monkeypatch.setattr(_migrator, "_upgrade", fake_upgrade)
    MetadataStore(store_url).close()
    MetadataStore(store_url).close()

    assert upgrades == ["0000"]


def _fill_0001(conn: sa.Connection) -> dict[str, list[dict[str, Any]]]:
    """Rows of every table, written through the reflected schema of revision 0001."""
    t0 = datetime(2024, 5, 1, 12, tzinfo=UTC)
    step = {
        "run_id": "r1",
        "status": "completed",
        "started_at": t0,
        "parameters": {"lr": 0.1},
        "code_hash": "c0de",
        "source_code": "def train(): ...",
        "cache_parts": {"code": "c0de"},
        "original_step_run_id": None,
        "error": None,
        "traceback": None,
    }
    rows: dict[str, list[dict[str, Any]]] = {
        "pipelines": [{"id": "p1", "name": "training", "created_at": t0}],
        "pipeline_runs": [
            {
                "id": "r1",
                "name": "training-1",
                "pipeline_id": "p1",
                "status": "completed",
                "created_at": t0,
                "started_at": t0,
                "ended_at": t0 + timedelta(minutes=5),
                "parameters": {"lr": 0.1},
                "environment": {"python": "3.11"},
                "config": {},
                "plan": {"nodes": ["load", "train"]},
                "outputs": {"model": ["train", "model"]},
                "error": None,
            }
        ],
        "step_runs": [
            step
            | {
                "id": "s1",
                "name": "load",
                "step_name": "load",
                "created_at": t0 + timedelta(seconds=1),
                "ended_at": t0 + timedelta(seconds=2),
                "cache_key": "k-load",
            },
            step
            | {
                "id": "s2",
                "name": "train",
                "step_name": "train",
                "created_at": t0 + timedelta(seconds=3),
                "ended_at": t0 + timedelta(seconds=4),
                "cache_key": "k-train",
            },
        ],
        "step_run_parents": [{"step_run_id": "s2", "parent_id": "s1"}],
        "artifacts": [{"id": "a1", "name": "model", "created_at": t0, "latest_version": 1}],
        "artifact_versions": [
            {
                "id": "v1",
                "artifact_id": "a1",
                "version": 1,
                "uri": "/artifacts/model/1",
                "materializer": "m:M",
                "data_type": "builtins:dict",
                "content_hash": "ab12",
                "size": 10,
                "metadata": {"keys": 2},
                "producer_step_run_id": "s2",
                "created_at": t0 + timedelta(seconds=4),
            }
        ],
        "step_run_inputs": [],
        "step_run_outputs": [
            {"step_run_id": "s2", "name": "model", "position": 0, "artifact_version_id": "v1"}
        ],
    }
    tables = sa.MetaData()
    tables.reflect(conn)
    for name, table_rows in rows.items():
        if table_rows:
            conn.execute(tables.tables[name].insert(), table_rows)
    return rows


def test_database_at_0001_with_rows_upgrades_to_the_head_keeping_them(
    store_url: str, engine: sa.Engine
) -> None:
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
        rows = _fill_0001(conn)

    with MetadataStore(store_url) as store:
        train = store.get_step_run("s2")
        hits = store.find_cached_step_runs("k-train")
        previous = store.previous_step_run(
            pipeline_name="training", name="train", before=datetime.now(UTC)
        )
        cleared = store.clear_cache(step_name="load", at=datetime.now(UTC))
        run = store.get_run("training-1")

    assert schema_differences(engine) == []
    with engine.connect() as conn:
        assert read_revision(conn) == SCHEMA_REVISION
        counts = {
            name: conn.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one()
            for name in rows
        }
    assert counts == {name: len(table_rows) for name, table_rows in rows.items()}
    assert (train.status, train.cache_key, train.parent_ids) == (
        ExecutionStatus.COMPLETED,
        "k-train",
        ("s1",),
    )
    assert (train.parameters, train.cache_cleared_at) == ({"lr": 0.1}, None)
    assert train.ended_at == rows["step_runs"][1]["ended_at"]
    assert [(step.id, outputs["model"].uri) for step, outputs in hits] == [
        ("s2", "/artifacts/model/1")
    ]
    assert previous == train
    assert cleared == 1
    assert (run.pipeline_name, run.plan) == ("training", {"nodes": ["load", "train"]})


def test_downgrade_to_0001_keeps_rows_and_upgrades_again(store_url: str, engine: sa.Engine) -> None:
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
        _fill_0001(conn)
        command.upgrade(alembic_config(conn), "head")
        conn.execute(sa.text("UPDATE step_runs SET cache_cleared_at = ended_at"))
        command.downgrade(alembic_config(conn), "0001")

    step_runs = sa.inspect(engine)
    assert "cache_cleared_at" not in {c["name"] for c in step_runs.get_columns("step_runs")}
    assert "ix_step_runs_name_created_at" not in {
        i["name"] for i in step_runs.get_indexes("step_runs")
    }
    with MetadataStore(store_url) as store:
        assert [s.id for s in store.list_step_runs("r1")] == ["s1", "s2"]
        assert {s.cache_cleared_at for s in store.list_step_runs("r1")} == {None}
    assert schema_differences(engine) == []


def test_database_at_0002_with_rows_upgrades_to_0003(store_url: str, engine: sa.Engine) -> None:
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0002")
        rows = _fill_0001(conn)
        conn.execute(sa.text("UPDATE step_runs SET cache_cleared_at = ended_at WHERE id = 's1'"))
        command.upgrade(alembic_config(conn), "0003")

    with engine.connect() as conn:
        counts = {
            name: conn.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one()
            for name in rows
        }
    assert counts == {name: len(table_rows) for name, table_rows in rows.items()}
    assert schema_differences(engine) == []
    at = datetime.now(UTC)
    with MetadataStore(store_url) as store:
        steps = store.list_step_runs("r1")
        version = store.get_artifact_version("v1")
        # The new features work on rows an older trellis wrote.
        store.add_tags("pipeline_run", "r1", ["legacy"])
        store.add_tags("artifact_version", "v1", ["legacy"])
        store.log_metadata("step_run", "s2", {"accuracy": 1.0}, at=at)
        step_id = store.start_step_run(
            run_id="r1", name="retrain", step_name="train", parameters={}, code_hash=None,
            source_code=None, cache_key=None, cache_parts={}, parent_ids=["s2"],
            inputs=[("model", 0, "v1")], started_at=at,
        )  # fmt: skip
        store.finish_step_run(
            step_id,
            status=ExecutionStatus.COMPLETED,
            ended_at=at,
            outputs=[],
            attempts=2,
            failed_attempts=[AttemptSpec(1, at, at, "boom", None)],
        )
        assert [(s.id, s.attempts, s.log_uri) for s in steps] == [("s1", 1, None), ("s2", 1, None)]
        assert steps[0].cache_cleared_at == rows["step_runs"][0]["ended_at"]
        assert (version.visualizations, version.metadata) == ([], {"keys": 2})
        assert [r.name for r in store.list_runs(tag="legacy").items] == ["training-1"]
        assert [a.name for a in store.list_artifacts(tag="legacy").items] == ["model"]
        assert store.get_metadata("step_run", ["s2"]) == {"s2": {"accuracy": 1.0}}
        assert [a.attempt for a in store.get_attempts([step_id])[step_id]] == [1]


def test_downgrade_to_0002_keeps_rows_and_upgrades_again(store_url: str, engine: sa.Engine) -> None:
    at = datetime.now(UTC)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0002")
        _fill_0001(conn)
        command.upgrade(alembic_config(conn), "head")
    with MetadataStore(store_url) as store:
        store.add_tags("pipeline_run", "r1", ["gone-after-downgrade"])
        store.log_metadata("pipeline_run", "r1", {"k": 1}, at=at)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE step_runs SET attempts = 3, log_uri = '/logs'"))
        command.downgrade(alembic_config(conn), "0002")

    inspector = sa.inspect(engine)
    assert not {"tags", "tag_links", "run_metadata", "step_run_attempts"} & set(
        inspector.get_table_names()
    )
    assert not {"attempts", "log_uri"} & {c["name"] for c in inspector.get_columns("step_runs")}
    assert "visualizations" not in {c["name"] for c in inspector.get_columns("artifact_versions")}
    with MetadataStore(store_url) as store:
        assert [(s.id, s.attempts) for s in store.list_step_runs("r1")] == [("s1", 1), ("s2", 1)]
        assert store.get_artifact_version("v1").visualizations == []
        assert store.get_tags("pipeline_run", ["r1"]) == {"r1": []}
    assert schema_differences(engine) == []


def test_trellis_tables_without_a_revision_are_refused(store_url: str, engine: sa.Engine) -> None:
    METADATA.create_all(engine)

    with pytest.raises(MetadataStoreError, match=r"has trellis tables .* but no schema revision"):
        MetadataStore(store_url)


def _python(code: str) -> str:
    env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout.strip()


def test_opening_a_current_database_does_not_import_alembic(store_url: str) -> None:
    MetadataStore(store_url).close()

    imported = _python(
        "import sys\n"
        "import trellis.metadata\n"
        "print('sqlalchemy' in sys.modules, end=' ')\n"
        f"trellis.metadata.MetadataStore({store_url!r}).close()\n"
        "print('alembic' in sys.modules)\n"
    )

    assert imported == "False False"
