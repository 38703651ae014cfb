"""Worker side of one step: everything :func:`run_step` needs travels in a :class:`StepTask`."""

from __future__ import annotations

from trellis.runtime._outputs import matches, split_outputs
from trellis.runtime._run_step import run_step
from trellis.runtime._task import InputArtifact, StepError, StepResult, StepTask

__all__ = [
    "InputArtifact",
    "StepError",
    "StepResult",
    "StepTask",
    "matches",
    "run_step",
    "split_outputs",
]
