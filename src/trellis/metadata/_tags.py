"""Tags of pipeline runs and artifact versions: linking, unlinking, reading, filtering."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import Connection, Insert, Select, bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from trellis.metadata._base import StoreBase
from trellis.metadata._checks import check_tags
from trellis.metadata._entities import TAG_ENTITIES, check_entity_type, require_entity
from trellis.metadata._rows import chunks
from trellis.metadata._schema import TAG_LINKS, TAGS

__all__ = ["TagStore", "link_tags", "tagged"]

_LINKS = TAG_LINKS.c


def _inserts(module: Any) -> tuple[Insert, Insert]:
    # DO NOTHING on both: a tag another writer just created, or a link that is
    # already there, is what we wanted anyway.
    new_tags = module.insert(TAGS).on_conflict_do_nothing(index_elements=[TAGS.c.name])
    new_links = module.insert(TAG_LINKS).on_conflict_do_nothing(
        index_elements=[_LINKS.tag_id, _LINKS.entity_type, _LINKS.entity_id]
    )
    return new_tags, new_links


_INSERTS = {"sqlite": _inserts(sqlite), "postgresql": _inserts(postgresql)}
_TAG_IDS = select(TAGS.c.name, TAGS.c.id).where(TAGS.c.name.in_(bindparam("names", expanding=True)))
_TAGS_OF = (
    select(_LINKS.entity_id, TAGS.c.name)
    .join(TAGS, TAGS.c.id == _LINKS.tag_id)
    .where(
        _LINKS.entity_type == bindparam("entity_type"),
        _LINKS.entity_id.in_(bindparam("ids", expanding=True)),
    )
)


def link_tags(
    conn: Connection, entity_type: str, links: Iterable[tuple[str, str]], now: datetime
) -> None:
    """Link ``(entity id, checked tag name)`` pairs, creating missing tags; three statements.

    Race-free: a tag created meanwhile by another writer is found by the
    select, which (read committed on PostgreSQL, one writer on SQLite) sees it.
    """
    pairs = sorted(set(links))
    if not pairs:
        return
    names = sorted({name for _, name in pairs})
    new_tags, new_links = _INSERTS[conn.dialect.name]
    conn.execute(new_tags, [{"id": uuid4().hex, "name": n, "created_at": now} for n in names])
    ids = {row.name: row.id for row in conn.execute(_TAG_IDS, {"names": names})}
    conn.execute(
        new_links,
        [
            {"tag_id": ids[name], "entity_type": entity_type, "entity_id": e, "created_at": now}
            for e, name in pairs
        ],
    )


def tagged(entity_type: str, tag: str) -> Select[Any]:
    """Ids of the entities of ``entity_type`` that carry ``tag``, as a subquery to filter on."""
    return (
        select(_LINKS.entity_id)
        .join(TAGS, TAGS.c.id == _LINKS.tag_id)
        .where(TAGS.c.name == tag, _LINKS.entity_type == entity_type)
    )


class TagStore(StoreBase):
    """Tagging pipeline runs and artifact versions."""

    def add_tags(self, entity_type: str, entity_id: str, tags: Sequence[str]) -> None:
        """Link tags to a pipeline run or an artifact version; tags it has already stay.

        Args:
            entity_type: ``"pipeline_run"`` or ``"artifact_version"``.
            entity_id: The id of the run or artifact version.
            tags: Tag names: non-empty, at most 255 characters, no surrounding whitespace.

        Raises:
            ValueError: The entity type or a tag name is invalid.
            NotFoundError: No such run or artifact version.

        Example:
            >>> store.add_tags("pipeline_run", run.id, ["baseline", "prod"])  # doctest: +SKIP
        """
        check_entity_type(entity_type, TAG_ENTITIES, "tag")
        names = check_tags(tags)
        with self._write(f"tag the {entity_type} {entity_id}") as conn:
            require_entity(conn, entity_type, entity_id, "tag")
            link_tags(conn, entity_type, [(entity_id, n) for n in names], self._clock.now())

    def remove_tags(self, entity_type: str, entity_id: str, tags: Sequence[str]) -> None:
        """Unlink tags from a pipeline run or artifact version; a tag it lacks is ignored.

        Raises:
            ValueError: The entity type or a tag name is invalid.
            NotFoundError: No such run or artifact version.

        Example:
            >>> store.remove_tags("pipeline_run", run.id, ["prod"])  # doctest: +SKIP
        """
        check_entity_type(entity_type, TAG_ENTITIES, "untag")
        names = check_tags(tags)
        tag_ids = select(TAGS.c.id).where(TAGS.c.name.in_(names))
        query = delete(TAG_LINKS).where(
            _LINKS.entity_type == entity_type,
            _LINKS.entity_id == entity_id,
            _LINKS.tag_id.in_(tag_ids),
        )
        with self._write(f"untag the {entity_type} {entity_id}") as conn:
            require_entity(conn, entity_type, entity_id, "untag")
            if names:
                conn.execute(query)

    def get_tags(self, entity_type: str, entity_ids: Sequence[str]) -> dict[str, list[str]]:
        """Return the tag names of each entity, sorted; one query per 500 ids.

        Every id asked for is a key, with an empty list when it has no tags
        (or does not exist).

        Raises:
            ValueError: The entity type is not ``"pipeline_run"`` or ``"artifact_version"``.

        Example:
            >>> store.get_tags("pipeline_run", [run.id])  # doctest: +SKIP
            {'4f0c...': ['baseline', 'prod']}
        """
        check_entity_type(entity_type, TAG_ENTITIES, "read the tags of")
        found: dict[str, list[str]] = defaultdict(list)
        with self._read(f"read the tags of {len(entity_ids)} {entity_type}s") as conn:
            for chunk in chunks(entity_ids):
                params = {"entity_type": entity_type, "ids": chunk}
                for row in conn.execute(_TAGS_OF, params):
                    found[row.entity_id].append(row.name)
        # Sorted here, not in SQL: PostgreSQL would order by its locale's collation.
        return {entity_id: sorted(found.get(entity_id, ())) for entity_id in entity_ids}
