"""The figures of the projections benchmark (``bench.projections``) and the tables
they are printed as."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bench import checked_floor, opening
from bench.rebuild_parts import Part
from bench.report import table

TARGETS = {"jsonl": 1_000_000.0, "sqlite": 700_000.0}
"""Rebuild targets of issue 3, in events per second."""
RESTART_TARGET_S = 0.5


@dataclass(frozen=True)
class Rate:
    """One contender reading the whole log."""

    label: str
    backend: str
    events: int
    seconds: float
    cpu_seconds: float
    """CPU time over the same span, of this process and of the children it waited for
    (the rebuild's hashing helper, ``ledger.store.hashed_walk``): steadier than the
    wall clock on a machine busy with other work."""

    @property
    def per_s(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    @property
    def per_cpu_s(self) -> float:
        return self.events / self.cpu_seconds if self.cpu_seconds > 0 else 0.0


@dataclass(frozen=True)
class Restart:
    backend: str
    open_s: float
    """Opening the store (JSONL: loading the index beside the log)."""
    restore_s: float
    """Restoring the four snapshots and catching up."""
    restore_cpu_s: float


@dataclass(frozen=True)
class Memory:
    backend: str
    tasks: int
    sessions: int
    events: int
    rss_before_mb: float
    peak_rss_mb: float
    snapshot_mb: float


@dataclass(frozen=True)
class Figures:
    events: int
    build_s: float
    rates: list[Rate]
    restarts: list[Restart]
    memory: list[Memory]
    parts: list[Part]
    openings: list[opening.Opening]
    cores: int
    """The cores the benchmark could run on (the ceilings' divisor)."""


def render(figures: Figures) -> str:
    return "\n\n".join(
        [
            _rates_table(figures.rates),
            _ceiling_table(figures.rates, figures.cores),
            opening.render(figures.openings, figures.events),
            _restart_table(figures.restarts),
            _memory_table(figures.memory),
            table(
                ["where a rebuild's time goes (first records of the log)", "us/record"],
                [[part.label, f"{part.us:.2f}"] for part in figures.parts],
                [False, True],
            ),
        ]
    )


def _rates_table(rates: Sequence[Rate]) -> str:
    es = next(rate for rate in rates if rate.label.startswith("eventsourcing"))
    floors = {rate.backend: rate for rate in rates if rate.label.startswith("bare decode")}
    rows = [
        [
            rate.label,
            rate.backend,
            f"{rate.events:,}",
            f"{rate.seconds:.2f}",
            f"{rate.per_s:,.0f}",
            f"{rate.per_cpu_s:,.0f}",
            f"{rate.per_s / es.per_s:.1f}x",
            f"{rate.per_cpu_s / es.per_cpu_s:.1f}x",
            _vs_floor(rate, floors.get(rate.backend), wall=True),
            _vs_floor(rate, floors.get(rate.backend), wall=False),
            _target(rate),
        ]
        for rate in rates
    ]
    headers = [
        "reader",
        "store",
        "events",
        "wall s",
        "events/s",
        "events/CPU-s",
        "vs eventsourcing (wall)",
        "vs eventsourcing (CPU)",
        "vs floor (wall)",
        "vs floor (CPU)",
        "target (wall)",
    ]
    right = [False, False, True, True, True, True, True, True, True, True, False]
    return table(headers, rows, right)


def _vs_floor(rate: Rate, floor: Rate | None, *, wall: bool) -> str:
    """A rebuild's rate as a share of the bare decode loop's over the same store, per
    wall-clock second (the rebuild's helper process works beside it) or per CPU second
    (the helper's CPU counted)."""
    if floor is None or not rate.label.startswith(("ledger rebuild", "checked read")):
        return ""
    mine, theirs = (rate.per_s, floor.per_s) if wall else (rate.per_cpu_s, floor.per_cpu_s)
    return f"{mine / theirs:.2f}x" if theirs else ""


def _ceiling_table(rates: Sequence[Rate], cores: int) -> str:
    """Per store: the checked read's CPU a record, the rate the cores could give that
    work alone (``bench.checked_floor.ceiling``), and the rebuild goal against it."""
    rows = []
    for walk in (rate for rate in rates if rate.label.startswith("checked read")):
        ceiling = checked_floor.ceiling(
            cores, checked_floor.Floor(walk.label, walk.events, walk.seconds, walk.cpu_seconds)
        )
        target = TARGETS.get(walk.backend)
        rows.append(
            [
                walk.backend,
                f"{1e6 / walk.per_cpu_s:.2f}" if walk.per_cpu_s else "",
                f"{ceiling:,.0f}",
                f"{target:,.0f}" if target else "",
                (f"{target / ceiling:.2f}x" if target and ceiling else ""),
                _within(target, ceiling),
            ]
        )
    headers = [
        "store",
        "checked read, CPU us/record",
        f"ceiling on {cores} cores, events/s",
        "rebuild goal",
        "goal / ceiling",
        "",
    ]
    return table(headers, rows, [False, True, True, True, True, False])


def _within(target: float | None, ceiling: float) -> str:
    if not target or not ceiling:
        return ""
    if target <= ceiling:
        return "within reach of the checked read"
    return "beyond it: no fold, however shared, reaches the goal"


def _restart_table(restarts: Sequence[Restart]) -> str:
    rows = [
        [
            r.backend,
            f"{r.open_s:.3f}",
            f"{r.restore_s:.3f}",
            f"{r.restore_cpu_s:.3f}",
            _verdict(r.restore_s <= RESTART_TARGET_S),
        ]
        for r in restarts
    ]
    headers = ["restart at the head", "open store s", "restore s", "restore CPU s", "< 0.5 s"]
    return table(headers, rows, [False, True, True, True, False])


def _memory_table(memory: Sequence[Memory]) -> str:
    rows = [
        [
            f"{m.backend}: {m.tasks:,} tasks, {m.sessions:,} sessions, {m.events:,} events",
            f"{m.rss_before_mb:.0f}",
            f"{m.peak_rss_mb:.0f}",
            f"{m.snapshot_mb:.1f}",
        ]
        for m in memory
    ]
    headers = ["rebuild in a fresh process", "RSS before MB", "peak RSS MB", "snapshots MB"]
    return table(headers, rows, [False, True, True, True])


def _target(rate: Rate) -> str:
    if not rate.label.startswith("ledger rebuild"):
        return ""
    target = TARGETS.get(rate.backend)
    if target is None:
        return ""
    return f">= {target:,.0f}: {_verdict(rate.per_s >= target)}"


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def jsonable(figures: Figures) -> dict[str, Any]:
    data = asdict(figures)
    data["rates"] = [{**asdict(rate), "per_s": rate.per_s} for rate in figures.rates]
    return data
