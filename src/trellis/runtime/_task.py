"""What travels to a worker (a task) and what comes back (a result)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from trellis.artifacts import StoredArtifact
from trellis.graph import OutputSpec
from trellis.runtime._context import SavedArtifact


@dataclass(frozen=True, slots=True)
class InputArtifact:
    """Where a worker finds one input value, and which artifact version it is."""

    uri: str
    materializer: str
    data_type: str
    id: str = ""
    name: str = ""
    version: int = 0


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
    run_name: str = ""
    #: Whether no retry follows a failure of this attempt (failure hooks run then).
    final_attempt: bool = True
    on_failure: Callable[..., Any] | None = None
    on_success: Callable[..., Any] | None = None
    enable_step_logs: bool = True
    enable_artifact_metadata: bool = True
    enable_artifact_visualization: bool = True
    #: Echo captured lines to the terminal, prefixed with the step id.
    live_logs: bool = True


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
    """What a worker reports: saved outputs or the error, what the step recorded, timing.

    Attributes:
        metadata: ``log_metadata`` values of the step run.
        output_metadata: Extra metadata per output (``log_metadata(artifact_name=...)``).
        output_tags: Extra tags per output (``add_output_tags``).
        saved: Artifacts saved with ``save_artifact`` inside the step.
        log_uri: Where the captured logs were written.
        hook_errors: ``"on_success: ValueError: ..."`` for hooks that raised.
    """

    step_id: str
    started_at: datetime
    ended_at: datetime
    outputs: Mapping[str, StoredArtifact] = field(default_factory=dict)
    error: StepError | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    output_metadata: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    output_tags: Mapping[str, Sequence[str]] = field(default_factory=dict)
    saved: Sequence[SavedArtifact] = ()
    log_uri: str | None = None
    hook_errors: Sequence[str] = ()
