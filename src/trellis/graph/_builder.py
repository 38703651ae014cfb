"""Collect nodes while a pipeline function is traced, then freeze them into a Plan."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from trellis.exceptions import DefinitionError
from trellis.graph._plan import ArtifactSource, Node, Plan


class PlanBuilder:
    """Mutable collector used during tracing; :meth:`build` returns the immutable plan.

    Example:
        >>> builder = PlanBuilder("demo")
        >>> builder.new_id("load")
        'load'
    """

    def __init__(self, pipeline_name: str) -> None:
        self.pipeline_name = pipeline_name
        self._nodes: dict[str, Node] = {}
        self._taken: set[str] = set()
        self._counters: dict[str, int] = {}

    def __contains__(self, node_id: str) -> bool:
        return node_id in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def new_id(self, step_name: str, requested: str | None = None) -> str:
        """Reserve an invocation id: ``requested`` as given, else ``name``, ``name_2``, ..."""
        if requested is not None:
            if not requested or not isinstance(requested, str):
                raise DefinitionError(
                    f"Step `{step_name}` in pipeline `{self.pipeline_name}`: id must be a "
                    f"non-empty string, got {requested!r}."
                )
            if requested in self._taken:
                raise DefinitionError(
                    f"Pipeline `{self.pipeline_name}` already has a step with id "
                    f"`{requested}`; give each call of a step its own id=."
                )
            self._taken.add(requested)
            return requested
        count = self._counters.get(step_name, 0)
        while True:
            count += 1
            candidate = step_name if count == 1 else f"{step_name}_{count}"
            if candidate not in self._taken:
                break
        self._counters[step_name] = count
        self._taken.add(candidate)
        return candidate

    def add(self, node: Node) -> None:
        """Add a node whose id came from :meth:`new_id`; its inputs must already exist."""
        for binding in node.inputs:
            for source in binding.sources:
                if not source.external:
                    self._check_source(node.id, source)
        self._nodes[node.id] = node

    def _check_source(self, node_id: str, source: ArtifactSource) -> None:
        upstream = self._nodes.get(source.node_id)
        if upstream is None:
            raise DefinitionError(
                f"Step `{node_id}` in pipeline `{self.pipeline_name}` uses an output of "
                f"`{source.node_id}`, which is not part of this pipeline."
            )
        if all(spec.name != source.output for spec in upstream.outputs):
            raise DefinitionError(
                f"Step `{node_id}` in pipeline `{self.pipeline_name}` uses output "
                f"`{source.output}` of `{source.node_id}`, which has no such output."
            )

    def build(
        self,
        *,
        parameters: Mapping[str, Any] | None = None,
        outputs: Mapping[str, ArtifactSource] | None = None,
        **run_options: Any,
    ) -> Plan:
        """Validate ``after=`` references and cycles; return nodes in topological order."""
        if not self._nodes:
            raise DefinitionError(
                f"Pipeline `{self.pipeline_name}` calls no steps; call at least one "
                "@step function inside the pipeline function."
            )
        for node in self._nodes.values():
            # not `node.after - self._nodes.keys()`: that copies every key, per node
            unknown = sorted(step_id for step_id in node.after if step_id not in self._nodes)
            if unknown:
                raise DefinitionError(
                    f"Step `{node.id}` in pipeline `{self.pipeline_name}` has after= "
                    f"{', '.join(map(repr, unknown))}, which is not a step id of this "
                    f"pipeline; known ids: {', '.join(self._nodes)}."
                )
        return Plan(
            pipeline_name=self.pipeline_name,
            nodes={node_id: self._nodes[node_id] for node_id in self._topological_order()},
            parameters=dict(parameters or {}),
            outputs=dict(outputs or {}),
            **run_options,
        )

    def _topological_order(self) -> list[str]:
        waiting = {node_id: len(node.upstream) for node_id, node in self._nodes.items()}
        children: dict[str, list[str]] = {node_id: [] for node_id in self._nodes}
        for node in self._nodes.values():
            for parent in node.upstream:
                children[parent].append(node.id)
        ready = deque(node_id for node_id, count in waiting.items() if count == 0)
        order: list[str] = []
        while ready:
            current = ready.popleft()
            order.append(current)
            for child in children[current]:
                waiting[child] -= 1
                if waiting[child] == 0:
                    ready.append(child)
        if len(order) != len(self._nodes):
            cycle = sorted(node_id for node_id, count in waiting.items() if count > 0)
            raise DefinitionError(
                f"Pipeline `{self.pipeline_name}` has a cycle through after= among "
                f"{', '.join(cycle)}; remove one of those after= references."
            )
        return order
