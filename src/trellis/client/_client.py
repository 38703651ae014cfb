"""``Client``: query pipelines, runs and artifacts of the configured stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict, Unpack

from trellis.artifacts import ArtifactStore, open_artifact_store
from trellis.client._stores import open_metadata_store
from trellis.client._views import ArtifactVersionView, PipelineRunView, PipelineView
from trellis.config import Settings, resolve_settings
from trellis.exceptions import ParameterError
from trellis.metadata import ArtifactRecord, ExecutionStatus, MetadataStore, Page


class Client:
    """Read access to what trellis recorded.

    Args:
        settings: Where the stores are; default: resolved from the environment
            (``TRELLIS_HOME``, ``.trellis/``, ...).

    Example:
        >>> client = Client()                                    # doctest: +SKIP
        >>> client.get_pipeline("training").last_run.status      # doctest: +SKIP
        <ExecutionStatus.COMPLETED: 'completed'>
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or resolve_settings()
        self._metadata: MetadataStore | None = None
        self._artifacts: ArtifactStore | None = None

    @property
    def metadata_store(self) -> MetadataStore:
        if self._metadata is None:
            self._metadata = open_metadata_store(self.settings.store_url)
        return self._metadata

    @property
    def artifact_store(self) -> ArtifactStore:
        if self._artifacts is None:
            self._artifacts = open_artifact_store(self.settings.artifacts_url)
        return self._artifacts

    # -- pipelines and runs ------------------------------------------------------------
    def get_pipeline(self, name: str) -> PipelineView:
        """A pipeline by name (``NotFoundError`` if it never ran)."""
        record = self.metadata_store.get_pipeline(name)
        return PipelineView(record, self.metadata_store, self.artifact_store)

    def list_pipelines(self, *, offset: int = 0, limit: int = 50) -> list[PipelineView]:
        page = self.metadata_store.list_pipelines(offset=offset, limit=limit)
        return [PipelineView(r, self.metadata_store, self.artifact_store) for r in page.items]

    def get_pipeline_run(self, name_or_id: str) -> PipelineRunView:
        """A run by its name or id."""
        record = self.metadata_store.get_run(name_or_id)
        return PipelineRunView(record, self.metadata_store, self.artifact_store)

    def list_pipeline_runs(
        self,
        *,
        pipeline_name: str | None = None,
        status: ExecutionStatus | str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        tag: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> Page[PipelineRunView]:
        """Runs newest first, filtered; one page of at most ``limit``."""
        page = self.metadata_store.list_runs(
            pipeline_name=pipeline_name,
            tag=tag,
            status=_status(status),
            created_after=created_after,
            created_before=created_before,
            offset=offset,
            limit=limit,
        )
        items = [PipelineRunView(r, self.metadata_store, self.artifact_store) for r in page.items]
        return Page(items=items, total=page.total, offset=page.offset, limit=page.limit)

    # -- cache ----------------------------------------------------------------------
    def clear_cache(
        self,
        *,
        pipeline_name: str | None = None,
        step_name: str | None = None,
        older_than: timedelta | None = None,
    ) -> int:
        """Stop reusing earlier results (artifacts stay); returns how many were cleared.

        Args:
            pipeline_name: Only results of this pipeline.
            step_name: Only results of this step (invocation id or step name).
            older_than: Only results that finished longer ago than this.
        """
        now = datetime.now(UTC)
        return self.metadata_store.clear_cache(
            pipeline_name=pipeline_name,
            step_name=step_name,
            older_than=now - older_than if older_than is not None else None,
            at=now,
        )

    # -- artifacts -----------------------------------------------------------------------
    def get_artifact_version(
        self, name_or_id: str, version: int | None = None
    ) -> ArtifactVersionView:
        """An artifact version by name (latest by default) or by id."""
        record = self.metadata_store.get_artifact_version(name_or_id, version)
        return ArtifactVersionView(record, self.artifact_store, self.metadata_store)

    def list_artifact_versions(
        self, name: str, *, tag: str | None = None, offset: int = 0, limit: int = 50
    ) -> Page[ArtifactVersionView]:
        """Versions of one artifact, newest first."""
        page = self.metadata_store.list_artifact_versions(name, tag=tag, offset=offset, limit=limit)
        items = [
            ArtifactVersionView(r, self.artifact_store, self.metadata_store) for r in page.items
        ]
        return Page(items=items, total=page.total, offset=page.offset, limit=page.limit)

    def list_artifacts(
        self,
        *,
        name_contains: str | None = None,
        tag: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> Page[ArtifactRecord]:
        """Artifact names with their latest version number."""
        return self.metadata_store.list_artifacts(
            name_contains=name_contains, tag=tag, offset=offset, limit=limit
        )

    # -- tags -----------------------------------------------------------------------------
    def _tag_target(self, target: TagTarget) -> tuple[str, str]:
        run, artifact = target.get("run"), target.get("artifact")
        version_id = target.get("artifact_version_id")
        if len([t for t in (run, artifact, version_id) if t is not None]) != 1:
            raise ParameterError(
                "Tag exactly one thing: run=<name or id>, artifact=<name> (with "
                "artifact_version=<n>, default latest) or artifact_version_id=<id>."
            )
        if run is not None:
            return "pipeline_run", self.get_pipeline_run(run).id
        name_or_id = artifact or version_id or ""
        version = self.get_artifact_version(name_or_id, target.get("artifact_version"))
        return "artifact_version", version.id

    def add_tags(self, tags: list[str], **target: Unpack[TagTarget]) -> None:
        """Tag a run (``run=``) or an artifact version (``artifact=`` + ``artifact_version=``,
        or ``artifact_version_id=``).

        Example:
            >>> Client().add_tags(["best"], artifact="model", artifact_version=3)  # doctest: +SKIP
        """
        self.metadata_store.add_tags(*self._tag_target(target), tags)

    def remove_tags(self, tags: list[str], **target: Unpack[TagTarget]) -> None:
        """Remove tags from a run or an artifact version (missing tags are ignored)."""
        self.metadata_store.remove_tags(*self._tag_target(target), tags)


class TagTarget(TypedDict, total=False):
    """What ``add_tags`` / ``remove_tags`` act on: exactly one run or artifact version."""

    run: str
    artifact: str
    artifact_version: int
    artifact_version_id: str


def load_artifact(name_or_id: str, version: int | None = None) -> Any:
    """Load an artifact's value by name (latest version by default) or id.

    Example:
        >>> load_artifact("greeting")  # doctest: +SKIP
        'Hello World!'
    """
    return Client().get_artifact_version(name_or_id, version).load()


def _status(value: ExecutionStatus | str | None) -> ExecutionStatus | None:
    if value is None:
        return None
    try:
        return ExecutionStatus(value)
    except ValueError:
        choices = ", ".join(s.value for s in ExecutionStatus)
        raise ParameterError(f"Unknown run status {value!r}; choose one of {choices}.") from None


def add_tags(tags: list[str], **target: Unpack[TagTarget]) -> None:
    """Tag a run or an artifact version of the configured store (see :meth:`Client.add_tags`)."""
    Client().add_tags(tags, **target)


def remove_tags(tags: list[str], **target: Unpack[TagTarget]) -> None:
    """Remove tags from a run or an artifact version (see :meth:`Client.remove_tags`)."""
    Client().remove_tags(tags, **target)
