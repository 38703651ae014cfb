"""Drive runs: compile-time plans in, recorded runs out."""

from __future__ import annotations

from trellis.engine._run import run_plan
from trellis.engine._user_api import log_metadata, save_artifact

__all__ = ["log_metadata", "run_plan", "save_artifact"]
