"""Revisions of the metadata schema, known without importing SQLAlchemy or Alembic.

Each Alembic script in ``migrations/versions/`` is named ``<revision>_<slug>.py``
and declares ``revision = "<revision>"``; this tuple lists them oldest first. A
test checks it against Alembic's script directory, so adding a migration means
appending its revision here.
"""

from __future__ import annotations

__all__ = ["KNOWN_REVISIONS", "SCHEMA_REVISION"]

#: Every revision this version of trellis can upgrade from, oldest first.
KNOWN_REVISIONS: tuple[str, ...] = ("0001", "0002", "0003")

#: The head revision: the schema this version of trellis reads and writes.
SCHEMA_REVISION: str = KNOWN_REVISIONS[-1]
