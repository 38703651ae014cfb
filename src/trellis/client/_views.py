"""Read-side views of runs, steps and artifact versions (ZenML-style names)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from trellis.client._explain import CacheExplanation, explain_cache
from trellis.exceptions import NotFoundError
from trellis.metadata import (
    ArtifactVersionRecord,
    AttemptRecord,
    ExecutionStatus,
    PipelineRecord,
    RunRecord,
    StepIO,
    StepRunRecord,
)

if TYPE_CHECKING:
    from trellis.artifacts import ArtifactStore
    from trellis.metadata import MetadataStore


def _duration(start: datetime | None, end: datetime | None) -> timedelta | None:
    return end - start if start is not None and end is not None else None


class Visualization:
    """One rendered view of an artifact: ``type`` is html, markdown, png, csv or json."""

    def __init__(self, type: str, uri: str, artifacts: ArtifactStore) -> None:
        self.type = type
        self.uri = uri
        self._artifacts = artifacts

    def __repr__(self) -> str:
        return f"<Visualization {self.type} {self.uri}>"

    def read(self) -> bytes:
        """The file's bytes."""
        return self._artifacts.read_file(self.uri)


class ArtifactVersionView:
    """One version of a named artifact; :meth:`load` reads its value.

    Example:
        >>> Client().get_artifact_version("dataset").load()  # doctest: +SKIP
    """

    def __init__(
        self, record: ArtifactVersionRecord, artifacts: ArtifactStore, store: MetadataStore
    ) -> None:
        self._record = record
        self._artifacts = artifacts
        self._store = store

    def __repr__(self) -> str:
        return f"<ArtifactVersion {self.name!r} v{self.version}>"

    @property
    def record(self) -> ArtifactVersionRecord:
        return self._record

    id = property(lambda self: self._record.id)
    name = property(lambda self: self._record.name)
    version = property(lambda self: self._record.version)
    uri = property(lambda self: self._record.uri)
    materializer = property(lambda self: self._record.materializer)
    data_type = property(lambda self: self._record.data_type)
    content_hash = property(lambda self: self._record.content_hash)
    size = property(lambda self: self._record.size)
    producer_step_run_id = property(lambda self: self._record.producer_step_run_id)
    created = property(lambda self: self._record.created_at)

    @property
    def run_metadata(self) -> dict[str, Any]:
        """Metadata the materializer extracted, plus values logged with ``log_metadata``."""
        logged = self._store.get_metadata("artifact_version", [self.id]).get(self.id, {})
        return {**self._record.metadata, **logged}

    @property
    def tags(self) -> list[str]:
        return self._store.get_tags("artifact_version", [self.id]).get(self.id, [])

    @property
    def visualizations(self) -> list[Visualization]:
        """Files the materializer rendered for this value (HTML, PNG, ...)."""
        return [
            Visualization(item["type"], item["uri"], self._artifacts)
            for item in self._record.visualizations
        ]

    def load(self) -> Any:
        """Read the value from the artifact store with the materializer that saved it."""
        return self._artifacts.load(
            self._record.uri,
            materializer=self._record.materializer,
            data_type=self._record.data_type,
        )


