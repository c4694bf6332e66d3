"""Terminal output: colour and tables on a terminal, plain text everywhere else.

Colour is used only when the stream is a terminal, ``NO_COLOR`` is unset or empty and
``TERM`` is not ``dumb`` (``--color auto``, the default); ``--color always`` forces it (for CI
logs that render ANSI colours) and ``--color never`` turns it off. rich is imported only
when a table is drawn on a terminal.
"""

from __future__ import annotations

import os
from enum import StrEnum
from typing import Any, TextIO


class ColorMode(StrEnum):
    auto = "auto"
    always = "always"
    never = "never"


def use_color(stream: TextIO, mode: ColorMode = ColorMode.auto) -> bool:
    if mode is ColorMode.always:
        return True
    if mode is ColorMode.never:
        return False
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


_RESET = "\x1b[0m"
_STYLES = {"header": "\x1b[1m", "hunk": "\x1b[36m", "add": "\x1b[32m", "remove": "\x1b[31m"}


def _style(line: str) -> str | None:
    if line.startswith(("--- ", "+++ ", "Binary files ")):
        return "header"
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+"):
        return "add"
    if line.startswith("-"):
        return "remove"
    return None


def color_diff(diff: str) -> str:
    """A unified diff with ANSI colours: headers bold, hunks cyan, additions green, removals red."""
    out = []
    for line in diff.splitlines(keepends=True):
        style = _style(line)
        if style is None:
            out.append(line)
            continue
        body = line.rstrip("\n")
        out.append(f"{_STYLES[style]}{body}{_RESET}{line[len(body) :]}")
    return "".join(out)


def print_table(rows: list[dict[str, Any]], stream: TextIO, color: bool) -> None:
    """``inspect``'s table: rich on a terminal with colour, aligned plain text otherwise."""
    from hayhooks_gen.inspection import TABLE_HEADERS, table, table_cells

    if not color:
        stream.write(table(rows) + "\n")
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    rich_table = Table(*TABLE_HEADERS, header_style="bold")
    for cells in table_cells(rows):
        rich_table.add_row(*(Text(cell) for cell in cells))  # Text: `list[str]` is not markup
    Console(file=stream, force_terminal=True, highlight=False).print(rich_table)
