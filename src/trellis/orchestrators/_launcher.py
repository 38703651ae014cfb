"""The launcher interface of ARCHITECTURE.md section 4."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

from trellis.exceptions import ConfigurationError
from trellis.runtime import StepResult, StepTask


@dataclass(frozen=True, slots=True)
class Resources:
    """What one step asks of the machine it runs on (``None``: no request).

    Attributes:
        cpu_count: CPUs.
        gpu_count: GPUs.
        memory: A size such as ``"4GB"`` (see ``ResourceSettings``).
        step: The step asking (for messages).
    """

    cpu_count: float | None = None
    gpu_count: int | None = None
    memory: str | None = None
    step: str = ""


class Launcher(Protocol):
    """Runs step tasks somewhere and hands back futures of their results."""

    #: Whether tasks run in this process (values may be handed over in memory).
    in_process: bool
    #: How many tasks may run at once; the engine submits no more. ``None``: no limit.
    capacity: int | None

    def start(self) -> None:
        """Acquire workers (threads, processes, a cluster client)."""

    def check_feasible(self, resources: Resources) -> None:
        """Raise :class:`~trellis.exceptions.ConfigurationError` for impossible requests."""

    def submit(self, task: StepTask, *, alone: bool = False) -> Future[StepResult]:
        """Start ``task``; the future resolves to its result (never to an exception).

        ``alone`` tells that no other task is running or waiting: an in-process
        launcher may then run the task in the calling thread.
        """
        ...

    def close(self, wait: bool = True) -> None:
        """Release workers; with ``wait``, first let tasks still running end."""


def create_launcher(name: str, *, max_parallelism: int | None) -> Launcher:
    """Build the launcher called ``name``."""
    from trellis.orchestrators._local import LocalLauncher

    if name == "local":
        return LocalLauncher(max_parallelism=max_parallelism)
    raise ConfigurationError(
        f"Unknown orchestrator {name!r}; available: local. "
        "Set TRELLIS_ORCHESTRATOR or `orchestrator` in .trellis/config.toml."
    )
