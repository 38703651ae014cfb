"""The SQL metadata store: pipelines, runs, step runs, artifacts and their versions.

Importing this package is cheap: the records load at once, while
:class:`MetadataStore` (and with it SQLAlchemy) loads on first use.

Example:
    >>> from trellis.metadata import MetadataStore  # doctest: +SKIP
    >>> store = MetadataStore("sqlite:///.trellis/trellis.db")  # doctest: +SKIP
    >>> store.list_runs(limit=5).items  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trellis.metadata._checks import check_tags
from trellis.metadata._records import (
    ArtifactRecord,
    ArtifactVersionRecord,
    ArtifactVersionSpec,
    AttemptRecord,
    AttemptSpec,
    CacheCandidate,
    ExecutionStatus,
    Page,
    PipelineRecord,
    RunRecord,
    StepIO,
    StepRunRecord,
)
from trellis.metadata._revision import SCHEMA_REVISION

if TYPE_CHECKING:
    from trellis.metadata._store import MetadataStore

__all__ = [
    "ArtifactRecord",
    "ArtifactVersionRecord",
    "ArtifactVersionSpec",
    "AttemptRecord",
    "AttemptSpec",
    "CacheCandidate",
    "ExecutionStatus",
    "MetadataStore",
    "Page",
    "PipelineRecord",
    "RunRecord",
    "SCHEMA_REVISION",
    "StepIO",
    "StepRunRecord",
    "check_tags",
]


def __getattr__(name: str) -> Any:
    if name == "MetadataStore":
        from trellis.metadata._store import MetadataStore

        return MetadataStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"MetadataStore"})
