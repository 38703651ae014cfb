"""Column types that read back exactly what was written, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Text
from sqlalchemy.types import TypeDecorator, TypeEngine

from trellis.metadata._engine import dumps

__all__ = ["JSONText", "UTCDateTime"]


class UTCDateTime(TypeDecorator[datetime]):
    """A UTC timestamp: stored naive on SQLite, ``timestamptz`` elsewhere.

    Values come back as timezone-aware UTC datetimes on every database. Naive
    values passed in are taken to be UTC already.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(DateTime(timezone=dialect.name != "sqlite"))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JSONText(TypeDecorator[Any]):
    """Any JSON value, read back exactly as written: ``3.0`` stays a float.

    On SQLite the column is ``TEXT``: one declared ``JSON`` has NUMERIC affinity
    there, so SQLite itself turns a top-level ``3.0`` into the integer 3 and a
    large integer into a float. On PostgreSQL it is ``JSON``, not ``JSONB``:
    JSONB keeps numbers as ``numeric`` and gives a float of 1e16 or more back as
    an int. (Columns holding only objects and arrays are not affected.)
    """

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(JSON())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return dumps(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name == "sqlite" and value is not None:
            return json.loads(value)
        return value
