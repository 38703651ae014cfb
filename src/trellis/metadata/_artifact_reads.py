"""Reading artifacts and their versions."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from trellis.exceptions import NotFoundError
from trellis.metadata._base import StoreBase
from trellis.metadata._entities import ARTIFACT_VERSION
from trellis.metadata._records import ArtifactRecord, ArtifactVersionRecord, Page
from trellis.metadata._rows import (
    artifact_record,
    select_artifacts,
    select_versions,
    version_record,
)
from trellis.metadata._run_reads import page
from trellis.metadata._schema import ARTIFACT_VERSIONS, ARTIFACTS
from trellis.metadata._tags import tagged

__all__ = ["ArtifactReads"]

_LIST_HINT = "List artifacts and their latest versions with `trellis artifacts list`."


class ArtifactReads(StoreBase):
    """Queries over artifacts and artifact versions."""

    def get_artifact_version(
        self, name_or_id: str, version: int | None = None
    ) -> ArtifactVersionRecord:
        """Return one artifact version.

        Args:
            name_or_id: Without ``version``: an artifact version id, or an artifact
                name for its latest version. With ``version``: an artifact name or id.
            version: The version number (1, 2, ...) to return.

        Raises:
            NotFoundError: No such artifact or version.

        Example:
            >>> store.get_artifact_version("model").version  # doctest: +SKIP
            3
            >>> store.get_artifact_version("model", 1).uri  # doctest: +SKIP
        """
        versions = ARTIFACT_VERSIONS.c
        with self._read(f"read the artifact version {name_or_id!r}") as conn:
            if version is None:
                row = conn.execute(select_versions().where(versions.id == name_or_id)).first()
                if row is None:
                    query = (
                        select_versions()
                        .where(ARTIFACTS.c.name == name_or_id)
                        .order_by(versions.version.desc())
                        .limit(1)
                    )
                    row = conn.execute(query).first()
            else:
                query = select_versions().where(
                    or_(ARTIFACTS.c.name == name_or_id, ARTIFACTS.c.id == name_or_id),
                    versions.version == version,
                )
                row = conn.execute(query).first()
        if row is not None:
            return version_record(row)
        if version is None:
            raise NotFoundError(
                f"No artifact version named or with id {name_or_id!r}. {_LIST_HINT}"
            )
        raise NotFoundError(
            f"No version {version} of an artifact named or with id {name_or_id!r}. {_LIST_HINT}"
        )

    def list_artifact_versions(
        self, name: str, *, offset: int = 0, limit: int = 50, tag: str | None = None
    ) -> Page[ArtifactVersionRecord]:
        """Return one page of the versions of artifact ``name``, newest first.

        Args:
            tag: Only versions tagged with this tag name.

        Raises:
            NotFoundError: No artifact has this name.

        Example:
            >>> [v.version for v in store.list_artifact_versions("model").items]
            ... # doctest: +SKIP
            [3, 2, 1]
            >>> [v.version for v in store.list_artifact_versions("model", tag="prod").items]
            ... # doctest: +SKIP
            [2]
        """
        query = (
            select_versions()
            .where(ARTIFACTS.c.name == name)
            .order_by(ARTIFACT_VERSIONS.c.version.desc())
        )
        if tag is not None:
            query = query.where(ARTIFACT_VERSIONS.c.id.in_(tagged(ARTIFACT_VERSION, tag)))
        with self._read(f"list the versions of artifact {name!r}") as conn:
            exists = conn.execute(select(ARTIFACTS.c.id).where(ARTIFACTS.c.name == name)).first()
            if exists is None:
                raise NotFoundError(f"No artifact named {name!r}. {_LIST_HINT}")
            return page(conn, query, offset=offset, limit=limit, record=version_record)

    def list_artifacts(
        self,
        *,
        name_contains: str | None = None,
        offset: int = 0,
        limit: int = 50,
        tag: str | None = None,
    ) -> Page[ArtifactRecord]:
        """Return one page of artifacts, newest first.

        Args:
            name_contains: Only artifacts whose name contains this text (any case).
            tag: Only artifacts with at least one version tagged with this tag name.

        Example:
            >>> [a.name for a in store.list_artifacts(name_contains="model", tag="prod").items]
            ... # doctest: +SKIP
        """
        query = select_artifacts().order_by(ARTIFACTS.c.created_at.desc(), ARTIFACTS.c.id.desc())
        if name_contains:
            needle = name_contains.lower()
            query = query.where(func.lower(ARTIFACTS.c.name).contains(needle, autoescape=True))
        if tag is not None:
            versions = select(ARTIFACT_VERSIONS.c.artifact_id).where(
                ARTIFACT_VERSIONS.c.id.in_(tagged(ARTIFACT_VERSION, tag))
            )
            query = query.where(ARTIFACTS.c.id.in_(versions))
        with self._read("list artifacts") as conn:
            return page(conn, query, offset=offset, limit=limit, record=artifact_record)
