"""The metadata store: one SQL database that records pipelines, runs and artifacts."""

from __future__ import annotations

import threading
from types import TracebackType

from trellis.metadata._artifact_reads import ArtifactReads
from trellis.metadata._base import UtcClock
from trellis.metadata._cache import StepCache
from trellis.metadata._engine import open_engine
from trellis.metadata._migrator import ensure_schema
from trellis.metadata._run_metadata import RunMetadata
from trellis.metadata._run_reads import RunReads
from trellis.metadata._tags import TagStore
from trellis.metadata._writes import StoreWrites, upserts

__all__ = ["MetadataStore"]


class MetadataStore(StoreWrites, RunReads, ArtifactReads, StepCache, TagStore, RunMetadata):
    """Records pipelines, runs, step runs and artifact versions in SQLite or PostgreSQL.

    Opening a store creates the database schema when the database is empty and
    upgrades it when an older trellis made it. Only the driver process writes;
    each write method is one transaction. Reads may come from any thread.

    Args:
        url: ``sqlite:///path/to/trellis.db`` (the folder is created) or
            ``postgresql+psycopg://user:password@host:5432/database``
            (``postgresql://`` means psycopg 3 too).

    Raises:
        MetadataStoreError: The URL is not supported or the database cannot be opened.
        SchemaVersionError: A newer trellis made the database.

    Example:
        >>> from datetime import UTC, datetime
        >>> store = MetadataStore("sqlite:///.trellis/trellis.db")  # doctest: +SKIP
        >>> run = store.create_run(  # doctest: +SKIP
        ...     pipeline_name="training", run_name="training-1", parameters={},
        ...     environment={}, config={}, plan={}, outputs={},
        ...     started_at=datetime.now(UTC))
        >>> store.get_run("training-1").status  # doctest: +SKIP
        <ExecutionStatus.RUNNING: 'running'>
        >>> store.add_tags("pipeline_run", run.id, ["baseline"])  # doctest: +SKIP
        >>> store.log_metadata("pipeline_run", run.id, {"accuracy": 0.93},  # doctest: +SKIP
        ...                    at=datetime.now(UTC))
        >>> store.close()  # doctest: +SKIP
    """

    def __init__(self, url: str) -> None:
        self._engine = open_engine(url)
        try:
            ensure_schema(self._engine)
        except BaseException:
            self._engine.engine.dispose()
            raise
        self.url = self._engine.url
        self.dialect = self._engine.dialect
        self._clock = UtcClock()
        self._artifact_ids = {}
        self._batch = threading.local()
        self._upsert_pipeline, self._upsert_artifact = upserts(self.dialect)

    def __repr__(self) -> str:
        return f"MetadataStore({self._engine.masked_url!r})"

    def __enter__(self) -> MetadataStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
