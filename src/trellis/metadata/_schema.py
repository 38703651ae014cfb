"""Tables of the metadata store as SQLAlchemy Core objects (the current schema).

``METADATA.create_all`` builds exactly the schema that the Alembic scripts in
``migrations/versions/`` build from an empty database; a test compares the two.
Change a table here and add a migration in the same change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
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
from sqlalchemy.types import TypeEngine

from trellis.metadata._types import JSONText, UTCDateTime

__all__ = [
    "ALEMBIC_VERSION",
    "ARTIFACTS",
    "ARTIFACT_VERSIONS",
    "METADATA",
    "PIPELINES",
    "PIPELINE_RUNS",
    "RUN_METADATA",
    "STEP_RUNS",
    "STEP_RUN_ATTEMPTS",
    "STEP_RUN_INPUTS",
    "STEP_RUN_OUTPUTS",
    "STEP_RUN_PARENTS",
    "TAGS",
    "TAG_LINKS",
    "JSONText",
    "UTCDateTime",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


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
    # Revision 0003: retries and captured logs.
    Column("attempts", Integer(), nullable=False, default=1, server_default="1"),
    Column("log_uri", String(2048)),
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
    # Revision 0003: ``[{"type": "html", "uri": "..."}, ...]``.
    Column("visualizations", _json(), nullable=False, default=list, server_default="[]"),
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

# Revision 0003. Only failed attempts that were retried get a row: the last
# attempt is the step run itself, so a step that succeeds at once costs nothing.
STEP_RUN_ATTEMPTS = Table(
    "step_run_attempts",
    METADATA,
    _id(primary_key=True),
    _ref("step_run_id", "step_runs.id", ondelete="CASCADE"),
    Column("attempt", Integer(), nullable=False),
    _time("started_at"),
    _time("ended_at"),
    Column("error", Text()),
    Column("traceback", Text()),
    UniqueConstraint("step_run_id", "attempt"),
)

# Metadata logged on a pipeline run, step run or artifact version; the entity
# is ``(entity_type, entity_id)``, so there is no foreign key. The unique
# constraint is also the index that reads an entity's values. Values are any
# JSON value, numbers included, hence ``JSONText``.
RUN_METADATA = Table(
    "run_metadata",
    METADATA,
    _id(primary_key=True),
    Column("entity_type", String(32), nullable=False),
    _id("entity_id", nullable=False),
    Column("key", String(255), nullable=False),
    Column("value", JSONText(), nullable=False),
    _time("created_at", nullable=False),
    UniqueConstraint("entity_type", "entity_id", "key"),
)

TAGS = Table(
    "tags",
    METADATA,
    _id(primary_key=True),
    _name(),
    _time("created_at", nullable=False),
    UniqueConstraint("name"),
)

# Tags of pipeline runs and artifact versions. The primary key finds the
# entities of a tag (filters); the index finds the tags of an entity.
TAG_LINKS = Table(
    "tag_links",
    METADATA,
    _ref("tag_id", "tags.id", ondelete="CASCADE"),
    Column("entity_type", String(32), nullable=False),
    _id("entity_id", nullable=False),
    _time("created_at", nullable=False),
    PrimaryKeyConstraint("tag_id", "entity_type", "entity_id"),
    Index(None, "entity_type", "entity_id"),
)

# Alembic's own bookkeeping table, declared here so that a new database can be
# created and stamped without importing Alembic. It lives outside METADATA
# because it is not part of the schema the migrations describe.
ALEMBIC_VERSION = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)
