"""Where a step task runs. Launchers only see ``run_step(task) -> result``."""

from __future__ import annotations

from trellis.orchestrators._launcher import Launcher, Resources, create_launcher
from trellis.orchestrators._local import LocalLauncher

__all__ = ["Launcher", "LocalLauncher", "Resources", "create_launcher"]
