"""Bring a database to the current schema revision when a store opens it.

The fast path costs one or two small queries and never imports Alembic:

- at :data:`SCHEMA_REVISION` already: nothing to do;
- empty: ``create_all`` and stamp the head revision in ``alembic_version``
  (Alembic's documented "create_all, then stamp" recipe, done by hand);
- at an older revision this trellis knows: ``alembic upgrade head``;
- at a revision it does not know (a newer trellis wrote it): :class:`SchemaVersionError`.

Creation and upgrades run in one write transaction that also holds a lock
(``BEGIN IMMEDIATE`` on SQLite, an advisory lock on PostgreSQL), so several
processes opening the same new database do not race.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, insert, inspect, select, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from trellis.exceptions import MetadataStoreError, SchemaVersionError
from trellis.metadata._engine import StoreEngine
from trellis.metadata._revision import KNOWN_REVISIONS, SCHEMA_REVISION
from trellis.metadata._schema import ALEMBIC_VERSION, METADATA

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["MIGRATIONS_PATH", "alembic_config", "ensure_schema", "read_revision"]

#: Folder of Alembic's ``env.py`` and ``versions/`` inside the package.
MIGRATIONS_PATH = Path(__file__).parent / "migrations"

# Arbitrary constant key of the PostgreSQL advisory lock held while migrating.
_PG_LOCK_KEY = 0x7472656C6C6973  # "trellis"


def alembic_config(connection: Connection | None = None) -> Config:
    """Return an Alembic configuration for trellis' migrations (no ``alembic.ini``).

    Args:
        connection: Connection the migration runs on, inside its transaction.

    Example:
        >>> from alembic import command  # doctest: +SKIP
        >>> command.upgrade(alembic_config(conn), "head")  # doctest: +SKIP
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_PATH).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def read_revision(conn: Connection) -> str | None:
    """Return the revision stamped in ``alembic_version``, ``None`` if there is none."""
    if not conn.dialect.has_table(conn, ALEMBIC_VERSION.name):
        return None
    rows = conn.execute(select(ALEMBIC_VERSION.c.version_num)).scalars().all()
    if not rows:
        return None
    return ",".join(sorted(rows))


def ensure_schema(store: StoreEngine) -> None:
    """Create, upgrade or check the schema of ``store``'s database.

    Raises:
        SchemaVersionError: The database was made by a newer trellis.
        MetadataStoreError: The database cannot be reached or changed.
    """
    try:
        with store.guard(), store.engine.connect() as conn:
            revision = read_revision(conn)
        if revision == SCHEMA_REVISION:
            return
        _check_known(store, revision)
        with store.guard(), store.writer.begin() as conn:
            _lock(conn)
            revision = read_revision(conn)  # another process may have won the race
            _check_known(store, revision)
            if revision is None:
                _create(store, conn)
            elif revision != SCHEMA_REVISION:
                _upgrade(conn)
    except (SchemaVersionError, MetadataStoreError):
        raise
    except DBAPIError as exc:
        raise MetadataStoreError(
            f"Cannot open the metadata store {store.masked_url}: {_reason(exc)}. "
            f"{_hint(store.dialect)}"
        ) from exc
    except SQLAlchemyError as exc:
        raise MetadataStoreError(
            f"Cannot prepare the schema of the metadata store {store.masked_url}: {exc}. "
            f"{_hint(store.dialect)}"
        ) from exc


def _check_known(store: StoreEngine, revision: str | None) -> None:
    if revision is None or revision in KNOWN_REVISIONS:
        return
    raise SchemaVersionError(
        f"The metadata store {store.masked_url} has schema revision {revision!r}, which "
        f"this version of trellis does not know (it knows revisions up to "
        f"{SCHEMA_REVISION!r}); a newer trellis created or upgraded it. Upgrade trellis "
        "(`pip install -U trellis`) or point TRELLIS_STORE at another database."
    )


def _lock(conn: Connection) -> None:
    # SQLite: the write transaction's BEGIN IMMEDIATE already holds the lock.
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})


def _create(store: StoreEngine, conn: Connection) -> None:
    present = set(inspect(conn).get_table_names()) & set(METADATA.tables)
    if present:
        raise MetadataStoreError(
            f"The metadata store {store.masked_url} has trellis tables "
            f"({', '.join(sorted(present))}) but no schema revision in alembic_version, "
            "so trellis cannot tell which schema they follow. Point TRELLIS_STORE at a "
            "new database, or stamp the right revision with Alembic."
        )
    METADATA.create_all(conn)
    ALEMBIC_VERSION.create(conn, checkfirst=True)
    conn.execute(delete(ALEMBIC_VERSION))
    conn.execute(insert(ALEMBIC_VERSION).values(version_num=SCHEMA_REVISION))


def _upgrade(conn: Connection) -> None:
    from alembic import command

    command.upgrade(alembic_config(conn), "head")


def _reason(exc: DBAPIError) -> str:
    lines = str(exc.orig).strip().splitlines()
    return lines[0] if lines else type(exc.orig).__name__


def _hint(dialect: str) -> str:
    if dialect == "postgresql":
        return (
            "Check that the PostgreSQL server is running and reachable, and that the "
            "user, password and database in TRELLIS_STORE are right."
        )
    return "Check that the path in TRELLIS_STORE names a SQLite database file in a writable folder."
