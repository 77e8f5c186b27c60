"""Plain-text tables and the final comparison against the issue's targets."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bench.breakdown import Part
from bench.growth import Latency
from bench.startup import Startup
from bench.throughput import Throughput

SHARE_OF_BARE = 0.70
"""Target: durable ledger operations at 70% or more of the bare ``sqlite3`` rate."""
MULTIPLE_OF_LIBRARY = 1.5
"""Target: at least 1.5 times the ``eventsourcing`` rate, in the same run."""


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> str:
    """Columns padded to their widest cell; numbers right-aligned."""
    widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(headers)]
    lines = [_line(headers, widths, right), _line(["-" * w for w in widths], widths, right)]
    lines += [_line(row, widths, right) for row in rows]
    return "\n".join(lines)


def throughput_table(rows: Sequence[Throughput]) -> str:
    headers = [
        "contender",
        "writers",
        "ops/s",
        "cycles/s",
        "us/op",
        "rounds min-max",
        "errors",
        "note",
    ]
    body = [
        [
            row.label,
            str(row.writers),
            _count(row.ops_per_s),
            _count(row.cycles_per_s),
            f"{row.us_per_op:.0f}",
            f"{_count(row.slowest)}-{_count(row.fastest)}",
            str(row.errors),
            row.note,
        ]
        for row in rows
    ]
    return table(headers, body, [False, True, True, True, True, True, True, False])


def breakdown_table(rows: Sequence[Part], full: float, normal: float) -> str:
    headers = ["part of one operation", "FULL us/op", "NORMAL us/op"]
    body = [[row.label, f"{row.full_us:.1f}", f"{row.normal_us:.1f}"] for row in rows]
    body.append(["total (wall clock)", f"{full:.1f}", f"{normal:.1f}"])
    return table(headers, body, [False, True, True])


def latency_table(rows: Sequence[Latency]) -> str:
    headers = ["case", "log events", "stream", "samples", "median ms", "p99 ms"]
    body = [
        [
            row.case,
            _count(row.log_events),
            _count(row.stream_records),
            str(len(row.samples)),
            _ms(row.median_ms),
            _ms(row.p99_ms),
        ]
        for row in rows
    ]
    return table(headers, body, [False, True, True, True, True, True])


def startup_table(rows: Sequence[Startup]) -> str:
    headers = ["fresh process", "runs", "median ms", "min ms", "max ms", "note"]
    body = [
        [
            row.label,
            str(len(row.samples)),
            _ms(row.median_ms),
            _ms(row.min_ms),
            _ms(row.max_ms),
            row.note,
        ]
        for row in rows
    ]
    return table(headers, body, [False, True, True, True, True, False])


@dataclass(frozen=True)
class Verdict:
    writers: int
    ledger: float
    bare: float
    library: float

    @property
    def share_of_bare(self) -> float:
        return self.ledger / self.bare if self.bare else math.nan

    @property
    def multiple_of_library(self) -> float:
        return self.ledger / self.library if self.library else math.nan


def verdicts(rows: Sequence[Throughput]) -> list[Verdict]:
    """Ledger SQLite FULL against bare sqlite3 (plain table) and eventsourcing, per writer count."""
    rate = {(row.key, row.writers): row.ops_per_s for row in rows}
    found = []
    for writers in sorted({row.writers for row in rows}):
        keys = [(key, writers) for key in ("ledger-sqlite", "bare-sqlite", "eventsourcing")]
        if all(key in rate for key in keys):
            found.append(Verdict(writers, *(rate[key] for key in keys)))
    return found


def comparison(found: Sequence[Verdict]) -> str:
    lines = []
    for verdict in found:
        share, multiple = verdict.share_of_bare, verdict.multiple_of_library
        lines.append(
            f"{verdict.writers} writer(s): ledger SQLite FULL {_count(verdict.ledger)} ops/s"
            f" = {share:.0%} of bare sqlite3 ({_count(verdict.bare)}/s;"
            f" target >= {SHARE_OF_BARE:.0%}: {_met(share >= SHARE_OF_BARE)})"
            f" and {multiple:.2f}x eventsourcing ({_count(verdict.library)}/s;"
            f" target >= {MULTIPLE_OF_LIBRARY}x: {_met(multiple >= MULTIPLE_OF_LIBRARY)})"
        )
    return "\n".join(lines) or "(no comparison: throughput section not run)"


def _line(cells: Sequence[str], widths: Sequence[int], right: Sequence[bool]) -> str:
    parts = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)]
    return "  ".join(parts).rstrip()


def _count(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.0f}"


def _ms(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"
