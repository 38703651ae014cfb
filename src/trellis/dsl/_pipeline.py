"""``@pipeline``: compile a function of step calls into a plan, then run it."""

from __future__ import annotations

import copy
import dataclasses
import functools
import gc
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, Unpack, overload

from trellis.config import ExecutionMode
from trellis.dsl._handles import OutputHandle
from trellis.dsl._options import PipelineOptionArgs, PipelineOptions
from trellis.dsl._parameters import parameter_json
from trellis.dsl._signature import parse_outputs, type_hints
from trellis.dsl._tracing import Tracer, current_tracer
from trellis.exceptions import DefinitionError, ParameterError
from trellis.graph import ArtifactSource, Plan

if TYPE_CHECKING:
    from trellis.client import PipelineRunView

P = ParamSpec("P")
R = TypeVar("R")


class Pipeline(Generic[P, R]):
    """A pipeline: calling it compiles the function into a :class:`Plan` and runs it.

    Example:
        >>> @pipeline(name="hello")
        ... def hello_pipeline(name: str = "World") -> None:
        ...     ...
        >>> hello_pipeline.name
        'hello'
    """

    def __init__(
        self,
        func: Callable[P, R],
        *,
        name: str | None = None,
        **options: Unpack[PipelineOptionArgs],
    ) -> None:
        if not callable(func):
            raise DefinitionError(f"@pipeline needs a function, got {func!r}.")
        self.entrypoint = func
        self.name = name or func.__name__
        # a decorator's enable_cache=False is a default for steps, not a refresh
        self.options = PipelineOptions().updated(f"Pipeline `{self.name}`", options)
        self.options = dataclasses.replace(self.options, refresh_cache=False)
        functools.update_wrapper(self, func)

    @property
    def enable_cache(self) -> bool | None:
        return self.options.enable_cache

    @property
    def run_name(self) -> str | None:
        return self.options.run_name

    @property
    def max_parallelism(self) -> int | None:
        return self.options.max_parallelism

    @property
    def settings(self) -> dict[str, Any]:
        """Settings of the pipeline (``resources``, ``docker``), defaults for its steps."""
        return dict(self.options.settings or {})

    def __repr__(self) -> str:
        return f"<Pipeline {self.name!r}>"

    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        signature = inspect.signature(self.entrypoint)
        where = f"pipeline `{self.name}`"
        for name in kwargs:
            if name not in signature.parameters:
                raise ParameterError(
                    f"Unknown parameter `{name}` for {where}; its parameters are: "
                    f"{', '.join(signature.parameters) or '(none)'}."
                )
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            missing = [
                n
                for n, p in signature.parameters.items()
                if p.default is p.empty and n not in kwargs
            ][len(args) :]
            if missing:
                raise ParameterError(
                    f"Missing parameter `{missing[0]}` for {where}; call it as "
                    f"{self.name}({missing[0]}=...)."
                ) from None
            raise ParameterError(f"Cannot call {where}: {exc}.") from None
        bound.apply_defaults()
        return dict(bound.arguments)

    def compile(self, *args: P.args, **kwargs: P.kwargs) -> Plan:
        """Trace the pipeline function into a validated plan, without running anything.

        Example:
            >>> plan = my_pipeline.compile(lr=0.1)  # doctest: +SKIP
            >>> [node.id for node in plan]          # doctest: +SKIP
            ['load', 'train']
        """
        if current_tracer() is not None:
            raise DefinitionError(
                f"Pipeline `{self.name}` was called inside another pipeline; "
                "call its steps directly instead."
            )
        arguments = self._bind(args, kwargs)
        where = f"pipeline `{self.name}`"
        parameters = {
            name: parameter_json(value, name=name, where=where) for name, value in arguments.items()
        }
        tracer = Tracer(self.name, self.options)
        token = tracer.activate()
        # Tracing allocates a few objects per step and frees none: the cyclic GC's
        # full collections would make compiling large pipelines superlinear.
        collecting = gc.isenabled()
        gc.disable()
        try:
            returned = self.entrypoint(**arguments)  # type: ignore[call-arg]
        finally:
            Tracer.deactivate(token)
            if collecting:
                gc.enable()
        outputs = self._outputs(returned, tracer)
        options = self.options
        return tracer.builder.build(
            parameters=parameters,
            outputs=outputs,
            hooks={"on_cleanup": options.on_cleanup} if options.on_cleanup else {},
            execution_mode=(options.execution_mode or ExecutionMode.CONTINUE_ON_FAILURE).value,
            tags=options.tags or (),
            settings=options.settings or {},
            externals=tracer.externals,
        )

    def _outputs(self, returned: object, tracer: Tracer) -> dict[str, ArtifactSource]:
        if returned is None:
            return {}
        handles = returned if isinstance(returned, tuple) else (returned,)
        if not all(isinstance(h, OutputHandle) and h.belongs_to(tracer) for h in handles):
            raise DefinitionError(
                f"Pipeline `{self.name}` returned {returned!r}; a pipeline may only return "
                "outputs of its own steps (one, or a tuple of them), or None."
            )
        hints = type_hints(self.entrypoint)
        declared = parse_outputs(
            hints.get("return", inspect.Signature.empty), f"Pipeline `{self.name}`"
        )
        named = [d.name for d in declared if d.named] if len(declared) == len(handles) else []
        outputs: dict[str, ArtifactSource] = {}
        for index, handle in enumerate(handles):
            assert isinstance(handle, OutputHandle)
            if named and declared[index].named:
                name = declared[index].name
            elif handle.output == "output":
                name = handle.node_id
            else:
                name = handle.output
            if name in outputs:
                name = f"{handle.node_id}.{handle.output}"
            outputs[name] = ArtifactSource(handle.node_id, handle.output)
        return outputs

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> PipelineRunView:
        """Compile, run and return the finished run (raises if a step failed)."""
        from trellis.engine import run_plan

        plan = self.compile(*args, **kwargs)
        return run_plan(plan, run_name=self.run_name, max_parallelism=self.max_parallelism)

    def configure(
        self, *, name: str | None = None, **options: Unpack[PipelineOptionArgs]
    ) -> Pipeline[P, R]:
        """Change this pipeline's configuration in place; ``None`` keeps a setting.

        ``enable_cache=False`` here refreshes: no step reuses a cached result, even
        one that sets ``enable_cache=True`` itself. ``enable_cache=True`` is the
        default for steps that do not decide.
        """
        if name is not None:
            self.name = name
        self.options = self.options.updated(f"Pipeline `{self.name}`", options)
        return self

    def with_options(
        self, *, name: str | None = None, **options: Unpack[PipelineOptionArgs]
    ) -> Pipeline[P, R]:
        """A configured copy of this pipeline (see :meth:`configure`).

        Example:
            >>> fresh = training.with_options(enable_cache=False)  # doctest: +SKIP
        """
        return copy.copy(self).configure(name=name, **options)


