"""Open a SQLAlchemy engine for a metadata store URL (SQLite or PostgreSQL).

SQLite files get WAL mode, ``synchronous=NORMAL``, a 30 s busy timeout and
foreign keys. Write transactions there start with ``BEGIN IMMEDIATE`` so that a
transaction which reads and then writes takes the write lock up front: two
processes doing read-then-write would otherwise deadlock and one would get
"database is locked" at once, without the busy timeout applying.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from trellis.exceptions import MetadataStoreError

__all__ = ["IMMEDIATE", "NotJSONError", "StoreEngine", "dumps", "mask_url", "open_engine"]

#: Execution option that makes a SQLite transaction begin with ``BEGIN IMMEDIATE``.
IMMEDIATE = "trellis_immediate"

_BUSY_TIMEOUT_MS = 30_000
_SUPPORTED = ("sqlite", "postgresql")
# The password of a URL that SQLAlchemy cannot parse: "scheme://user:<this>@".
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")
_URL_HINT = (
    "Use a URL like sqlite:///path/to/trellis.db or "
    "postgresql+psycopg://user:password@host:5432/database (set it in TRELLIS_STORE)."
)


class NotJSONError(ValueError):
    """A value written to a JSON column cannot be serialized."""


def dumps(value: Any) -> str:
    """Serialize a JSON column's value, with one error type on every database driver."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise NotJSONError(str(exc)) from exc


def mask_url(url: str | URL) -> str:
    """Return ``url`` as text with its password replaced by ``***``.

    Example:
        >>> mask_url("postgresql+psycopg://me:secret@db/trellis")
        'postgresql+psycopg://me:***@db/trellis'
    """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return repr(_PASSWORD.sub(r"\1***@", str(url)))


class StoreEngine:
    """An engine plus the two ways of using it: a read or a write transaction.

    Attributes:
        url: The normalized URL (with its password).
        masked_url: The URL for messages, password masked.
        engine: Connections for reads (SQLite: deferred ``BEGIN``).
        writer: The same pool; transactions begin with ``BEGIN IMMEDIATE`` on SQLite.
    """

    def __init__(self, url: URL, engine: Engine) -> None:
        self.url = url.render_as_string(hide_password=False)
        self.masked_url = mask_url(url)
        self.dialect: str = engine.dialect.name
        self.engine = engine
        self.writer = engine.execution_options(**{IMMEDIATE: True})
        # A single shared in-memory SQLite connection cannot hold two
        # transactions at once, so calls on it are serialized.
        self._lock: AbstractContextManager[Any] = (
            threading.RLock() if isinstance(engine.pool, StaticPool) else nullcontext()
        )

    def guard(self) -> AbstractContextManager[Any]:
        """Serialize access where the pool holds one shared connection."""
        return self._lock


def _normalize(raw: str) -> URL:
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError) as exc:
        raise MetadataStoreError(
            f"Cannot open the metadata store {mask_url(raw)}: it is not a database URL "
            f"({exc}). {_URL_HINT}"
        ) from exc
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in _SUPPORTED:
        raise MetadataStoreError(
            f"Cannot open the metadata store {mask_url(url)}: trellis supports SQLite "
            f"and PostgreSQL, not {url.get_backend_name()!r}. {_URL_HINT}"
        )
    return url


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


def _enable_wal(cursor: Any) -> None:
    # WAL is a property of the file, set once by whichever connection comes
    # first. Switching needs an exclusive lock, and SQLite reports "database is
    # locked" at once (without the busy timeout) while another connection
    # creates the schema, so wait for that here.
    deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module; the ``begin``
        # hook below emits BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            _enable_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def open_engine(raw_url: str) -> StoreEngine:
    """Create the engine for ``raw_url`` and check that it can connect.

    Raises:
        MetadataStoreError: The URL is malformed, unsupported or cannot be opened.

    Example:
        >>> store_engine = open_engine("sqlite:///.trellis/trellis.db")  # doctest: +SKIP
    """
    url = _normalize(raw_url)
    kwargs: dict[str, Any] = {"json_serializer": dumps}
    if url.get_backend_name() == "sqlite":
        if _is_memory(url):
            kwargs["poolclass"] = StaticPool
            kwargs["connect_args"] = {"check_same_thread": False}
        else:
            _make_parent(url)
    try:
        engine = create_engine(url, **kwargs)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise MetadataStoreError(
            f"Cannot open the metadata store {mask_url(url)}: {exc}. {_URL_HINT}"
        ) from exc
    if engine.dialect.name == "sqlite":
        _install_sqlite_hooks(engine)
    return StoreEngine(url, engine)


def _make_parent(url: URL) -> None:
    assert url.database is not None
    parent = Path(url.database).parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MetadataStoreError(
            f"Cannot open the metadata store {mask_url(url)}: cannot create the folder "
            f"{str(parent)!r} ({exc.strerror}). Choose a writable location in TRELLIS_STORE "
            "or TRELLIS_HOME."
        ) from exc
