"""Rows of the metadata store as frozen values (what the read side returns)."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class ExecutionStatus(enum.StrEnum):
    """Status of a run or a step run."""

    INITIALIZING = "initializing"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CACHED = "cached"
    SKIPPED = "skipped"
    STOPPED = "stopped"

    @property
    def is_finished(self) -> bool:
        return self not in (ExecutionStatus.INITIALIZING, ExecutionStatus.RUNNING)

    @property
    def is_successful(self) -> bool:
        return self in (ExecutionStatus.COMPLETED, ExecutionStatus.CACHED)


@dataclass(frozen=True, slots=True)
class PipelineRecord:
    id: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: str
    name: str
    pipeline_id: str
    pipeline_name: str
    status: ExecutionStatus
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    parameters: Mapping[str, Any]
    environment: Mapping[str, Any]
    config: Mapping[str, Any]
    #: The compiled plan as JSON (nodes with their inputs, edges) for display.
    plan: Mapping[str, Any]
    #: Pipeline output name -> ``[step invocation id, output name]``.
    outputs: Mapping[str, Sequence[str]]
    error: str | None


@dataclass(frozen=True, slots=True)
class StepRunRecord:
    id: str
    run_id: str
    #: Invocation id inside the pipeline (``train``, ``inc_2``).
    name: str
    #: Name of the step definition (function or ``@step(name=...)``).
    step_name: str
    status: ExecutionStatus
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    parameters: Mapping[str, Any]
    code_hash: str | None
    source_code: str | None
    cache_key: str | None
    cache_parts: Mapping[str, Any]
    #: For a ``cached`` step run: the step run whose outputs it reuses.
    original_step_run_id: str | None
    error: str | None
    traceback: str | None
    #: Ids of the step runs this one depends on (data edges and ``after=``).
    parent_ids: Sequence[str]
    #: When ``clear_cache`` stopped this step run from serving cache hits.
    cache_cleared_at: datetime | None
    #: How many times the step ran; attempts before the last are in ``get_attempts``.
    attempts: int = 1
    #: Where the artifact store keeps the step's captured stdout, stderr and logs.
    log_uri: str | None = None


@dataclass(frozen=True, slots=True)
class ArtifactRecord:
    id: str
    name: str
    created_at: datetime
    latest_version: int


@dataclass(frozen=True, slots=True)
class ArtifactVersionRecord:
    id: str
    artifact_id: str
    name: str
    version: int
    uri: str
    materializer: str
    data_type: str
    content_hash: str
    size: int
    metadata: Mapping[str, Any]
    producer_step_run_id: str | None
    created_at: datetime
    #: Files a materializer saved to show the value: ``{"type": "html", "uri": ...}``.
    visualizations: Sequence[Mapping[str, str]] = ()


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """A failed attempt of a step run that was retried (the last attempt is the step run)."""

    step_run_id: str
    #: 1 for the first attempt.
    attempt: int
    started_at: datetime | None
    ended_at: datetime | None
    error: str | None
    traceback: str | None


@dataclass(frozen=True, slots=True)
class StepIO:
    """One input or output link of a step run."""

    name: str
    #: Position inside a list input (0 for single artifacts).
    position: int
    artifact_version: ArtifactVersionRecord


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list query."""

    items: Sequence[T]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True, slots=True)
class ArtifactVersionSpec:
    """An output a step saved, to be committed as a new artifact version.

    Attributes:
        output_name: Name of the step output (``"model"``, ``"output"``).
        artifact_name: Name of the artifact the new version belongs to.
        uri: Full URL or local path of the saved files.
        materializer: Import path ``"module:QualName"`` of the materializer class.
        data_type: Import path ``"module:QualName"`` of the saved value's type.
        content_hash: ``sha256`` hex digest of the materialized content.
        size: Total size of the artifact's files in bytes.
        metadata: JSON-able values the materializer extracted.
        tags: Tag names to link to the new version.
        visualizations: Files that show the value, each ``{"type": t, "uri": u}``
            with ``t`` one of ``html``, ``markdown``, ``png``, ``csv``, ``json``.

    Example:
        >>> spec = ArtifactVersionSpec(
        ...     output_name="model", artifact_name="model", uri="/tmp/a/1",
        ...     materializer="m:M", data_type="builtins:dict", content_hash="ab",
        ...     size=2, metadata={}, tags=["prod"],
        ...     visualizations=[{"type": "json", "uri": "/tmp/a/1/preview.json"}])
        >>> spec.artifact_name
        'model'
    """

    output_name: str
    artifact_name: str
    uri: str
    materializer: str
    data_type: str
    content_hash: str
    size: int
    metadata: Mapping[str, Any]
    tags: Sequence[str] = ()
    visualizations: Sequence[Mapping[str, str]] = ()


@dataclass(frozen=True, slots=True)
class AttemptSpec:
    """A failed attempt of a step that was retried, to record with the step run.

    Attributes:
        attempt: Its number, 1 for the first; below the step run's ``attempts``.
        started_at: When the attempt began.
        ended_at: When it failed.
        error: The exception, as text.
        traceback: The formatted traceback.

    Example:
        >>> from datetime import UTC, datetime
        >>> at = datetime(2024, 5, 1, tzinfo=UTC)
        >>> AttemptSpec(attempt=1, started_at=at, ended_at=at, error="boom",
        ...             traceback=None).attempt
        1
    """

    attempt: int
    started_at: datetime | None
    ended_at: datetime | None
    error: str | None
    traceback: str | None


@dataclass(frozen=True, slots=True)
class CacheCandidate:
    """A completed step run that may serve a cache hit, with just what the engine checks."""

    step_run_id: str
    created_at: datetime
    ended_at: datetime | None
    outputs: Mapping[str, ArtifactVersionRecord]
