"""Per-step capture of stdout, stderr and logging, correct when steps run in threads.

Steps of a local run share one process, so ``sys.stdout`` and the root logger are
shared too. The first active capture therefore puts three things in place, and
the last one to exit takes them away again (reference counted):

- a proxy in place of ``sys.stdout`` and one in place of ``sys.stderr``. A write
  looks up the calling thread's id; a capturing thread's text goes to its step's
  buffer, any other thread's text to the stream the proxy replaced. On exit of
  the last capture ``sys.stdout`` / ``sys.stderr`` are that stream again, the
  very same object. Each activation checks that the proxy is still installed; if
  something replaced it since (``contextlib.redirect_stdout``, pytest's
  ``capsys``), a new proxy goes on top of that replacement.
- one handler on the root logger, which records log lines of capturing threads,
  formatted as ``"%(asctime)s %(levelname)s %(name)s: %(message)s"``.
- a wrapper around ``Logger.isEnabledFor`` and ``Logger.callHandlers``, so that
  INFO records from a capturing thread are captured even when the root logger's
  level (WARNING by default) would drop them. No logger's level changes: a record
  let through only for the capture goes to the capture's handler alone, never to
  the user's handlers. A level set explicitly on a logger other than the root
  is respected (``logging.getLogger("noisy").setLevel(logging.ERROR)`` keeps its
  warnings out of the step logs).

What is captured, and what is not:

- Python-level writes and log records of the thread that entered the capture.
  Threads a step starts are *not* captured automatically (Python gives a thread
  no link to the thread that started it): their output reaches the terminal as
  usual. A step that wants them in its logs runs them inside
  ``current_log_buffer().attach()``.
- Records of loggers that do not propagate to the root logger are not captured,
  nor is output written to file descriptors directly (subprocesses, C code).
- While a capture is active the root logger has a handler, so ``logging.info()``
  and friends do not call ``basicConfig()``; a record from another thread that
  finds no handler but ours still goes to ``logging.lastResort`` as before.

``live=True`` echoes each complete line to the stream the proxy replaced, prefixed
with ``[step_name] ``: stdout lines to stdout, stderr and log lines to stderr.
Partial lines wait for their newline or for the capture's exit. The buffer keeps
the text exactly as written, stdout and stderr interleaved in write order.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Literal, TextIO, cast

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Records at this level or above from a capturing thread are captured even when
#: the root logger's level is higher.
CAPTURE_LEVEL = logging.INFO

_Stream = Literal["stdout", "stderr"]
_STREAMS: tuple[_Stream, _Stream] = ("stdout", "stderr")

_get_ident = threading.get_ident
# Thread id -> the innermost active route of that thread. Read without a lock on
# every write (one dict lookup); changed only under ``_lock``.
_routes: dict[int, _Route] = {}
_stacks: dict[int, list[_Route]] = {}
_lock = threading.Lock()
_echo_lock = threading.Lock()


class StepLogBuffer:
    """Everything one step printed and logged, in the order it happened.

    Example:
        >>> with capture_step_logs("train", live=False) as logs:
        ...     print("epoch 1")
        >>> logs.text()
        'epoch 1\\n'
    """

    def __init__(self, step_name: str, *, live: bool = True) -> None:
        self.step_name = step_name
        self.live = live
        self._chunks: list[str] = []
        self._lock = threading.Lock()

    def text(self) -> str:
        """Everything captured so far, stdout, stderr and log lines in write order."""
        with self._lock:
            joined = "".join(self._chunks)
            self._chunks = [joined] if joined else []
            return joined

    @contextmanager
    def attach(self) -> Iterator[StepLogBuffer]:
        """Capture the calling thread into this buffer until exit (innermost wins).

        Threads a step starts are not captured on their own; this puts them in.

        Example:
            >>> def helper(logs: StepLogBuffer) -> None:  # target of a thread the step starts
            ...     with logs.attach():
            ...         print("goes to the step's logs")
        """
        route = _enter(self)
        try:
            yield self
        finally:
            _leave(route)

    def _append(self, text: str) -> None:
        with self._lock:
            self._chunks.append(text)


@contextmanager
def capture_step_logs(step_name: str, *, live: bool = True) -> Iterator[StepLogBuffer]:
    """Capture what the calling thread prints and logs into a new :class:`StepLogBuffer`.

    Example:
        >>> with capture_step_logs("load", live=False) as logs:
        ...     logging.getLogger("steps").info("rows: 3")
        >>> logs.text().endswith(" INFO steps: rows: 3\\n")
        True
    """
    with StepLogBuffer(step_name, live=live).attach() as buffer:
        yield buffer


def current_log_buffer() -> StepLogBuffer | None:
    """The buffer the calling thread is captured into, if any."""
    route = _routes.get(_get_ident())
    return None if route is None else route.buffer


class _Route:
    """One thread's capture into one buffer, with that thread's partial lines."""

    def __init__(self, buffer: StepLogBuffer, targets: dict[_Stream, TextIO | None]) -> None:
        self.buffer = buffer
        self.ident = _get_ident()
        self.echoing = False  # while set, this thread's writes pass through the proxies
        self._targets = targets
        self._partial: dict[_Stream, str] = {"stdout": "", "stderr": ""}
        self._prefix = f"[{buffer.step_name}] "

    def write(self, stream: _Stream, text: str) -> None:
        self.buffer._append(text)
        if not self.buffer.live or not text:
            return
        lines = (self._partial[stream] + text).split("\n")
        self._partial[stream] = lines.pop()
        if lines:
            self._echo(stream, lines)

    def record(self, formatted: str) -> None:
        self.buffer._append(formatted + "\n")
        if self.buffer.live:
            self._echo("stderr", formatted.split("\n"))

    def flush_partial_lines(self) -> None:
        for stream in _STREAMS:
            if self._partial[stream]:
                self._echo(stream, [self._partial[stream]])
                self._partial[stream] = ""

    def _echo(self, stream: _Stream, lines: list[str]) -> None:
        target = self._targets[stream]
        if target is None:
            return
        text = "".join(f"{self._prefix}{line}\n" for line in lines)
        self.echoing = True
        try:
            with _echo_lock:
                target.write(text)
                target.flush()
        except Exception:  # a closed or broken terminal must not fail the step
            pass
        finally:
            self.echoing = False


class _StreamProxy:
    """Stands in for ``sys.stdout`` or ``sys.stderr``: routes by thread, else forwards."""

    def __init__(self, stream: _Stream, fallback: TextIO | None) -> None:
        self.stream = stream
        self.fallback = fallback

    def write(self, text: str) -> int:
        route = _routes.get(_get_ident())
        if route is None or route.echoing:
            return len(text) if self.fallback is None else self.fallback.write(text)
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        route.write(self.stream, text)
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        route = _routes.get(_get_ident())
        if (route is None or route.echoing) and self.fallback is not None:
            self.fallback.flush()

    def __getattr__(self, name: str) -> Any:
        # encoding, isatty, fileno, buffer, ...: whatever the replaced stream says.
        return getattr(self.fallback, name)


class _CaptureHandler(logging.Handler):
    """The root handler: formats records of capturing threads into their buffers."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter(LOG_FORMAT))

    def handle(self, record: logging.LogRecord) -> bool:
        # Without the handler lock: a route belongs to one thread and a buffer locks
        # itself, and echoing while holding it could only add contention.
        if not self.filter(record):
            return False
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        route = _routes.get(_get_ident())
        if route is None or route.echoing:
            return
        try:
            route.record(self.format(record))
        except Exception:
            self.handleError(record)