class StepRunView:
    """One step of a run: status, times, inputs and outputs."""

    def __init__(
        self,
        record: StepRunRecord,
        io: tuple[list[StepIO], list[StepIO]],
        artifacts: ArtifactStore,
        *,
        run: RunRecord,
        store: MetadataStore,
        node: Mapping[str, Any] | None = None,
    ) -> None:
        self._record = record
        self._io = io
        self._artifacts = artifacts
        self._run = run
        self._store = store
        #: The step's node in the run's plan JSON (list inputs, log setting, ...).
        self._node: Mapping[str, Any] = node or {}

    def __repr__(self) -> str:
        return f"<StepRun {self.name!r} {self.status}>"

    @property
    def record(self) -> StepRunRecord:
        return self._record

    id = property(lambda self: self._record.id)
    name = property(lambda self: self._record.name)
    step_name = property(lambda self: self._record.step_name)
    status: ExecutionStatus = property(lambda self: self._record.status)  # type: ignore[assignment]
    start_time = property(lambda self: self._record.started_at)
    end_time = property(lambda self: self._record.ended_at)
    parameters = property(lambda self: dict(self._record.parameters))
    code_hash = property(lambda self: self._record.code_hash)
    source_code = property(lambda self: self._record.source_code)
    cache_key = property(lambda self: self._record.cache_key)
    original_step_run_id = property(lambda self: self._record.original_step_run_id)
    error = property(lambda self: self._record.error)
    traceback = property(lambda self: self._record.traceback)
    parent_step_ids = property(lambda self: list(self._record.parent_ids))

    @property
    def duration(self) -> timedelta | None:
        return _duration(self._record.started_at, self._record.ended_at)

    @property
    def attempts(self) -> int:
        """How many times the step ran in this run (more than 1: it was retried)."""
        return self._record.attempts

    @property
    def retried(self) -> bool:
        return self._record.attempts > 1

    @property
    def failed_attempts(self) -> list[AttemptRecord]:
        """The attempts that failed and were retried, oldest first."""
        return self._store.get_attempts([self.id]).get(self.id, [])

    @property
    def logs(self) -> str | None:
        """What the step printed and logged (``None`` when logs were not captured)."""
        if self._record.log_uri is not None:
            return self._artifacts.read_file(self._record.log_uri).decode(errors="replace")
        ran = self._record.status in (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED)
        return "" if ran and self._node.get("enable_step_logs", True) else None

    @property
    def run_metadata(self) -> dict[str, Any]:
        """Values logged with ``log_metadata`` for this step run."""
        return self._store.get_metadata("step_run", [self.id]).get(self.id, {})

    @property
    def cache_parts(self) -> dict[str, Any]:
        """What the cache key was made of, the lookup's finding and the policy."""
        return dict(self._record.cache_parts)

    def cache_explanation(self) -> CacheExplanation:
        """Why this step reused a cached result, or why not.

        Example:
            >>> print(run.steps["train"].cache_explanation())  # doctest: +SKIP
            Step `train` in run `training-...`: cache miss
            - parameter `lr` changed 0.1 → 0.01
        """
        return explain_cache(self._record, self._run, self._store)

    @cached_property
    def inputs(self) -> dict[str, ArtifactVersionView | list[ArtifactVersionView]]:
        """Input artifacts by argument name; a list input gives a list."""
        grouped: dict[str, list[StepIO]] = {}
        for link in self._io[0]:
            grouped.setdefault(link.name, []).append(link)
        result: dict[str, ArtifactVersionView | list[ArtifactVersionView]] = {}
        for name, links in grouped.items():
            links.sort(key=lambda link: link.position)
            views = [
                ArtifactVersionView(link.artifact_version, self._artifacts, self._store)
                for link in links
            ]
            result[name] = views if name in self._node.get("list_inputs", ()) else views[0]
        return result

    @cached_property
    def outputs(self) -> dict[str, ArtifactVersionView]:
        """Output artifact versions by output name."""
        return {
            link.name: ArtifactVersionView(link.artifact_version, self._artifacts, self._store)
            for link in self._io[1]
        }

    @property
    def output(self) -> ArtifactVersionView:
        """The only output of a single-output step."""
        outputs = self.outputs
        if len(outputs) != 1:
            raise NotFoundError(
                f"Step `{self.name}` has {len(outputs)} outputs "
                f"({', '.join(outputs) or 'none'}); use .outputs[name]."
            )
        return next(iter(outputs.values()))


