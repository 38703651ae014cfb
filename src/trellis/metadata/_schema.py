"""Tables of the metadata store as SQLAlchemy Core objects (the current schema).

``METADATA.create_all`` builds exactly the schema that the Alembic scripts in
``migrations/versions/`` build from an empty database; a test compares the two.
Change a table here and add a migration in the same change.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = [
    "ALEMBIC_VERSION",
    "ARTIFACTS",
    "ARTIFACT_VERSIONS",
    "METADATA",
    "PIPELINES",
    "PIPELINE_RUNS",
    "STEP_RUNS",
    "STEP_RUN_INPUTS",
    "STEP_RUN_OUTPUTS",
    "STEP_RUN_PARENTS",
    "UTCDateTime",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


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


def _json() -> TypeEngine[Any]:
    return JSON().with_variant(JSONB(), "postgresql")


def _id(name: str = "id", **kwargs: Any) -> Column[str]:
    return Column(name, String(32), **kwargs)


def _ref(name: str, target: str, *, ondelete: str | None, nullable: bool = False) -> Column[str]:
    return Column(name, String(32), ForeignKey(target, ondelete=ondelete), nullable=nullable)


def _name(name: str = "name") -> Column[str]:
    return Column(name, String(255), nullable=False)


def _time(name: str, *, nullable: bool = True) -> Column[datetime]:
    return Column(name, UTCDateTime(), nullable=nullable)


METADATA = MetaData(naming_convention=NAMING_CONVENTION)

PIPELINES = Table(
    "pipelines",
    METADATA,
    _id(primary_key=True),
    _name(),
    _time("created_at", nullable=False),
    UniqueConstraint("name"),
)

PIPELINE_RUNS = Table(
    "pipeline_runs",
    METADATA,
    _id(primary_key=True),
    _name(),
    _ref("pipeline_id", "pipelines.id", ondelete="CASCADE"),
    Column("status", String(16), nullable=False),
    _time("created_at", nullable=False),
    _time("started_at"),
    _time("ended_at"),
    Column("parameters", _json(), nullable=False),
    Column("environment", _json(), nullable=False),
    Column("config", _json(), nullable=False),
    Column("plan", _json(), nullable=False),
    Column("outputs", _json(), nullable=False),
    Column("error", Text()),
    UniqueConstraint("name"),
    Index(None, "pipeline_id", "created_at"),
    Index(None, "status", "created_at"),
    Index(None, "created_at"),
)

STEP_RUNS = Table(
    "step_runs",
    METADATA,
    _id(primary_key=True),
    _ref("run_id", "pipeline_runs.id", ondelete="CASCADE"),
    _name(),
    _name("step_name"),
    Column("status", String(16), nullable=False),
    _time("created_at", nullable=False),
    _time("started_at"),
    _time("ended_at"),
    Column("parameters", _json(), nullable=False),
    Column("code_hash", String(128)),
    Column("source_code", Text()),
    Column("cache_key", String(128)),
    Column("cache_parts", _json(), nullable=False),
    _ref("original_step_run_id", "step_runs.id", ondelete="SET NULL", nullable=True),
    Column("error", Text()),
    Column("traceback", Text()),
    # Set by ``clear_cache``: the step run no longer serves cache hits (revision 0002).
    _time("cache_cleared_at"),
    Index(None, "run_id", "created_at"),
    Index(None, "cache_key", "created_at"),
    Index(None, "name", "created_at"),
)

STEP_RUN_PARENTS = Table(
    "step_run_parents",
    METADATA,
    _ref("step_run_id", "step_runs.id", ondelete="CASCADE"),
    _ref("parent_id", "step_runs.id", ondelete="CASCADE"),
    PrimaryKeyConstraint("step_run_id", "parent_id"),
    Index(None, "parent_id"),
)

ARTIFACTS = Table(
    "artifacts",
    METADATA,
    _id(primary_key=True),
    _name(),
    _time("created_at", nullable=False),
    Column("latest_version", Integer(), nullable=False),
    UniqueConstraint("name"),
)

ARTIFACT_VERSIONS = Table(
    "artifact_versions",
    METADATA,
    _id(primary_key=True),
    _ref("artifact_id", "artifacts.id", ondelete="CASCADE"),
    Column("version", Integer(), nullable=False),
    Column("uri", Text(), nullable=False),
    Column("materializer", String(255), nullable=False),
    Column("data_type", String(255), nullable=False),
    Column("content_hash", String(128), nullable=False),
    Column("size", BigInteger(), nullable=False),
    Column("metadata", _json(), nullable=False),
    _ref("producer_step_run_id", "step_runs.id", ondelete="SET NULL", nullable=True),
    _time("created_at", nullable=False),
    UniqueConstraint("artifact_id", "version"),
    Index(None, "producer_step_run_id"),
)


def _io_table(name: str) -> Table:
    return Table(
        name,
        METADATA,
        _ref("step_run_id", "step_runs.id", ondelete="CASCADE"),
        _name(),
        Column("position", Integer(), nullable=False),
        _ref("artifact_version_id", "artifact_versions.id", ondelete=None),
        PrimaryKeyConstraint("step_run_id", "name", "position"),
        Index(None, "artifact_version_id"),
    )


STEP_RUN_INPUTS = _io_table("step_run_inputs")
STEP_RUN_OUTPUTS = _io_table("step_run_outputs")

# Alembic's own bookkeeping table, declared here so that a new database can be
# created and stamped without importing Alembic. It lives outside METADATA
# because it is not part of the schema the migrations describe.
ALEMBIC_VERSION = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)
