"""Immutable plan values: the DAG of one pipeline run (pure: no I/O)."""

from __future__ import annotations

from trellis.graph._builder import PlanBuilder
from trellis.graph._plan import ArtifactSource, InputBinding, Node, OutputSpec, Plan

__all__ = ["ArtifactSource", "InputBinding", "Node", "OutputSpec", "Plan", "PlanBuilder"]
