"""Turn step calls inside a pipeline function into plan nodes."""

from __future__ import annotations

import contextvars
import inspect
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from trellis.dsl._external import ExternalArtifact
from trellis.dsl._handles import OutputHandle, contains_handle
from trellis.dsl._options import PipelineOptions, resolve
from trellis.dsl._parameters import parameter_json
from trellis.exceptions import DefinitionError, HandleError, ParameterError
from trellis.graph import ArtifactSource, InputBinding, Node, OutputSpec, PlanBuilder

if TYPE_CHECKING:
    from trellis.dsl._step import Step

_CURRENT: contextvars.ContextVar[Tracer | None] = contextvars.ContextVar(
    "trellis_tracer", default=None
)

StepCallResult = OutputHandle | tuple[OutputHandle, ...] | None


def current_tracer() -> Tracer | None:
    """The tracer of the pipeline being compiled in this context, if any."""
    return _CURRENT.get()


class Tracer:
    """Records the step calls of one pipeline function into a :class:`PlanBuilder`."""

    def __init__(self, pipeline_name: str, options: PipelineOptions | None = None) -> None:
        self.pipeline_name = pipeline_name
        self.options = options or PipelineOptions()
        self.builder = PlanBuilder(pipeline_name)
        #: ``ExternalArtifact`` arguments by source id, in call order.
        self.externals: dict[str, ExternalArtifact] = {}

    def activate(self) -> contextvars.Token[Tracer | None]:
        return _CURRENT.set(self)

    @staticmethod
    def deactivate(token: contextvars.Token[Tracer | None]) -> None:
        _CURRENT.reset(token)

    # -- step calls -------------------------------------------------------------------
    def add_step_call(
        self,
        step: Step[Any, Any],
        args: Sequence[Any],
        kwargs: Mapping[str, Any],
        *,
        id: str | None,
        after: Any,
    ) -> StepCallResult:
        node_id = self.builder.new_id(step.name, id)
        where = f"step `{node_id}` in pipeline `{self.pipeline_name}`"
        spec = step.spec()
        arguments = self._bind(spec.signature, args, kwargs, where)
        inputs: list[InputBinding] = []
        parameters: dict[str, Any] = {}
        parameters_json: dict[str, Any] = {}
        for name, param in spec.signature.parameters.items():
            if name in arguments:
                value = arguments[name]
                binding = self._binding(name, value, where)
                if binding is not None:
                    inputs.append(binding)
                    continue
                parameters_json[name] = parameter_json(value, name=name, where=where)
                parameters[name] = value
            elif param.default is not param.empty:
                try:
                    parameters_json[name] = parameter_json(param.default, name=name, where=where)
                except ParameterError:
                    continue  # the function applies a non-JSON default itself
                parameters[name] = param.default
        outputs = tuple(
            OutputSpec(
                name=declared.name,
                annotation=declared.annotation,
                artifact_name=declared.name
                if declared.named
                else f"{self.pipeline_name}::{node_id}::{declared.name}",
                materializer=step.materializer_for(declared.name),
                tags=declared.tags,
            )
            for declared in spec.outputs
        )
        resolved = resolve(node_id, step.options, self.options, self.pipeline_name)
        node = Node(
            id=node_id,
            step_name=step.name,
            func=step.entrypoint,
            parameters=parameters,
            parameters_json=parameters_json,
            inputs=tuple(inputs),
            after=self._after(after, where),
            outputs=outputs,
            enable_cache=resolved.enable_cache,
            cache_reason=resolved.cache_reason,
            cache_policy=resolved.cache_policy,
            retry=resolved.retry,
            on_failure=resolved.on_failure,
            on_success=resolved.on_success,
            enable_step_logs=resolved.enable_step_logs,
            enable_artifact_metadata=resolved.enable_artifact_metadata,
            enable_artifact_visualization=resolved.enable_artifact_visualization,
            settings=resolved.settings,
        )
        self.builder.add(node)
        handles = tuple(OutputHandle(self, node_id, o.name, step.name) for o in outputs)
        if not handles:
            return None
        return handles[0] if len(handles) == 1 else handles

    @staticmethod
    def _bind(
        signature: inspect.Signature, args: Sequence[Any], kwargs: Mapping[str, Any], where: str
    ) -> dict[str, Any]:
        names = list(signature.parameters)
        for name in kwargs:
            if name not in signature.parameters:
                raise ParameterError(
                    f"{where} has no parameter `{name}`; its parameters are: "
                    f"{', '.join(names) or '(none)'}."
                )
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            missing = [
                name
                for name, param in signature.parameters.items()
                if param.default is param.empty
                and name not in kwargs
                and names.index(name) >= len(args)
            ]
            if missing:
                raise ParameterError(
                    f"{where} is missing a value for {', '.join(f'`{m}`' for m in missing)}; "
                    "pass a step output or a parameter value."
                ) from None
            raise ParameterError(
                f"{where}: {exc} (parameters: {', '.join(names)}). Call the step as you "
                "would call its function."
            ) from None
        return dict(bound.arguments)

    def _check_handle(self, handle: OutputHandle, where: str) -> ArtifactSource:
        if not handle.belongs_to(self):
            raise HandleError(
                f"{where} was given output `{handle.output}` of step `{handle.node_id}` "
                f"from pipeline `{handle.pipeline_name}`. Handles only connect steps of the "
                "pipeline that created them; call the producing step inside this pipeline."
            )
        return ArtifactSource(handle.node_id, handle.output)

    def _source(self, value: OutputHandle | ExternalArtifact, where: str) -> ArtifactSource:
        if isinstance(value, OutputHandle):
            return self._check_handle(value, where)
        key = f"external:{len(self.externals) + 1}"
        self.externals[key] = value
        return ArtifactSource(key, "output", external=True)

    def _binding(self, name: str, value: Any, where: str) -> InputBinding | None:
        artifacts = (OutputHandle, ExternalArtifact)
        if isinstance(value, artifacts):
            return InputBinding(name, (self._source(value, where),))
        if (
            isinstance(value, list | tuple)
            and value
            and all(isinstance(item, artifacts) for item in value)
        ):
            sources = tuple(self._source(item, where) for item in value)
            return InputBinding(name, sources, is_list=True)
        if contains_handle(value) is not None:
            raise HandleError(
                f"{where}: argument `{name}` mixes step outputs with other values or nests "
                "them. Pass a step output, a list of step outputs, or a plain parameter value."
            )
        return None

    def _after(self, after: Any, where: str) -> frozenset[str]:
        if after is None:
            return frozenset()
        items = after if isinstance(after, list | tuple | set | frozenset) else [after]
        ids: set[str] = set()
        for item in items:
            if isinstance(item, OutputHandle):
                ids.add(self._check_handle(item, where).node_id)
            elif isinstance(item, str):
                ids.add(item)
            elif item is None:
                raise DefinitionError(
                    f"{where}: after= got None, which is what calling a step without "
                    "outputs returns inside a pipeline; give its id instead, e.g. "
                    'after="cleanup" (or call it with id="..." and use that).'
                )
            else:
                raise DefinitionError(
                    f"{where}: after= takes step ids or step outputs, got {item!r}."
                )
        return frozenset(ids)
