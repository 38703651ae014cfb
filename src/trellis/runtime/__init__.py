"""Worker side of one step: everything :func:`run_step` needs travels in a :class:`StepTask`."""

from __future__ import annotations

from trellis.runtime._context import (
    InputInfo,
    SavedArtifact,
    StepContext,
    current_step_context,
    get_step_context,
)
from trellis.runtime._logs import StepLogBuffer, current_log_buffer
from trellis.runtime._outputs import matches, split_outputs
from trellis.runtime._run_step import error_of, hook_takes_exception, run_step
from trellis.runtime._task import InputArtifact, StepError, StepResult, StepTask

__all__ = [
    "InputArtifact",
    "InputInfo",
    "SavedArtifact",
    "StepContext",
    "StepError",
    "StepLogBuffer",
    "StepResult",
    "StepTask",
    "current_log_buffer",
    "current_step_context",
    "error_of",
    "get_step_context",
    "hook_takes_exception",
    "matches",
    "run_step",
    "split_outputs",
]
