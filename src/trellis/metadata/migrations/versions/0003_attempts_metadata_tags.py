"""Step attempts and logs, run metadata, tags, artifact visualizations.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

A frozen snapshot: it must keep building the same schema however
``trellis.metadata._schema`` changes later, so it uses no trellis code.

Cheap on a full database: the new columns have constant defaults, which
SQLite (``ALTER TABLE ... ADD COLUMN``) and PostgreSQL 11+ add without
rewriting rows; the rest are new, empty tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id(name: str = "id") -> sa.Column[str]:
    return sa.Column(name, sa.String(32), nullable=False)


def _time(name: str, *, nullable: bool = True) -> sa.Column[object]:
    kind = sa.DateTime(timezone=True).with_variant(sa.DateTime(), "sqlite")
    return sa.Column(name, kind, nullable=nullable)


def upgrade() -> None:
    op.add_column(
        "step_runs", sa.Column("attempts", sa.Integer(), nullable=False, server_default="1")
    )
    op.add_column("step_runs", sa.Column("log_uri", sa.String(2048), nullable=True))
    json_kind = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.add_column(
        "artifact_versions",
        sa.Column("visualizations", json_kind, nullable=False, server_default="[]"),
    )
    op.create_table(
        "step_run_attempts",
        _id(),
        _id("step_run_id"),
        sa.Column("attempt", sa.Integer(), nullable=False),
        _time("started_at"),
        _time("ended_at"),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("traceback", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["step_run_id"],
            ["step_runs.id"],
            name="fk_step_run_attempts_step_run_id_step_runs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_step_run_attempts"),
        sa.UniqueConstraint(
            "step_run_id", "attempt", name="uq_step_run_attempts_step_run_id_attempt"
        ),
    )
    op.create_table(
        "run_metadata",
        _id(),
        sa.Column("entity_type", sa.String(32), nullable=False),
        _id("entity_id"),
        sa.Column("key", sa.String(255), nullable=False),
        # Numbers must come back as written: TEXT on SQLite (a column declared JSON
        # has NUMERIC affinity and turns 3.0 into 3) and JSON, not JSONB, on
        # PostgreSQL (JSONB gives a float of 1e16 or more back as an int).
        sa.Column("value", sa.JSON().with_variant(sa.Text(), "sqlite"), nullable=False),
        _time("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_run_metadata"),
        sa.UniqueConstraint(
            "entity_type", "entity_id", "key", name="uq_run_metadata_entity_type_entity_id_key"
        ),
    )
    op.create_table(
        "tags",
        _id(),
        sa.Column("name", sa.String(255), nullable=False),
        _time("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tags"),
        sa.UniqueConstraint("name", name="uq_tags_name"),
    )
    op.create_table(
        "tag_links",
        _id("tag_id"),
        sa.Column("entity_type", sa.String(32), nullable=False),
        _id("entity_id"),
        _time("created_at", nullable=False),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name="fk_tag_links_tag_id_tags", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tag_id", "entity_type", "entity_id", name="pk_tag_links"),
    )
    op.create_index("ix_tag_links_entity_type_entity_id", "tag_links", ["entity_type", "entity_id"])


def downgrade() -> None:
    op.drop_index("ix_tag_links_entity_type_entity_id", table_name="tag_links")
    for table in ("tag_links", "tags", "run_metadata", "step_run_attempts"):
        op.drop_table(table)
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35 or newer), not a batch
    # rebuild, which would cascade-delete the rows that reference the table.
    op.drop_column("artifact_versions", "visualizations")
    op.drop_column("step_runs", "log_uri")
    op.drop_column("step_runs", "attempts")
