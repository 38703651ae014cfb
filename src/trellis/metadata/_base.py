"""What the read and write halves of the store share: engine, clock, transactions."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection
from sqlalchemy import exc as sa_exc
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from trellis.exceptions import MetadataStoreError
from trellis.metadata._engine import NotJSONError, StoreEngine

__all__ = ["StoreBase", "UtcClock"]

_TICK = timedelta(microseconds=1)


class UtcClock:
    """UTC timestamps that strictly increase within one process.

    Rows are ordered by ``created_at``; a store that writes several rows in the
    same microsecond (skipped steps, a fast loop) must still order them the
    way it created them.
    """

    def __init__(self) -> None:
        self._last = datetime.min.replace(tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            now = datetime.now(UTC)
            if now <= self._last:
                now = self._last + _TICK
            self._last = now
            return now


class StoreBase:
    """Engine access shared by the read and write methods of the metadata store.

    Attributes:
        url: Database URL of the store (``postgresql://`` is normalized to
            ``postgresql+psycopg://``); it includes the password, so never log it.
        dialect: ``"sqlite"`` or ``"postgresql"``.
    """

    url: str
    dialect: str
    _engine: StoreEngine
    _clock: UtcClock
    #: Artifact name -> id, filled only after a commit made or saw the artifact.
    _artifact_ids: dict[str, str]
    #: Per store: the connection of this thread's :meth:`transaction`, if one is open.
    _batch: threading.local

    @contextmanager
    def _write(self, action: str) -> Iterator[Connection]:
        """One write transaction (``BEGIN IMMEDIATE`` on SQLite), committed on exit.

        Inside :meth:`transaction` on the same thread, the writes join that one.
        """
        shared = getattr(self._batch, "conn", None)
        if shared is not None:
            try:
                yield shared
            except (SQLAlchemyError, NotJSONError) as exc:
                raise self._translate(exc, action) from exc
            return
        try:
            with self._engine.guard(), self._engine.writer.begin() as conn:
                yield conn
        except (SQLAlchemyError, NotJSONError) as exc:
            raise self._translate(exc, action) from exc

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Make every write of this thread inside the block one transaction.

        The driver uses it to record several steps that start or finish together
        with one commit. If anything fails, nothing of the block is kept.

        Example:
            >>> with store.transaction():  # doctest: +SKIP
            ...     a = store.start_step_run(...)
            ...     b = store.start_step_run(...)
        """
        if getattr(self._batch, "conn", None) is not None:
            yield  # already inside one: join it
            return
        try:
            with self._engine.guard(), self._engine.writer.begin() as conn:
                self._batch.conn = conn
                try:
                    yield
                finally:
                    self._batch.conn = None
        except BaseException as exc:
            # ids cached by writes of the block may belong to rolled-back rows
            self._artifact_ids.clear()
            if isinstance(exc, SQLAlchemyError | NotJSONError):
                raise self._translate(exc, "commit a batch of writes") from exc
            raise

    @contextmanager
    def _read(self, action: str) -> Iterator[Connection]:
        """One read transaction: every query inside sees the same snapshot."""
        try:
            with self._engine.guard(), self._engine.engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise self._translate(exc, action) from exc

    def _translate(self, exc: Exception, action: str) -> MetadataStoreError:
        cause = exc.orig if isinstance(exc, sa_exc.StatementError) else exc
        if isinstance(cause, NotJSONError):
            return MetadataStoreError(
                f"Could not {action} in the metadata store {self._engine.masked_url}: a "
                f"value is not JSON-serializable ({cause}). Parameters, configuration and "
                "artifact metadata must be JSON values (dict, list, str, int, float, bool, None)."
            )
        if isinstance(exc, DBAPIError) and exc.orig is not None:
            lines = str(exc.orig).strip().splitlines()
            reason = f"{type(exc.orig).__name__}: {lines[0] if lines else ''}"
        else:
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
        return MetadataStoreError(
            f"Could not {action} in the metadata store {self._engine.masked_url} ({reason}). "
            "Check that the database is reachable and writable; if the error names a "
            "missing reference, the run or artifact it points to was deleted."
        )

    def close(self) -> None:
        """Close every pooled connection; the store must not be used afterwards.

        Example:
            >>> store = MetadataStore("sqlite:///.trellis/trellis.db")  # doctest: +SKIP
            >>> store.close()  # doctest: +SKIP
        """
        self._engine.engine.dispose()
