"""``get_step_context()``: what a running step (and its hooks) may know and record."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from trellis.artifacts import StoredArtifact
from trellis.exceptions import TrellisError

_CURRENT: contextvars.ContextVar[StepContext | None] = contextvars.ContextVar(
    "trellis_step_context", default=None
)


@dataclass(frozen=True, slots=True)
class InputInfo:
    """An input artifact version as the step sees it."""

    id: str
    name: str
    version: int
    uri: str


@dataclass(frozen=True, slots=True)
class SavedArtifact:
    """An artifact a step saved with ``save_artifact`` (committed by the driver)."""

    name: str
    stored: StoredArtifact
    tags: tuple[str, ...] = ()


@dataclass
class StepContext:
    """Facts about the running step, and what it records besides its outputs.

    Attributes:
        pipeline_name: Name of the pipeline.
        run_id: Id of the pipeline run.
        run_name: Name of the pipeline run.
        step_name: Invocation id of the step (``train``, ``inc_2``).
        attempt: 1 for the first try, 2 for the first retry, ...
        inputs: Input artifact versions by argument name (a list for list inputs).
        outputs: Output names of the step.

    Example:
        >>> @step  # doctest: +SKIP
        ... def train(data: dict) -> float:
        ...     context = get_step_context()
        ...     print(context.run_name, context.attempt)
    """

    pipeline_name: str
    run_id: str
    run_name: str
    step_name: str
    attempt: int
    inputs: Mapping[str, InputInfo | Sequence[InputInfo]]
    outputs: tuple[str, ...]
    artifact_store_url: str
    metadata: dict[str, Any] = field(default_factory=dict)
    output_metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    output_tags: dict[str, list[str]] = field(default_factory=dict)
    saved: list[SavedArtifact] = field(default_factory=list)

    def get_output_artifact_uri(self, output_name: str | None = None) -> str:
        """A folder reserved for this output and attempt, for files the step writes itself.

        The output's value is still what the step returns; files written here are
        kept with the run (they are not content-addressed).
        """
        name = self._output(output_name)
        root = self.artifact_store_url.rstrip("/")
        return f"{root}/attempts/{self.run_id}/{self.step_name}/{name}/{self.attempt}/files"

    def add_output_metadata(
        self, metadata: Mapping[str, Any], output_name: str | None = None
    ) -> None:
        """Attach JSON values to an output's artifact version (the only output by default)."""
        self.output_metadata.setdefault(self._output(output_name), {}).update(metadata)

    def add_output_tags(self, tags: Sequence[str], output_name: str | None = None) -> None:
        """Tag an output's artifact version (the only output by default)."""
        self.output_tags.setdefault(self._output(output_name), []).extend(tags)

    def _output(self, output_name: str | None) -> str:
        if output_name is None:
            if len(self.outputs) != 1:
                raise TrellisError(
                    f"Step `{self.step_name}` has {len(self.outputs)} outputs "
                    f"({', '.join(self.outputs) or 'none'}); name one with output_name=."
                )
            return self.outputs[0]
        if output_name not in self.outputs:
            raise TrellisError(
                f"Step `{self.step_name}` has no output {output_name!r}; its outputs are: "
                f"{', '.join(self.outputs) or 'none'}."
            )
        return output_name


def get_step_context() -> StepContext:
    """The context of the step running in this thread (also inside its hooks).

    Raises:
        TrellisError: Called outside a running step.
    """
    context = _CURRENT.get()
    if context is None:
        raise TrellisError(
            "get_step_context() was called outside a running step; call it inside a "
            "@step function (or one of its hooks) while a pipeline runs."
        )
    return context


def current_step_context() -> StepContext | None:
    """The running step's context, or ``None`` outside steps."""
    return _CURRENT.get()


@contextmanager
def step_context(context: StepContext) -> Iterator[StepContext]:
    token = _CURRENT.set(context)
    try:
        yield context
    finally:
        _CURRENT.reset(token)
