"""The default launcher: a thread pool in the driver process, or inline."""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor

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
        """Local threads share this machine; any request is accepted as a hint."""

    def submit(self, task: StepTask) -> Future[StepResult]:
        if self._pool is None:
            future: Future[StepResult] = Future()
            future.set_result(run_step(task))
            return future
        return self._pool.submit(run_step, task)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
