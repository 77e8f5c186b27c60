"""Plain-text tables for people; colour only on a terminal and never with ``NO_COLOR``.

Text from the ledger (titles, reasons, metadata) may hold terminal control
characters; a cell shows each as an escape (``\\x1b``), so a title cannot move the
cursor, clear the screen or recolour the terminal."""

from __future__ import annotations

from collections.abc import Sequence

import click

HEALTH_COLOURS = {"healthy": "green", "stale": "yellow", "expiring": "yellow", "expired": "red"}


def render_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Columns padded to their widest cell, a rule under the header."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in cells:
        for index, value in enumerate(row):
            widths[index] = max(widths[index], len(value))
    lines = [_line(headers, widths), _line(["-" * width for width in widths], widths)]
    lines.extend(_line(row, widths) for row in cells)
    return "\n".join(lines)


class Painted(str):
    """A cell already styled by ``paint``: its escape codes are ours, kept as they are."""


def paint(text: str, colour: str | None, *, enabled: bool) -> str:
    """``text`` in the foreground ``colour`` (a name ``click.style`` takes), when enabled."""
    return Painted(click.style(printable(text), fg=colour)) if enabled and colour else text


def heading(text: str, *, enabled: bool) -> str:
    """``text`` in bold, when enabled."""
    return Painted(click.style(printable(text), bold=True)) if enabled else text


def printable(text: str) -> str:
    """``text`` with every character a terminal would act on written as an escape."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _line(values: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(
        value.ljust(width) for value, width in zip(values, widths, strict=True)
    ).rstrip()


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Painted):
        return value
    return printable(str(value))
