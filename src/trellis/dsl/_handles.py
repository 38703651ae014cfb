"""Output handles: what a step call returns while a pipeline is being compiled."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from trellis.exceptions import HandleError

if TYPE_CHECKING:
    from trellis.dsl._tracing import Tracer


class OutputHandle:
    """A placeholder for one output of a step invocation.

    Pass it to another step to make an edge. Its value does not exist while the
    pipeline is compiled, so it cannot be inspected, compared or iterated.
    """

    __slots__ = ("_tracer", "node_id", "output", "step_name")

    def __init__(self, tracer: Tracer, node_id: str, output: str, step_name: str) -> None:
        self._tracer = tracer
        self.node_id = node_id
        self.output = output
        self.step_name = step_name

    @property
    def pipeline_name(self) -> str:
        return self._tracer.pipeline_name

    def belongs_to(self, tracer: Tracer) -> bool:
        return self._tracer is tracer

    def __repr__(self) -> str:
        return f"<OutputHandle {self.node_id}.{self.output} of pipeline {self.pipeline_name!r}>"

    def _no_value(self, action: str) -> NoReturn:
        raise HandleError(
            f"Cannot {action} output `{self.output}` of step `{self.node_id}` inside pipeline "
            f"`{self.pipeline_name}`: in a static pipeline a step call returns a handle, "
            "not the value. Pass the handle to another step, or use "
            "@pipeline(dynamic=True) to branch on values."
        )

    def __bool__(self) -> bool:
        self._no_value("take the truth value of")

    def __iter__(self) -> Any:
        self._no_value("iterate over")

    def __len__(self) -> int:
        self._no_value("take the length of")

    def __getitem__(self, key: object) -> Any:
        self._no_value("index")

    def load(self) -> Any:
        """Only dynamic pipelines can load a value while the pipeline runs."""
        self._no_value("load")

    def __eq__(self, other: object) -> bool:
        self._no_value("compare")

    __hash__ = object.__hash__


def contains_handle(value: Any) -> OutputHandle | None:
    """The first handle in ``value`` (a handle, or a list/tuple/dict holding one)."""
    if isinstance(value, OutputHandle):
        return value
    if isinstance(value, list | tuple):
        for item in value:
            if (found := contains_handle(item)) is not None:
                return found
    elif isinstance(value, dict):
        for item in value.values():
            if (found := contains_handle(item)) is not None:
                return found
    return None
