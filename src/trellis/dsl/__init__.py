"""Authoring API: ``@step``, ``@pipeline`` and the objects they make (no I/O)."""

from __future__ import annotations

from trellis.dsl._external import ExternalArtifact
from trellis.dsl._handles import OutputHandle
from trellis.dsl._pipeline import Pipeline, pipeline
from trellis.dsl._step import Step, step

__all__ = ["ExternalArtifact", "OutputHandle", "Pipeline", "Step", "pipeline", "step"]