def _handlers_reached(logger: logging.Logger) -> list[logging.Handler]:
    """The handlers ``callHandlers`` offers a record of ``logger`` to, levels aside."""
    reached: list[logging.Handler] = []
    node: logging.Logger | None = logger
    while node is not None:
        reached.extend(node.handlers)
        node = node.parent if node.propagate else None
    return reached


def _capture_threshold(logger: logging.Logger) -> int:
    """The logger's effective level, with the root logger's level read as CAPTURE_LEVEL."""
    node: logging.Logger | None = logger
    while node is not None and not isinstance(node, logging.RootLogger):
        if node.level:
            return node.level
        node = node.parent
    return CAPTURE_LEVEL


class _Installation:
    """What the first active capture puts in place and the last one takes away."""

    def __init__(self) -> None:
        self.proxies: dict[_Stream, list[_StreamProxy]] = {"stdout": [], "stderr": []}
        self.handler = _CaptureHandler()
        self.active = 0
        # Replaced on the class, so loggers made before and after the install agree.
        self.originals: dict[str, object] = {
            "isEnabledFor": logging.Logger.isEnabledFor,
            "callHandlers": logging.Logger.callHandlers,
        }
        self.patches: dict[str, object] = {
            "isEnabledFor": _capturing_is_enabled_for(logging.Logger.isEnabledFor),
            "callHandlers": _capturing_call_handlers(logging.Logger.callHandlers, self.handler),
        }
        logging.root.addHandler(self.handler)
        for name, patch in self.patches.items():
            setattr(logging.Logger, name, patch)

    def proxy_targets(self) -> dict[_Stream, TextIO | None]:
        """Put a proxy in front of each stream unless one of ours is there; say what it hides."""
        targets: dict[_Stream, TextIO | None] = {}
        for stream in _STREAMS:
            current: object = getattr(sys, stream)
            proxy = next((p for p in self.proxies[stream] if p is current), None)
            if proxy is None:
                proxy = _StreamProxy(stream, cast("TextIO | None", current))
                self.proxies[stream].append(proxy)
                setattr(sys, stream, cast(TextIO, proxy))
            targets[stream] = proxy.fallback
        return targets

    def uninstall(self) -> None:
        for stream in _STREAMS:
            proxies = self.proxies[stream]
            while proxies:
                proxy = proxies.pop()
                # Something installed after us and still in place is not ours to remove.
                if getattr(sys, stream) is proxy:
                    setattr(sys, stream, proxy.fallback)
        logging.root.removeHandler(self.handler)
        for name, patch in self.patches.items():
            if getattr(logging.Logger, name) is patch:  # else someone wrapped it since
                setattr(logging.Logger, name, self.originals[name])


