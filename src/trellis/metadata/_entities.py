"""What metadata and tags attach to: pipeline runs, step runs and artifact versions."""

from __future__ import annotations

from sqlalchemy import Connection, Table, select

from trellis.exceptions import NotFoundError
from trellis.metadata._schema import ARTIFACT_VERSIONS, PIPELINE_RUNS, STEP_RUNS

__all__ = [
    "ARTIFACT_VERSION",
    "METADATA_ENTITIES",
    "PIPELINE_RUN",
    "STEP_RUN",
    "TAG_ENTITIES",
    "check_entity_type",
    "require_entity",
]

PIPELINE_RUN = "pipeline_run"
STEP_RUN = "step_run"
ARTIFACT_VERSION = "artifact_version"

#: Entity types that metadata can be logged on.
METADATA_ENTITIES = (PIPELINE_RUN, STEP_RUN, ARTIFACT_VERSION)
#: Entity types that can be tagged.
TAG_ENTITIES = (PIPELINE_RUN, ARTIFACT_VERSION)

_TABLES: dict[str, Table] = {
    PIPELINE_RUN: PIPELINE_RUNS,
    STEP_RUN: STEP_RUNS,
    ARTIFACT_VERSION: ARTIFACT_VERSIONS,
}
_NOUNS = {PIPELINE_RUN: "pipeline run", STEP_RUN: "step run", ARTIFACT_VERSION: "artifact version"}
_HINTS = {
    PIPELINE_RUN: "List runs with `trellis runs list`.",
    STEP_RUN: "See the steps of a run with `trellis runs show <run>`.",
    ARTIFACT_VERSION: "List artifacts and their versions with `trellis artifacts list`.",
}


def check_entity_type(entity_type: str, allowed: tuple[str, ...], action: str) -> None:
    """Raise ``ValueError`` unless ``entity_type`` is one of ``allowed``.

    Example:
        >>> check_entity_type("pipeline_run", TAG_ENTITIES, "tag")
    """
    if entity_type not in allowed:
        raise ValueError(
            f"Cannot {action} an entity of type {entity_type!r}: the entity type must be "
            f"one of {', '.join(repr(kind) for kind in allowed)}."
        )


def require_entity(conn: Connection, entity_type: str, entity_id: str, action: str) -> None:
    """Raise :class:`NotFoundError` unless the entity exists (one primary-key lookup)."""
    table = _TABLES[entity_type]
    if conn.execute(select(table.c.id).where(table.c.id == entity_id)).first() is None:
        noun = _NOUNS[entity_type]
        raise NotFoundError(
            f"Cannot {action} the {noun} {entity_id!r}: no {noun} has this id. "
            f"{_HINTS[entity_type]}"
        )
