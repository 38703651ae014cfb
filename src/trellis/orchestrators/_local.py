"""The default launcher: a thread pool in the driver process, or inline."""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor

from trellis.exceptions import ConfigurationError
from trellis.orchestrators._launcher import Resources
from trellis.runtime import StepResult, StepTask, run_step


class LocalLauncher:
    """Runs steps in threads of this process.

    With ``max_parallelism=1`` a step runs inline in the calling thread, so a
    debugger breakpoint inside a step stops there.

    Example:
        >>> launcher = LocalLauncher(max_parallelism=1)
        >>> launcher.parallelism
        1
    """

    in_process = True

    def __init__(self, max_parallelism: int | None = None) -> None:
        self.parallelism = max_parallelism or os.cpu_count() or 1
        self.capacity: int | None = self.parallelism
        self._pool: ThreadPoolExecutor | None = None

    def start(self) -> None:
        if self.parallelism > 1 and self._pool is None:
            self._pool = ThreadPoolExecutor(self.parallelism, thread_name_prefix="trellis-step")

    def check_feasible(self, resources: Resources) -> None:
        """Refuse a step that asks for more than this machine has.

        Threads share the machine, so requests are limits to check, not reservations.
        """
        where = f"Step `{resources.step}`" if resources.step else "A step"
        cpus = os.cpu_count() or 1
        if resources.cpu_count is not None and resources.cpu_count > cpus:
            raise ConfigurationError(
                f"{where} asks for {resources.cpu_count:g} CPUs but this machine has {cpus}; "
                "lower ResourceSettings(cpu_count=...) or run it on a larger machine."
            )
        gpus = _gpu_count()
        if resources.gpu_count and resources.gpu_count > gpus:
            raise ConfigurationError(
                f"{where} asks for {resources.gpu_count} GPU(s) but the local orchestrator "
                f"sees {gpus} (CUDA_VISIBLE_DEVICES / nvidia-smi); remove gpu_count or run "
                "on a machine with GPUs."
            )
        if resources.memory is not None:
            wanted, total = _memory_bytes(resources.memory), _total_memory()
            if total is not None and wanted > total:
                raise ConfigurationError(
                    f"{where} asks for {resources.memory} of memory but this machine has "
                    f"{total / 2**30:.1f} GiB; lower ResourceSettings(memory=...)."
                )

    def submit(self, task: StepTask, *, alone: bool = False) -> Future[StepResult]:
        # Nothing else can run until this task ends (a chain): skip the thread handoff.
        if self._pool is None or alone:
            future: Future[StepResult] = Future()
            future.set_result(run_step(task))
            return future
        return self._pool.submit(run_step, task)

    def close(self, wait: bool = True) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=True)
            self._pool = None


def _gpu_count() -> int:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([d for d in visible.split(",") if d.strip() and d.strip() != "-1"])
    if not os.path.isdir("/dev"):
        return 0
    return len([p for p in os.listdir("/dev") if p.startswith("nvidia") and p[6:].isdigit()])


def _memory_bytes(size: str) -> int:
    from trellis.config import ResourceSettings

    value = ResourceSettings(memory=size).memory_bytes
    return value or 0


def _total_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
