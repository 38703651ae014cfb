"""The ``trellis`` command-line interface."""

from __future__ import annotations

from trellis.cli._app import cli, main, run

__all__ = ["cli", "main", "run"]
