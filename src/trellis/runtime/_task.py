"""What travels to a worker (a task) and what comes back (a result)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from trellis.artifacts import StoredArtifact
from trellis.graph import OutputSpec


@dataclass(frozen=True, slots=True)
class InputArtifact:
    """Where a worker finds one input value."""

    uri: str
    materializer: str
    data_type: str


@dataclass(frozen=True, slots=True)
class StepTask:
    """Everything a worker needs to run one step; it never talks to the database.

    Attributes:
        run_id: Id of the pipeline run.
        pipeline_name: Name of the pipeline (for messages).
        step_id: Invocation id of the step in the plan.
        func: The step function.
        parameters: Non-artifact argument values.
        inputs: Artifact arguments: one, or a tuple for a list input.
        outputs: Declared outputs.
        artifact_store_url: Where inputs are read and outputs written.
        attempt: 1 for the first try.
    """

    run_id: str
    pipeline_name: str
    step_id: str
    func: Callable[..., Any]
    parameters: Mapping[str, Any]
    inputs: Mapping[str, InputArtifact | tuple[InputArtifact, ...]]
    outputs: tuple[OutputSpec, ...]
    artifact_store_url: str
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class StepError:
    """A step's failure, in a form that can cross process boundaries."""

    type: str
    message: str
    traceback: str
    #: The exception itself when it stayed in this process (for ``raise ... from``).
    exception: BaseException | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.type}: {self.message}" if self.message else self.type


@dataclass(frozen=True, slots=True)
class StepResult:
    """What a worker reports: saved outputs, or the error; and when it ran."""

    step_id: str
    started_at: datetime
    ended_at: datetime
    outputs: Mapping[str, StoredArtifact] = field(default_factory=dict)
    error: StepError | None = None
