"""Opening stores: URLs, errors that say what to do, SQLite settings, the public names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import trellis.metadata
from trellis.exceptions import MetadataStoreError
from trellis.metadata import ExecutionStatus, MetadataStore


def test_public_names_are_sorted_and_importable() -> None:
    assert trellis.metadata.__all__ == sorted(trellis.metadata.__all__)
    for name in trellis.metadata.__all__:
        assert getattr(trellis.metadata, name) is not None
    assert "MetadataStore" in dir(trellis.metadata)


def test_sqlite_creates_the_parent_folder(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "trellis.db"

    with MetadataStore(f"sqlite:///{path}") as store:
        assert (store.dialect, store.url) == ("sqlite", f"sqlite:///{path}")

    assert path.is_file()


def test_sqlite_connection_settings(tmp_path: Path) -> None:
    with (
        MetadataStore(f"sqlite:///{tmp_path / 't.db'}") as store,
        store._engine.engine.connect() as conn,
    ):
        pragmas = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
        }

    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 1,
        "busy_timeout": 30000,
        "foreign_keys": 1,
    }


def test_sqlite_writes_begin_immediate_and_reads_do_not(tmp_path: Path) -> None:
    statements: list[str] = []

    def record(*args: Any) -> None:
        if args[2].startswith("BEGIN"):
            statements.append(args[2])

    with MetadataStore(f"sqlite:///{tmp_path / 't.db'}") as store:
        sa.event.listen(store._engine.engine, "before_cursor_execute", record)
        store.list_runs()
        store.create_run(
            pipeline_name="p",
            run_name="r",
            parameters={},
            environment={},
            config={},
            plan={},
            outputs={},
            started_at=None,
        )

    assert statements == ["BEGIN", "BEGIN IMMEDIATE"]


def test_in_memory_sqlite_works() -> None:
    with MetadataStore("sqlite://") as store:
        run = store.create_run(
            pipeline_name="p",
            run_name="r",
            parameters={},
            environment={},
            config={},
            plan={},
            outputs={},
            started_at=None,
        )
        assert store.get_run("r").status is ExecutionStatus.RUNNING
        assert store.list_runs().items == [run]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            "not a url",
            "Cannot open the metadata store 'not a url': it is not a database URL (Could not "
            "parse SQLAlchemy URL from given URL string). Use a URL like "
            "sqlite:///path/to/trellis.db or postgresql+psycopg://user:password@host:5432"
            "/database (set it in TRELLIS_STORE).",
            id="garbage",
        ),
        pytest.param(
            "postgresql://me:s3cret@db:port/trellis",
            "Cannot open the metadata store 'postgresql://me:***@db:port/trellis': it is not a "
            "database URL (invalid literal for int() with base 10: 'port'). Use a URL like "
            "sqlite:///path/to/trellis.db or postgresql+psycopg://user:password@host:5432"
            "/database (set it in TRELLIS_STORE).",
            id="bad-port",
        ),
        pytest.param(
            "mysql://me:s3cret@db/trellis",
            "Cannot open the metadata store mysql://me:***@db/trellis: trellis supports SQLite "
            "and PostgreSQL, not 'mysql'. Use a URL like sqlite:///path/to/trellis.db or "
            "postgresql+psycopg://user:password@host:5432/database (set it in TRELLIS_STORE).",
            id="unsupported",
        ),
    ],
)
def test_bad_urls_are_refused(url: str, expected: str) -> None:
    with pytest.raises(MetadataStoreError) as info:
        MetadataStore(url)
    assert str(info.value) == expected


def test_unreachable_postgres_is_refused_with_a_masked_url() -> None:
    with pytest.raises(MetadataStoreError) as info:
        MetadataStore("postgresql://me:s3cret@127.0.0.1:1/trellis")

    message = str(info.value)
    assert message.startswith(
        "Cannot open the metadata store postgresql+psycopg://me:***@127.0.0.1:1/trellis: "
    )
    assert message.endswith(
        "Check that the PostgreSQL server is running and reachable, and that the user, "
        "password and database in TRELLIS_STORE are right."
    )
    assert "s3cret" not in message


def test_sqlite_folder_that_cannot_be_made_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")

    with pytest.raises(MetadataStoreError, match="cannot create the folder") as info:
        MetadataStore(f"sqlite:///{tmp_path / 'file' / 'sub' / 't.db'}")

    assert "Choose a writable location in TRELLIS_STORE or TRELLIS_HOME." in str(info.value)


def test_sqlite_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    path.write_bytes(b"this is not a database, just some text" * 100)

    with pytest.raises(MetadataStoreError) as info:
        MetadataStore(f"sqlite:///{path}")

    assert str(info.value) == (
        f"Cannot open the metadata store sqlite:///{path}: file is not a database. Check that "
        "the path in TRELLIS_STORE names a SQLite database file in a writable folder."
    )


@pytest.mark.postgres
def test_postgresql_scheme_means_psycopg(postgres_url: str) -> None:
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")

    with MetadataStore(plain) as store:
        assert store.url.startswith("postgresql+psycopg://postgres:s3cret-pw@")
        assert store.dialect == "postgresql"
        assert "s3cret" not in repr(store)
        assert repr(store).startswith("MetadataStore('postgresql+psycopg://postgres:***@")
