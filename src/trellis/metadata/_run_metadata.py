"""Metadata logged on pipeline runs, step runs and artifact versions (key -> JSON value)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import Connection, Insert, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from trellis.metadata._base import StoreBase
from trellis.metadata._checks import check_metadata
from trellis.metadata._entities import METADATA_ENTITIES, check_entity_type, require_entity
from trellis.metadata._rows import chunks
from trellis.metadata._schema import RUN_METADATA

__all__ = ["RunMetadata", "upsert_metadata"]

_COLUMNS = RUN_METADATA.c


def _upsert(module: Any) -> Insert:
    statement = module.insert(RUN_METADATA)
    upsert: Insert = statement.on_conflict_do_update(
        index_elements=[_COLUMNS.entity_type, _COLUMNS.entity_id, _COLUMNS.key],
        set_={"value": statement.excluded.value, "created_at": statement.excluded.created_at},
    )
    return upsert


_UPSERTS = {"sqlite": _upsert(sqlite), "postgresql": _upsert(postgresql)}
_VALUES_OF = select(_COLUMNS.entity_id, _COLUMNS.key, _COLUMNS.value).where(
    _COLUMNS.entity_type == bindparam("entity_type"),
    _COLUMNS.entity_id.in_(bindparam("ids", expanding=True)),
)


def upsert_metadata(
    conn: Connection, entity_type: str, entity_id: str, values: Mapping[str, Any], now: datetime
) -> None:
    """Write checked ``values`` of one entity in one statement; a logged key is replaced."""
    if not values:
        return
    conn.execute(
        _UPSERTS[conn.dialect.name],
        [
            {
                "id": uuid4().hex,
                "entity_type": entity_type,
                "entity_id": entity_id,
                "key": key,
                "value": value,
                "created_at": now,
            }
            for key, value in values.items()
        ],
    )


class RunMetadata(StoreBase):
    """Logging and reading metadata of runs, step runs and artifact versions."""

    def log_metadata(
        self, entity_type: str, entity_id: str, values: Mapping[str, Any], *, at: datetime
    ) -> None:
        """Log metadata on an entity; a key logged before gets the new value.

        Numbers stay numbers: an ``int`` comes back an ``int`` and a ``float`` a
        ``float`` (``3.0`` too) on SQLite and PostgreSQL.

        Args:
            entity_type: ``"pipeline_run"``, ``"step_run"`` or ``"artifact_version"``.
            entity_id: The id of the run, step run or artifact version.
            values: Key (non-empty, at most 255 characters) -> JSON value.
            at: The time to record with the values.

        Raises:
            ValueError: The entity type, a key or a value is invalid.
            NotFoundError: No such entity.

        Example:
            >>> store.log_metadata("pipeline_run", run.id,  # doctest: +SKIP
            ...                    {"accuracy": 0.93, "epochs": 3}, at=datetime.now(UTC))
        """
        check_entity_type(entity_type, METADATA_ENTITIES, "log metadata on")
        checked = check_metadata(values)
        with self._write(f"log metadata on the {entity_type} {entity_id}") as conn:
            require_entity(conn, entity_type, entity_id, "log metadata on")
            upsert_metadata(conn, entity_type, entity_id, checked, at)

    def get_metadata(
        self, entity_type: str, entity_ids: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """Return the metadata of each entity (keys sorted); one query per 500 ids.

        Every id asked for is a key, with an empty dict when nothing was logged
        on it (or it does not exist).

        Raises:
            ValueError: The entity type is not one of the three.

        Example:
            >>> store.get_metadata("pipeline_run", [run.id])[run.id]  # doctest: +SKIP
            {'accuracy': 0.93, 'epochs': 3}
        """
        check_entity_type(entity_type, METADATA_ENTITIES, "read the metadata of")
        found: dict[str, dict[str, Any]] = defaultdict(dict)
        with self._read(f"read the metadata of {len(entity_ids)} {entity_type}s") as conn:
            for chunk in chunks(entity_ids):
                params = {"entity_type": entity_type, "ids": chunk}
                for row in conn.execute(_VALUES_OF, params):
                    found[row.entity_id][row.key] = row.value
        # Sorted here, not in SQL: PostgreSQL would order by its locale's collation.
        return {i: dict(sorted(found.get(i, {}).items())) for i in entity_ids}