@overload
def pipeline(func: Callable[P, R], /) -> Pipeline[P, R]: ...


@overload
def pipeline(
    *, name: str | None = None, **options: Unpack[PipelineOptionArgs]
) -> Callable[[Callable[P, R]], Pipeline[P, R]]: ...


def pipeline(
    func: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    **options: Unpack[PipelineOptionArgs],
) -> Pipeline[P, R] | Callable[[Callable[P, R]], Pipeline[P, R]]:
    """Mark a function as a pipeline; usable as ``@pipeline`` and ``@pipeline(...)``.

    Args:
        func: The function (when used without parentheses).
        name: Pipeline name (default: the function's name).
        **options: Defaults for the steps (every option of :func:`step` but
            ``output_materializers``; ``on_failure`` / ``on_success`` hooks run for
            each step that sets none itself, as in ZenML), and for the run:
            ``on_cleanup()`` called once at the end whatever happened,
            ``execution_mode`` (``continue_on_failure``, ``stop_on_failure``,
            ``fail_fast``), ``tags`` of each run, ``run_name`` and ``max_parallelism``.

    Example:
        >>> @pipeline(enable_cache=False, tags=["nightly"])
        ... def training(lr: float = 0.1) -> None:
        ...     ...
    """

    def decorate(function: Callable[P, R]) -> Pipeline[P, R]:
        return Pipeline(function, name=name, **options)

    return decorate if func is None else decorate(func)