class PipelineRunView:
    """One pipeline run; ``run.steps["train"].output.load()`` reads a step's output."""

    def __init__(self, record: RunRecord, store: MetadataStore, artifacts: ArtifactStore) -> None:
        self._record = record
        self._store = store
        self._artifacts = artifacts

    def __repr__(self) -> str:
        return f"<PipelineRun {self.name!r} {self.status}>"

    @property
    def record(self) -> RunRecord:
        return self._record

    id = property(lambda self: self._record.id)
    name = property(lambda self: self._record.name)
    pipeline_name = property(lambda self: self._record.pipeline_name)
    status: ExecutionStatus = property(lambda self: self._record.status)  # type: ignore[assignment]
    created = property(lambda self: self._record.created_at)
    start_time = property(lambda self: self._record.started_at)
    end_time = property(lambda self: self._record.ended_at)
    parameters = property(lambda self: dict(self._record.parameters))
    environment = property(lambda self: dict(self._record.environment))
    config = property(lambda self: dict(self._record.config))
    error = property(lambda self: self._record.error)

    @property
    def duration(self) -> timedelta | None:
        return _duration(self._record.started_at, self._record.ended_at)

    @property
    def tags(self) -> list[str]:
        return self._store.get_tags("pipeline_run", [self.id]).get(self.id, [])

    @property
    def run_metadata(self) -> dict[str, Any]:
        """Values logged for this run (``log_metadata(..., run_id=...)``, hook errors)."""
        return self._store.get_metadata("pipeline_run", [self.id]).get(self.id, {})

    @cached_property
    def steps(self) -> dict[str, StepRunView]:
        """Step runs by invocation id, in the order they were recorded (two queries)."""
        records = self._store.list_step_runs(self._record.id)
        io = self._store.get_step_io([r.id for r in records])
        nodes = {node["id"]: node for node in self._record.plan.get("nodes", ())}
        return {
            r.name: StepRunView(
                r,
                io.get(r.id, ([], [])),
                self._artifacts,
                run=self._record,
                store=self._store,
                node=nodes.get(r.name),
            )
            for r in records
        }

    @property
    def outputs(self) -> _RunOutputs:
        """The pipeline's named outputs (what the pipeline function returned).

        An output whose step did not complete is missing; asking for it says why.
        """
        result = _RunOutputs(self)
        for name, (step_id, output) in _pairs(self._record.outputs):
            step = self.steps.get(step_id)
            if step is not None and output in step.outputs:
                result[name] = step.outputs[output]
        return result

    def _missing_output(self, name: str) -> NotFoundError:
        declared = dict(_pairs(self._record.outputs))
        if name not in declared:
            return NotFoundError(
                f"Run `{self.name}` has no output named {name!r}; its pipeline returns: "
                f"{', '.join(declared) or 'nothing'}."
            )
        step_id, _ = declared[name]
        step = self.steps.get(step_id)
        state = step.status.value if step is not None else "not recorded"
        return NotFoundError(
            f"Output {name!r} of run `{self.name}` does not exist: step `{step_id}` is "
            f"{state}. See `trellis runs show {self.id}`."
        )

    def refresh(self) -> PipelineRunView:
        """A fresh view of the same run (status and steps re-read)."""
        return PipelineRunView(self._store.get_run(self._record.id), self._store, self._artifacts)


class _RunOutputs(dict[str, ArtifactVersionView]):
    """A dict of a run's outputs whose missing keys explain themselves."""

    def __init__(self, run: PipelineRunView) -> None:
        super().__init__()
        self._run = run

    def __missing__(self, name: str) -> ArtifactVersionView:
        raise self._run._missing_output(name)


def _pairs(outputs: Mapping[str, Any]) -> list[tuple[str, tuple[str, str]]]:
    return [(name, (str(value[0]), str(value[1]))) for name, value in outputs.items()]


class PipelineView:
    """A pipeline by name, with its runs newest first."""

    def __init__(
        self, record: PipelineRecord, store: MetadataStore, artifacts: ArtifactStore
    ) -> None:
        self._record = record
        self._store = store
        self._artifacts = artifacts

    def __repr__(self) -> str:
        return f"<Pipeline {self.name!r}>"

    id = property(lambda self: self._record.id)
    name = property(lambda self: self._record.name)
    created = property(lambda self: self._record.created_at)

    def list_runs(self, *, offset: int = 0, limit: int = 50) -> list[PipelineRunView]:
        page = self._store.list_runs(pipeline_name=self.name, offset=offset, limit=limit)
        return [PipelineRunView(record, self._store, self._artifacts) for record in page.items]

    @property
    def runs(self) -> list[PipelineRunView]:
        """The newest 50 runs, newest first (use :meth:`list_runs` to page further)."""
        return self.list_runs()

    @property
    def last_run(self) -> PipelineRunView:
        runs = self.list_runs(limit=1)
        if not runs:
            raise NotFoundError(f"Pipeline `{self.name}` has no runs yet.")
        return runs[0]
