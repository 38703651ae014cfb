"""Drive runs: compile-time plans in, recorded runs out."""

from __future__ import annotations

from trellis.engine._run import run_plan

__all__ = ["run_plan"]
