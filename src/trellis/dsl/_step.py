"""``@step``: a plain function that becomes a node when called inside a pipeline."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, Unpack, overload

from trellis.dsl._handles import contains_handle
from trellis.dsl._options import MaterializerChoice, StepOptionArgs, StepOptions
from trellis.dsl._signature import StepSignature, read_signature
from trellis.dsl._tracing import current_tracer
from trellis.exceptions import DefinitionError, HandleError

if TYPE_CHECKING:
    from trellis.config import CachePolicy

P = ParamSpec("P")
R = TypeVar("R")


class Step(Generic[P, R]):
    """A step: calling it runs the function, or adds a node inside a pipeline.

    Example:
        >>> @step
        ... def add(a: int, b: int = 1) -> int:
        ...     return a + b
        >>> add(1)
        2
    """

    def __init__(
        self, func: Callable[P, R], *, name: str | None = None, **options: Unpack[StepOptionArgs]
    ) -> None:
        if not callable(func):
            raise DefinitionError(f"@step needs a function, got {func!r}.")
        self.entrypoint: Callable[P, R] = func
        self.name = name or func.__name__
        self.options = StepOptions().updated(f"Step `{self.name}`", options)
        self._spec: StepSignature | None = None
        functools.update_wrapper(self, func)

    def __repr__(self) -> str:
        return f"<Step {self.name!r}>"

    @property
    def enable_cache(self) -> bool | None:
        return self.options.enable_cache

    @property
    def cache_policy(self) -> CachePolicy | None:
        return self.options.cache_policy  # type: ignore[no-any-return]

    @property
    def output_materializers(self) -> MaterializerChoice:
        return self.options.output_materializers  # type: ignore[no-any-return]

    def spec(self) -> StepSignature:
        """Inputs and outputs parsed from the function (once, on first use)."""
        if self._spec is None:
            spec = read_signature(self.entrypoint, f"Step `{self.name}`")
            self._check_materializers(spec)
            self._spec = spec
        return self._spec

    def _check_materializers(self, spec: StepSignature) -> None:
        choice = self.output_materializers
        if isinstance(choice, Mapping):
            names = {o.name for o in spec.outputs}
            unknown = sorted(set(choice) - names)
            if unknown:
                raise DefinitionError(
                    f"Step `{self.name}`: output_materializers names unknown output(s) "
                    f"{unknown}; the step's outputs are {sorted(names) or 'none'}."
                )
            for materializer in choice.values():
                _check_materializer_class(self.name, materializer)
        elif choice is not None:
            _check_materializer_class(self.name, choice)

    def materializer_for(self, output: str) -> type | None:
        choice = self.output_materializers
        if isinstance(choice, Mapping):
            return choice.get(output)
        return choice

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call the function; inside a pipeline, add a node and return its output handles.

        Inside a pipeline two extra keywords are understood (unless the function
        declares parameters of these names): ``id="..."`` names the invocation and
        ``after=[...]`` (step ids or outputs) orders it without passing data.
        """
        tracer = current_tracer()
        names = self.spec().signature.parameters
        # `id` and `after` are trellis options unless the function declares them itself.
        node_id: Any = kwargs.pop("id", None) if "id" not in names else None
        after: Any = kwargs.pop("after", None) if "after" not in names else None
        if tracer is not None:
            handles = tracer.add_step_call(self, args, kwargs, id=node_id, after=after)
            return handles  # type: ignore[return-value]  # a handle stands in for R
        for value in (*args, *kwargs.values(), after):
            handle = contains_handle(value)
            if handle is not None:
                raise HandleError(
                    f"Step `{self.name}` was called outside a pipeline with output "
                    f"`{handle.output}` of step `{handle.node_id}` (pipeline "
                    f"`{handle.pipeline_name}`). Handles only exist while a pipeline is "
                    "compiled: call this step inside a @pipeline function, or pass plain values."
                )
        if node_id is not None:
            raise DefinitionError(
                f"Step `{self.name}` was called with id={node_id!r} outside a pipeline; "
                "id= only names a step call inside a @pipeline function."
            )
        return self.entrypoint(*args, **kwargs)

    def _copy(self) -> Step[P, R]:
        clone = copy.copy(self)
        clone._spec = None
        return clone

    def configure(
        self, *, name: str | None = None, **options: Unpack[StepOptionArgs]
    ) -> Step[P, R]:
        """Change this step's configuration in place; options left as ``None`` are kept."""
        if name is not None:
            self.name = name
        self.options = self.options.updated(f"Step `{self.name}`", options)
        self._spec = None
        return self

    def with_options(
        self, *, name: str | None = None, **options: Unpack[StepOptionArgs]
    ) -> Step[P, R]:
        """A configured copy; ``name=`` also sets the id of the copy's calls.

        Example:
            >>> train_svm = add.with_options(name="add_svm")
            >>> train_svm.name
            'add_svm'
        """
        return self._copy().configure(name=name, **options)


def _check_materializer_class(step_name: str, materializer: object) -> None:
    if not isinstance(materializer, type) or not all(
        hasattr(materializer, attr) for attr in ("save", "load")
    ):
        raise DefinitionError(
            f"Step `{step_name}`: output_materializers must be materializer classes "
            f"(subclasses of trellis.BaseMaterializer), got {materializer!r}."
        )


@overload
def step(func: Callable[P, R], /) -> Step[P, R]: ...


@overload
def step(
    *, name: str | None = None, **options: Unpack[StepOptionArgs]
) -> Callable[[Callable[P, R]], Step[P, R]]: ...


def step(
    func: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    **options: Unpack[StepOptionArgs],
) -> Step[P, R] | Callable[[Callable[P, R]], Step[P, R]]:
    """Mark a function as a pipeline step; usable as ``@step`` and ``@step(...)``.

    Args:
        func: The function (when used without parentheses).
        name: Step name (default: the function's name); also the default call id.
        **options: Each defaults to the pipeline's setting, else to the default:
            ``enable_cache`` (on), ``cache_policy`` (a :class:`~trellis.CachePolicy`),
            ``output_materializers`` (a materializer class, or output name → class),
            ``retry`` (a :class:`~trellis.RetryConfig`), ``on_failure`` (a hook taking
            no argument or the exception), ``on_success``, ``enable_step_logs`` (on),
            ``enable_artifact_metadata`` (on), ``enable_artifact_visualization`` (on),
            ``settings`` (``{"resources": ResourceSettings(...), "docker": ...}``).

    Example:
        >>> @step(enable_cache=False)
        ... def now() -> float:
        ...     return 0.0
    """

    def decorate(function: Callable[P, R]) -> Step[P, R]:
        return Step(function, name=name, **options)

    return decorate if func is None else decorate(func)
