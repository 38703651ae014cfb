"""Initial schema: pipelines, runs, step runs, artifacts and their links.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

A frozen snapshot: it must keep building the same tables however
``trellis.metadata._schema`` changes later, so it uses no trellis code.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.Column[str]:
    return sa.Column("id", sa.String(32), nullable=False)


def _ref(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(32), nullable=nullable)


def _name(name: str = "name") -> sa.Column[str]:
    return sa.Column(name, sa.String(255), nullable=False)


def _time(name: str, *, nullable: bool = True) -> sa.Column[object]:
    kind = sa.DateTime(timezone=True).with_variant(sa.DateTime(), "sqlite")
    return sa.Column(name, kind, nullable=nullable)


def _json(name: str) -> sa.Column[object]:
    kind = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    return sa.Column(name, kind, nullable=False)


def _fk(column: str, table: str, target: str, ondelete: str | None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete
    )


def _index(table: str, *columns: str) -> None:
    op.create_index(f"ix_{table}_{'_'.join(columns)}", table, list(columns))


def upgrade() -> None:
    op.create_table(
        "pipelines",
        _id(),
        _name(),
        _time("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pipelines"),
        sa.UniqueConstraint("name", name="uq_pipelines_name"),
    )
    op.create_table(
        "pipeline_runs",
        _id(),
        _name(),
        _ref("pipeline_id"),
        sa.Column("status", sa.String(16), nullable=False),
        _time("created_at", nullable=False),
        _time("started_at"),
        _time("ended_at"),
        _json("parameters"),
        _json("environment"),
        _json("config"),
        _json("plan"),
        _json("outputs"),
        sa.Column("error", sa.Text(), nullable=True),
        _fk("pipeline_id", "pipeline_runs", "pipelines", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_pipeline_runs"),
        sa.UniqueConstraint("name", name="uq_pipeline_runs_name"),
    )
    _index("pipeline_runs", "pipeline_id", "created_at")
    _index("pipeline_runs", "status", "created_at")
    _index("pipeline_runs", "created_at")
    op.create_table(
        "step_runs",
        _id(),
        _ref("run_id"),
        _name(),
        _name("step_name"),
        sa.Column("status", sa.String(16), nullable=False),
        _time("created_at", nullable=False),
        _time("started_at"),
        _time("ended_at"),
        _json("parameters"),
        sa.Column("code_hash", sa.String(128), nullable=True),
        sa.Column("source_code", sa.Text(), nullable=True),
        sa.Column("cache_key", sa.String(128), nullable=True),
        _json("cache_parts"),
        _ref("original_step_run_id", nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("traceback", sa.Text(), nullable=True),
        _fk("run_id", "step_runs", "pipeline_runs", "CASCADE"),
        _fk("original_step_run_id", "step_runs", "step_runs", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_step_runs"),
    )
    _index("step_runs", "run_id", "created_at")
    _index("step_runs", "cache_key", "created_at")
    op.create_table(
        "step_run_parents",
        _ref("step_run_id"),
        _ref("parent_id"),
        _fk("step_run_id", "step_run_parents", "step_runs", "CASCADE"),
        _fk("parent_id", "step_run_parents", "step_runs", "CASCADE"),
        sa.PrimaryKeyConstraint("step_run_id", "parent_id", name="pk_step_run_parents"),
    )
    _index("step_run_parents", "parent_id")
    op.create_table(
        "artifacts",
        _id(),
        _name(),
        _time("created_at", nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_artifacts"),
        sa.UniqueConstraint("name", name="uq_artifacts_name"),
    )
    op.create_table(
        "artifact_versions",
        _id(),
        _ref("artifact_id"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("materializer", sa.String(255), nullable=False),
        sa.Column("data_type", sa.String(255), nullable=False),
        sa.Column("content_hash", sa.String(128), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        _json("metadata"),
        _ref("producer_step_run_id", nullable=True),
        _time("created_at", nullable=False),
        _fk("artifact_id", "artifact_versions", "artifacts", "CASCADE"),
        _fk("producer_step_run_id", "artifact_versions", "step_runs", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_artifact_versions"),
        sa.UniqueConstraint(
            "artifact_id", "version", name="uq_artifact_versions_artifact_id_version"
        ),
    )
    _index("artifact_versions", "producer_step_run_id")
    for table in ("step_run_inputs", "step_run_outputs"):
        op.create_table(
            table,
            _ref("step_run_id"),
            _name(),
            sa.Column("position", sa.Integer(), nullable=False),
            _ref("artifact_version_id"),
            _fk("step_run_id", table, "step_runs", "CASCADE"),
            _fk("artifact_version_id", table, "artifact_versions", None),
            sa.PrimaryKeyConstraint("step_run_id", "name", "position", name=f"pk_{table}"),
        )
        _index(table, "artifact_version_id")


def downgrade() -> None:
    for table in (
        "step_run_outputs",
        "step_run_inputs",
        "artifact_versions",
        "artifacts",
        "step_run_parents",
        "step_runs",
        "pipeline_runs",
        "pipelines",
    ):
        op.drop_table(table)
