"""The compiled plan of a pipeline: nodes, their inputs and outputs, and edges."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True, slots=True)
class ArtifactSource:
    """An output of an upstream node, or an external artifact, consumed as an input.

    Attributes:
        node_id: Id of the producing node, or of the external artifact.
        output: Output name (``output`` for external artifacts).
        external: Whether the source is an ``ExternalArtifact`` of the plan.
    """

    node_id: str
    output: str
    external: bool = False

    def __str__(self) -> str:
        return self.node_id if self.external else f"{self.node_id}.{self.output}"


@dataclass(frozen=True, slots=True)
class InputBinding:
    """One input argument of a node: a single artifact or a list of artifacts."""

    name: str
    sources: tuple[ArtifactSource, ...]
    is_list: bool = False


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """One declared output of a step.

    Attributes:
        name: Output name (``output`` by default, or from ``Annotated``).
        annotation: The declared type (``typing.Any`` when unannotated).
        artifact_name: Name under which versions are stored.
        materializer: Materializer class chosen for this output, if any.
    """

    name: str
    annotation: Any
    artifact_name: str
    materializer: type | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Node:
    """One step invocation in a plan.

    Attributes:
        id: Invocation id, unique in the plan (``inc``, ``inc_2``).
        step_name: Name of the step definition.
        func: The step's function.
        parameters: Values passed to non-artifact arguments (defaults applied).
        parameters_json: The same values in JSON form (for hashing and records).
        inputs: Artifact inputs.
        after: Ids of nodes that must finish first without passing data.
        outputs: Declared outputs, in order.
        enable_cache: Whether a cached result may replace running the step.
        cache_reason: Where ``enable_cache`` came from (explains disabled caches).
        cache_policy: The :class:`~trellis.CachePolicy` of the step, if any.
        retry: The :class:`~trellis.RetryConfig` of the step, if any.
        on_failure: Hook called in the worker when the step fails for good.
        on_success: Hook called in the worker when the step succeeds.
        enable_step_logs: Capture what the step prints and logs.
        enable_artifact_metadata: Extract metadata from outputs.
        enable_artifact_visualization: Save visualizations of outputs.
        settings: ``resources`` / ``docker`` settings (pydantic models).
    """

    id: str
    step_name: str
    func: Callable[..., Any]
    parameters: Mapping[str, Any]
    parameters_json: Mapping[str, Any]
    inputs: tuple[InputBinding, ...]
    after: frozenset[str]
    outputs: tuple[OutputSpec, ...]
    enable_cache: bool = True
    cache_reason: str = "default"
    cache_policy: Any = None
    retry: Any = None
    on_failure: Callable[..., Any] | None = None
    on_success: Callable[..., Any] | None = None
    enable_step_logs: bool = True
    enable_artifact_metadata: bool = True
    enable_artifact_visualization: bool = True
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def upstream(self) -> frozenset[str]:
        """Ids of every node this one waits for (external artifacts exist already)."""
        ids = {
            source.node_id
            for binding in self.inputs
            for source in binding.sources
            if not source.external
        }
        return frozenset(ids | self.after)

    def output(self, name: str) -> OutputSpec:
        for spec in self.outputs:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "step": self.step_name,
            "parameters": dict(self.parameters_json),
            "inputs": {b.name: [str(s) for s in b.sources] for b in self.inputs},
            "list_inputs": [b.name for b in self.inputs if b.is_list],
            "after": sorted(self.after),
            "outputs": {o.name: o.artifact_name for o in self.outputs},
            "settings": {k: _model_json(v) for k, v in self.settings.items()},
            "retry": _model_json(self.retry) if self.retry is not None else None,
            "enable_step_logs": self.enable_step_logs,
        }


@dataclass(frozen=True, slots=True)
class Plan:
    """A validated, topologically ordered DAG of nodes.

    Attributes:
        pipeline_name: Name of the pipeline.
        nodes: Nodes by id, in a topological order.
        parameters: The pipeline's parameters (JSON form).
        outputs: The pipeline's named outputs.
        hooks: Run-level ``on_failure`` / ``on_success`` / ``on_cleanup`` hooks.
        execution_mode: What the run does when a step fails.
        tags: Tags of the run.
        settings: Pipeline-level settings (recorded with the run).
        externals: ``ExternalArtifact`` inputs by source id.
    """

    pipeline_name: str
    nodes: Mapping[str, Node]
    parameters: Mapping[str, Any] = field(default_factory=dict)
    outputs: Mapping[str, ArtifactSource] = field(default_factory=dict)
    hooks: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    execution_mode: str = "continue_on_failure"
    tags: tuple[str, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)
    externals: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", MappingProxyType(dict(self.nodes)))
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))
        object.__setattr__(self, "outputs", MappingProxyType(dict(self.outputs)))
        object.__setattr__(self, "hooks", MappingProxyType(dict(self.hooks)))
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))
        object.__setattr__(self, "externals", MappingProxyType(dict(self.externals)))

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes.values())

    def __len__(self) -> int:
        return len(self.nodes)

    def to_json(self) -> dict[str, Any]:
        """The plan as JSON (recorded with the run, drawn by the dashboard)."""
        return {
            "pipeline": self.pipeline_name,
            "nodes": [node.to_json() for node in self.nodes.values()],
            "outputs": {name: str(source) for name, source in self.outputs.items()},
            "execution_mode": self.execution_mode,
            "tags": list(self.tags),
            "settings": {k: _model_json(v) for k, v in self.settings.items()},
            "externals": {key: repr(value) for key, value in self.externals.items()},
        }


def _model_json(value: Any) -> Any:
    """JSON form of a pydantic settings model (or a plain value)."""
    dump = getattr(value, "model_dump", None)
    return dump(mode="json") if callable(dump) else value
