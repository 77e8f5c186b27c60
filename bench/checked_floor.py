"""The floor under a rebuild and a feed: what reading every record with its checks
costs alone, and what it allows on this machine's cores.

Every record a store hands out is checked as it is read (issue 13): its stored bytes
decode, it holds its position, the sha256 of its bytes is its ``hash``, and it chains
to the record before it. A rebuild of the projections and the analytics feed both
walk the whole log that way (``ledger.store.hashed_walk.walk``: a helper process
reads and hashes, this one decodes and checks). Neither can go faster than that walk
alone, nor, however well it spreads over the cores, faster than the cores can do the
walk's CPU work: ``cores / (CPU seconds a record)``. The feed also has DuckDB parse
and store each record's ``events`` row, measured alone here the way the feed does it
(the feed's batches of records from their stored lines, a transaction each, into a
new analytics file).

A goal above the ceiling cannot be met by any arrangement of the same work; only
less work a record (no check, a compiled walk, a smaller record) could meet it.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ledger.store.hashed_walk import walk, walk_pages
from ledger.store.protocol import EventStore
from projections.analytics.event_rows import insert_events, write_lines
from projections.analytics.feeder import BATCH, batches
from projections.analytics.schema import EVENTS


class Clocks:
    """Wall-clock and CPU seconds since it was made (the CPU of this process, with its
    threads, and of the child processes it has waited for)."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = cpu_seconds()

    def lap(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, cpu_seconds() - self.cpu


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


@dataclass(frozen=True)
class Floor:
    """One piece of work over ``records`` records, timed by the wall and by the CPU."""

    label: str
    records: int
    wall_s: float
    cpu_s: float

    @property
    def per_s(self) -> float:
        return self.records / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def cpu_us(self) -> float:
        """CPU microseconds a record."""
        return 1e6 * self.cpu_s / self.records if self.records else 0.0


def checked_read(store: EventStore, *, until: int | None = None) -> Floor:
    """Walk the log as a rebuild and the feed do (helper process and all), with every
    check and nothing else; the helper's CPU is counted (it is waited for)."""
    clocks = Clocks()
    count = sum(1 for _ in walk(store, until=until))
    wall, cpu = clocks.lap()
    return Floor("checked read (walk, every check, no fold)", count, wall, cpu)


def duckdb_events(store: EventStore, *, until: int | None = None) -> Floor:
    """DuckDB's part of the feed alone: each batch's stored lines into the ``events``
    table of a new analytics file, a transaction a batch. The lines are read and
    written to their file outside the clocks; only DuckDB's work is timed (its
    threads are this process's)."""
    wall = cpu = 0.0
    count = 0
    with tempfile.TemporaryDirectory(prefix="claims-floor-") as folder:
        lines_path = Path(folder) / "events.jsonl"
        con = duckdb.connect(str(Path(folder) / "floor.duckdb"))
        try:
            con.execute(EVENTS)
            for records, lines in batches(walk_pages(store, until=until), BATCH):
                write_lines(lines, lines_path)
                clocks = Clocks()
                con.execute("BEGIN TRANSACTION")
                insert_events(con, lines_path)
                con.execute("COMMIT")
                batch_wall, batch_cpu = clocks.lap()
                wall += batch_wall
                cpu += batch_cpu
                count += len(records)
        finally:
            con.close()
    return Floor("DuckDB stores the events rows alone", count, wall, cpu)


def ceiling(cores: int, *floors: Floor) -> float:
    """Records a second the cores could do the floors' CPU work at, perfectly shared."""
    per_record = sum(floor.cpu_s / floor.records for floor in floors if floor.records)
    return cores / per_record if per_record else 0.0


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def goal_rows(goal_per_s: float, cores: int, *floors: Floor) -> list[str]:
    """Markdown table rows (measured, goal, measured / goal, verdict): each floor's rate
    and CPU a record, then their ceiling on ``cores``, against the goal."""
    rows = [
        f"| {floor.label} | {floor.per_s:,.0f} events/s ({floor.cpu_us:.2f} CPU us"
        f" a record) | {goal_per_s:,.0f} events/s | {floor.per_s / goal_per_s:.2f} |"
        f" {_reach(goal_per_s, floor.per_s)} |"
        for floor in floors
        if floor.per_s
    ]
    top = ceiling(cores, *floors)
    if top:
        rows.append(
            f"| ceiling of that work on {cores} cores | {top:,.0f} events/s |"
            f" {goal_per_s:,.0f} events/s | {top / goal_per_s:.2f} | {_reach(goal_per_s, top)} |"
        )
    return rows


def _reach(goal: float, rate: float) -> str:
    return "goal within it" if goal <= rate else "goal beyond it"
