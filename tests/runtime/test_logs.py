"""Per-step log capture: concurrent threads, live echo, logging levels, clean uninstall."""

from __future__ import annotations

import ast
import contextlib
import io
import logging
import re
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from trellis.runtime import _logs
from trellis.runtime._logs import StepLogBuffer, capture_step_logs, current_log_buffer

TIMESTAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"


def log_line(level: str, name: str, message: str) -> re.Pattern[str]:
    return re.compile(rf"{TIMESTAMP} {level} {re.escape(name)}: {re.escape(message)}")


def assert_lines(text: str, expected: list[str | re.Pattern[str]]) -> None:
    lines = text.splitlines()
    assert len(lines) == len(expected), text
    for line, want in zip(lines, expected, strict=True):
        if isinstance(want, str):
            assert line == want, text
        else:
            assert want.fullmatch(line), (line, want.pattern)


def run_threads(*targets: Callable[[], None]) -> None:
    """Run each target in its own thread; re-raise the first failure here."""
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as exc:
                errors.append(exc)

        return run

    threads = [threading.Thread(target=guarded(t)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


@contextlib.contextmanager
def without_root_handlers() -> Iterator[None]:
    """Take pytest's handlers off the root logger for a while (and put them back)."""
    saved = logging.root.handlers[:]
    for handler in saved:
        logging.root.removeHandler(handler)
    try:
        yield
    finally:
        for handler in saved:
            logging.root.addHandler(handler)


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def list_handler() -> Iterator[ListHandler]:
    handler = ListHandler()
    logging.root.addHandler(handler)
    yield handler
    logging.root.removeHandler(handler)


def test_concurrent_steps_keep_their_own_lines_in_order(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # Three parties take turns: phase k belongs to party k % 3, the others wait.
    barrier = threading.Barrier(3, timeout=30)
    phases = 12
    buffers: dict[str, StepLogBuffer] = {}

    def act(name: str, phase: int) -> None:
        kind = phase // 3 % 4
        if kind == 0:
            print(f"{name} out {phase}")
        elif kind == 1:
            print(f"{name} err {phase}", file=sys.stderr)
        elif kind == 2:
            logging.getLogger(f"steps.{name}").info("%s info %d", name, phase)
        else:
            logging.getLogger(f"steps.{name}").warning("%s warning %d", name, phase)

    def step(name: str, party: int) -> Callable[[], None]:
        def run() -> None:
            with capture_step_logs(name, live=False) as buffer:
                buffers[name] = buffer
                barrier.wait()
                for phase in range(phases):
                    if phase % 3 == party:
                        act(name, phase)
                    barrier.wait()

        return run

    def driver() -> None:
        barrier.wait()
        for phase in range(phases):
            if phase % 3 == 2:
                print(f"driver {phase}")
                logging.getLogger("driver").warning("driver warning %d", phase)
            barrier.wait()

    run_threads(step("a", 0), step("b", 1), driver)

    assert_lines(
        buffers["a"].text(),
        [
            "a out 0",
            "a err 3",
            log_line("INFO", "steps.a", "a info 6"),
            log_line("WARNING", "steps.a", "a warning 9"),
        ],
    )
    assert_lines(
        buffers["b"].text(),
        [
            "b out 1",
            "b err 4",
            log_line("INFO", "steps.b", "b info 7"),
            log_line("WARNING", "steps.b", "b warning 10"),
        ],
    )
    captured = capsys.readouterr()
    assert captured.out == "driver 2\ndriver 5\ndriver 8\ndriver 11\n"
    assert captured.err == ""
    # The user's handlers still see WARNING records from every thread, and no INFO.
    assert sorted(r.getMessage() for r in caplog.records) == [
        "a warning 9",
        "b warning 10",
        "driver warning 11",
        "driver warning 2",
        "driver warning 5",
        "driver warning 8",
    ]


def test_stdout_and_stderr_interleave_in_write_order() -> None:
    with capture_step_logs("s", live=False) as logs:
        print("one")
        print("two", file=sys.stderr)
        sys.stdout.write("three ")
        sys.stderr.write("four\n")
        sys.stdout.writelines(["five\n", "six\n"])
    assert logs.text() == "one\ntwo\nthree four\nfive\nsix\n"


def test_log_records_carry_level_and_logger_name() -> None:
    with capture_step_logs("s", live=False) as logs:
        logging.getLogger("steps.train").info("loss %.1f", 0.5)
        logging.getLogger("trellis.runtime.fake").info("saved output")
        logging.getLogger("steps.train").debug("not captured")
        logging.getLogger("steps.train").error("boom")
    assert_lines(
        logs.text(),
        [
            log_line("INFO", "steps.train", "loss 0.5"),
            log_line("INFO", "trellis.runtime.fake", "saved output"),
            log_line("ERROR", "steps.train", "boom"),
        ],
    )


def test_logger_levels_are_unchanged_and_explicit_levels_respected(
    list_handler: ListHandler,
) -> None:
    noisy = logging.getLogger("steps.noisy")
    noisy.setLevel(logging.ERROR)
    try:
        with capture_step_logs("s", live=False) as logs:
            assert logging.root.level == logging.WARNING
            logging.getLogger("steps.quiet").info("info for the step logs only")
            noisy.warning("dropped by the logger's own level")
            noisy.error("kept")
    finally:
        noisy.setLevel(logging.NOTSET)
    assert_lines(
        logs.text(),
        [
            log_line("INFO", "steps.quiet", "info for the step logs only"),
            log_line("ERROR", "steps.noisy", "kept"),
        ],
    )
    assert [r.getMessage() for r in list_handler.records] == ["kept"]


def test_root_level_debug_lets_debug_through(list_handler: ListHandler) -> None:
    previous = logging.root.level
    logging.root.setLevel(logging.DEBUG)
    try:
        with capture_step_logs("s", live=False) as logs:
            logging.getLogger("steps.x").debug("detail")
    finally:
        logging.root.setLevel(previous)
    assert_lines(logs.text(), [log_line("DEBUG", "steps.x", "detail")])
    assert [r.getMessage() for r in list_handler.records] == ["detail"]


def test_live_echo_prefixes_each_line(capsys: pytest.CaptureFixture[str]) -> None:
    with capture_step_logs("train", live=True) as logs:
        print("epoch 1\nepoch 2")
        print("careful", file=sys.stderr)
        logging.getLogger("steps.train").warning("slow\nvery slow")
    captured = capsys.readouterr()
    assert captured.out == "[train] epoch 1\n[train] epoch 2\n"
    assert captured.err.startswith("[train] careful\n[train] ")
    assert_lines(
        captured.err.removeprefix("[train] careful\n"),
        [re.compile(rf"\[train\] {TIMESTAMP} WARNING steps.train: slow"), "[train] very slow"],
    )
    assert logs.text().startswith("epoch 1\nepoch 2\ncareful\n")


@pytest.mark.parametrize("fixture", ["capsys", "capfd"])
def test_live_echo_under_pytest_capture(fixture: str, request: pytest.FixtureRequest) -> None:
    capture: pytest.CaptureFixture[str] = request.getfixturevalue(fixture)
    with capture_step_logs("s"):
        print("hello")
    assert capture.readouterr().out == "[s] hello\n"


def test_live_false_echoes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with capture_step_logs("s", live=False) as logs:
        print("out")
        print("err", file=sys.stderr)
        logging.getLogger("steps.s").warning("log")
    assert capsys.readouterr() == ("", "")
    assert logs.text().startswith("out\nerr\n")


def test_partial_line_waits_for_exit(capsys: pytest.CaptureFixture[str]) -> None:
    with capture_step_logs("s") as logs:
        print("progress: ", end="")
        print("50%", end="", flush=True)
        assert capsys.readouterr().out == ""
    assert capsys.readouterr().out == "[s] progress: 50%\n"
    assert logs.text() == "progress: 50%"


def test_everything_is_restored_afterwards() -> None:
    stdout, stderr = sys.stdout, sys.stderr
    handlers = logging.root.handlers[:]
    methods = (logging.Logger.isEnabledFor, logging.Logger.callHandlers)
    with capture_step_logs("s", live=False):
        assert sys.stdout is not stdout
        assert sys.stderr is not stderr
        assert len(logging.root.handlers) == len(handlers) + 1
    assert sys.stdout is stdout
    assert sys.stderr is stderr
    assert logging.root.handlers == handlers
    assert (logging.Logger.isEnabledFor, logging.Logger.callHandlers) == methods
    assert current_log_buffer() is None


def test_exception_inside_the_block_still_restores_everything(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stdout, stderr = sys.stdout, sys.stderr
    handlers = logging.root.handlers[:]
    buffers: list[StepLogBuffer] = []

    def failing_step() -> None:
        with capture_step_logs("s") as logs:
            buffers.append(logs)
            print("before", end="")
            raise RuntimeError("step failed")

    with pytest.raises(RuntimeError, match="step failed"):
        failing_step()
    [logs] = buffers
    assert (sys.stdout, sys.stderr) == (stdout, stderr)
    assert logging.root.handlers == handlers
    assert logs.text() == "before"
    assert capsys.readouterr().out == "[s] before\n"
    print("after")
    assert capsys.readouterr().out == "after\n"


def test_nested_capture_wins_until_it_exits() -> None:
    stdout = sys.stdout
    with capture_step_logs("outer", live=False) as outer:
        print("a")
        with capture_step_logs("inner", live=False) as inner:
            assert current_log_buffer() is inner
            print("b")
            logging.getLogger("steps.inner").info("c")
        assert current_log_buffer() is outer
        print("d")
    assert outer.text() == "a\nd\n"
    assert_lines(inner.text(), ["b", log_line("INFO", "steps.inner", "c")])
    assert sys.stdout is stdout


def test_threads_a_step_starts_are_captured_only_when_attached(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with capture_step_logs("s", live=False) as logs:
        buffer = current_log_buffer()
        assert buffer is logs

        def attached() -> None:
            with buffer.attach():
                print("from an attached thread")

        def unattached() -> None:
            print("from a plain thread")

        run_threads(attached)
        run_threads(unattached)
    assert logs.text() == "from an attached thread\n"
    assert capsys.readouterr().out == "from a plain thread\n"


def test_a_later_replacement_of_stdout_is_respected() -> None:
    stdout = sys.stdout
    sink = io.StringIO()
    with capture_step_logs("outer", live=False) as outer:
        with contextlib.redirect_stdout(sink):
            print("to the sink")
            # The proxy was replaced: this activation puts a new one on top of the sink.
            with capture_step_logs("inner", live=True) as inner:
                print("captured")
            assert sys.stdout is not sink
        print("outer line")
    assert sys.stdout is stdout
    assert sink.getvalue() == "to the sink\n[inner] captured\n"
    assert inner.text() == "captured\n"
    assert outer.text() == "outer line\n"


def test_a_broken_terminal_does_not_fail_the_step() -> None:
    closed = io.StringIO()
    closed.close()
    with contextlib.redirect_stdout(closed), capture_step_logs("s", live=True) as logs:
        print("still captured")
    assert logs.text() == "still captured\n"


def test_other_threads_still_reach_last_resort(capsys: pytest.CaptureFixture[str]) -> None:
    with without_root_handlers(), capture_step_logs("s", live=False) as logs:
        run_threads(lambda: logging.getLogger("elsewhere").warning("nobody configured logging"))
        logging.getLogger("steps.s").warning("captured")
    assert capsys.readouterr().err == "nobody configured logging\n"
    assert_lines(logs.text(), [log_line("WARNING", "steps.s", "captured")])
    assert logging.root.handlers  # pytest's handlers are back


def test_the_module_imports_only_the_standard_library() -> None:
    tree = ast.parse(Path(_logs.__file__).read_text())
    imported = {
        name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in (
            [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        )
    }
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported
