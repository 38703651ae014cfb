"""Schema creation, Alembic migrations and schema-revision checks on every backend."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from trellis.exceptions import MetadataStoreError, SchemaVersionError
from trellis.metadata import SCHEMA_REVISION, MetadataStore, _migrator
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
        context = MigrationContext.configure(conn, opts={"compare_type": True})
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
