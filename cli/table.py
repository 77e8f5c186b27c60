"""Plain-text tables for people; colour only on a terminal and never with ``NO_COLOR``."""

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


def paint(text: str, colour: str | None, *, enabled: bool) -> str:
    return click.style(text, fg=colour) if enabled and colour else text


def _line(values: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(
        value.ljust(width) for value, width in zip(values, widths, strict=True)
    ).rstrip()


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