def _capturing_is_enabled_for(
    original: Callable[[logging.Logger, int], bool],
) -> Callable[[logging.Logger, int], bool]:
    def is_enabled_for(logger: logging.Logger, level: int) -> bool:
        if original(logger, level):
            return True
        if level < CAPTURE_LEVEL or _get_ident() not in _routes or logger.disabled:
            return False
        return logger.manager.disable < level and level >= _capture_threshold(logger)

    return is_enabled_for


def _capturing_call_handlers(
    original: Callable[[logging.Logger, logging.LogRecord], None], handler: logging.Handler
) -> Callable[[logging.Logger, logging.LogRecord], None]:
    def call_handlers(logger: logging.Logger, record: logging.LogRecord) -> None:
        routed = _get_ident() in _routes
        if routed and record.levelno < logger.getEffectiveLevel():
            # Let through by is_enabled_for for the capture only.
            if handler in _handlers_reached(logger):
                handler.handle(record)
            return
        original(logger, record)
        if not routed and _handlers_reached(logger) == [handler]:
            # Without our handler this record would have gone to lastResort.
            last = logging.lastResort
            if last is not None and record.levelno >= last.level:
                last.handle(record)

    return call_handlers


_installation: _Installation | None = None


def _enter(buffer: StepLogBuffer) -> _Route:
    global _installation
    with _lock:
        if _installation is None:
            _installation = _Installation()
        _installation.active += 1
        route = _Route(buffer, _installation.proxy_targets())
        _stacks.setdefault(route.ident, []).append(route)
        _routes[route.ident] = route
        return route


def _leave(route: _Route) -> None:
    global _installation
    try:
        route.flush_partial_lines()
    finally:
        with _lock:
            stack = _stacks.get(route.ident, [])
            stack[:] = [r for r in stack if r is not route]  # exits need not nest
            if stack:
                _routes[route.ident] = stack[-1]
            else:
                _stacks.pop(route.ident, None)
                _routes.pop(route.ident, None)
            if _installation is not None:
                _installation.active -= 1
                if _installation.active == 0:
                    _installation.uninstall()
                    _installation = None
