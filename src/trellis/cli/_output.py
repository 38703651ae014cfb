"""Tables for humans in a terminal, tab-separated text when piped."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TextIO


def is_terminal(stream: TextIO | None = None) -> bool:
    stream = stream or sys.stdout
    return hasattr(stream, "isatty") and stream.isatty()


def fmt(value: Any) -> str:
    """One cell: times in local ISO without microseconds, durations in seconds."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"
    if hasattr(value, "value") and isinstance(value.value, str):  # enums
        return str(value.value)
    return str(value)


_STATUS_STYLE = {
    "completed": "green",
    "cached": "cyan",
    "failed": "red",
    "running": "yellow",
    "skipped": "dim",
    "stopped": "magenta",
}


def print_table(
    title: str | None,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    stream: TextIO | None = None,
) -> None:
    """Print rows as a rich table on a terminal, else as tab-separated lines."""
    stream = stream or sys.stdout
    cells = [[fmt(value) for value in row] for row in rows]
    if not is_terminal(stream):
        stream.write("\t".join(columns) + "\n")
        for row in cells:
            stream.write("\t".join(row) + "\n")
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        # ids and names are copied into the next command: wrap them, never cut them
        table.add_column(column, overflow="fold")
    status_index = columns.index("status") if "status" in columns else None
    for row in cells:
        row = [escape(cell) for cell in row]  # names like "scores[bold]" are data, not markup
        if status_index is not None:
            style = _STATUS_STYLE.get(row[status_index])
            if style:
                row = list(row)
                row[status_index] = f"[{style}]{row[status_index]}[/]"
        table.add_row(*row)
    Console(file=stream).print(table)


def print_fields(
    title: str, fields: Sequence[tuple[str, Any]], *, stream: TextIO | None = None
) -> None:
    """Print ``name: value`` lines under a title."""
    stream = stream or sys.stdout
    stream.write(f"{title}\n")
    width = max(len(name) for name, _ in fields)
    for name, value in fields:
        stream.write(f"  {name.ljust(width)}  {fmt(value)}\n")
