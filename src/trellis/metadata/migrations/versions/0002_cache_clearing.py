"""Cache clearing: ``step_runs.cache_cleared_at``, and an index to find a step's previous run.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

A frozen snapshot: it must keep building the same schema however
``trellis.metadata._schema`` changes later, so it uses no trellis code.

Both changes are cheap on a full database: adding a nullable column without a
default rewrites no rows on SQLite or PostgreSQL, and the index is built once.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "ix_step_runs_name_created_at"


def upgrade() -> None:
    kind = sa.DateTime(timezone=True).with_variant(sa.DateTime(), "sqlite")
    op.add_column("step_runs", sa.Column("cache_cleared_at", kind, nullable=True))
    # "The newest step run named N before T": equality on name, then a backward
    # scan on created_at; the run -> pipeline join goes through primary keys.
    op.create_index(_INDEX, "step_runs", ["name", "created_at"])


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="step_runs")
    # A plain ALTER TABLE ... DROP COLUMN (SQLite 3.35 or newer), not a batch
    # table rebuild: with foreign keys on, dropping the old step_runs table
    # would cascade-delete its parents, inputs and outputs.
    op.drop_column("step_runs", "cache_cleared_at")
