"""Terminal tables: rich rendering with data never taken for markup."""

from __future__ import annotations

import io

from trellis.cli._output import print_table


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_table_renders_markup_like_cells_verbatim() -> None:
    stream = _Terminal()
    print_table(
        "Runs",
        ["name", "status"],
        [("scores[bold]", "failed"), ("x[/]y", "completed")],
        stream=stream,
    )
    out = stream.getvalue()
    assert "scores[bold]" in out
    assert "x[/]y" in out
    assert "┏" in out  # a drawn table, not tab-separated text


def test_piped_table_is_tab_separated() -> None:
    stream = io.StringIO()
    print_table("Runs", ["name", "status"], [("a", "failed")], stream=stream)
    assert stream.getvalue() == "name\tstatus\na\tfailed\n"
