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

    Example:
        >>> spec = ArtifactVersionSpec(
        ...     output_name="model", artifact_name="model", uri="/tmp/a/1",
        ...     materializer="m:M", data_type="builtins:dict", content_hash="ab",
        ...     size=2, metadata={})
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
