"""Run the benchmark: ``python -m bench [--size smoke|full] [--only SECTION] [--dir DIR]``.

``full`` (the default) is what ``docs/benchmarks.md`` records; ``smoke`` runs every
row with tiny counts in well under 30 seconds, so CI can check the harness works.
Figures only: nothing here asserts a speed. The ``postgres`` section needs a
PostgreSQL server (``CLAIMS_BENCH_POSTGRES``), so it runs only when asked for
with ``--only postgres``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import platform
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import breakdown, growth, hot_stream, projection_figures, report, startup, throughput
from bench import postgres as postgres_bench
from bench import projections as projection_bench
from bench.growth import GrowthPlan
from bench.projection_logs import PLANS
from bench.workdir import workdir

SECTIONS = ("throughput", "breakdown", "growth", "startup", "projections")
"""What a run without ``--only`` measures."""
ON_REQUEST = ("postgres",)
"""Sections that need a server, run only when named with ``--only``."""


@dataclass(frozen=True)
class Size:
    name: str
    cycles_one: int
    """Cycles (three durable appends each) for a lone writer."""
    cycles_four: int
    """Cycles per writer when four writers share the store."""
    warmup: int
    """Untimed cycles per writer before the starting line (fills the WAL, warms caches)."""
    rounds: int
    growth: GrowthPlan
    startup_runs: int

    def cycles(self, writers: int) -> int:
        return self.cycles_one if writers == 1 else self.cycles_four


SIZES = {
    "smoke": Size("smoke", 40, 15, 5, 1, GrowthPlan(2_000, 10_000, 300, 20, 5), 3),
    "full": Size("full", 2_000, 700, 400, 5, GrowthPlan(10_000, 1_000_000, 10_000, 500, 100), 21),
}


@dataclass
class Results:
    """Everything a run measured, for ``--json``."""

    machine: dict[str, Any]
    throughput: list[throughput.Throughput] = field(default_factory=list)
    breakdown: list[breakdown.Part] = field(default_factory=list)
    growth: list[growth.Latency] = field(default_factory=list)
    builds: dict[str, float] = field(default_factory=dict)
    startup: list[startup.Startup] = field(default_factory=list)
    projections: dict[str, Any] = field(default_factory=dict)
    postgres: dict[str, Any] = field(default_factory=dict)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    size = SIZES[args.size]
    if args.rounds:
        size = replace(size, rounds=args.rounds)
    sections = args.only or list(SECTIONS)
    with workdir(args.dir, "claims-bench-") as folder:
        results = Results(machine=_machine(folder, size))
        _print_header(results.machine)
        for section in SECTIONS + ON_REQUEST:
            if section in sections:
                _SECTIONS[section](folder, size, results)
    _print_comparison(results)
    if args.json:
        Path(args.json).write_text(json.dumps(_jsonable(results), indent=2) + "\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument(
        "--only", action="append", choices=SECTIONS + ON_REQUEST, help="run only this section"
    )
    parser.add_argument("--rounds", type=int, help="override the number of throughput rounds")
    parser.add_argument("--dir", help="where the stores go (default: a fresh temporary folder)")
    parser.add_argument("--json", help="also write every figure to this JSON file")
    return parser


def _throughput(folder: Path, size: Size, results: Results) -> None:
    chosen = throughput.contenders()
    _section(
        f"Durable appends: {size.cycles_one:,} cycles (x3 appends) for 1 writer,"
        f" {size.cycles_four:,} per writer for 4, after {size.warmup} untimed;"
        f" median of {size.rounds} round(s)"
    )
    results.throughput = throughput.measure(
        folder, chosen, size.cycles, warmup=size.warmup, rounds=size.rounds
    )
    print(report.throughput_table(results.throughput))


def _breakdown(folder: Path, size: Size, results: Results) -> None:
    _section(
        f"Where one operation's time goes (1 writer, in-process, {size.cycles_one:,} cycles,"
        " timers around each statement)"
    )
    results.breakdown, full, normal = breakdown.measure(folder, size.cycles_one, size.warmup)
    print(report.breakdown_table(results.breakdown, full, normal))
    encode, digest = breakdown.sealing_split()
    print(
        f"(sealing one heartbeat record: canonical encode {encode:.1f} us, sha256 {digest:.1f} us)"
    )


def _growth(folder: Path, size: Size, results: Results) -> None:
    plan = size.growth
    _section(
        f"Claim+release latency as the log grows (SQLite FULL; {plan.samples} samples,"
        f" {plan.cold_samples} for the fresh-service case)"
    )
    results.growth, results.builds = growth.measure(folder, plan)
    print(report.latency_table(results.growth))
    for line in hot_stream.verdicts(results.growth):
        print(line)
    built = ", ".join(f"{name} log {seconds:.1f} s" for name, seconds in results.builds.items())
    print(f"(seeded with synchronous=OFF in big transactions: {built})")


def _startup(folder: Path, size: Size, results: Results) -> None:
    _section(f"Fresh process per command ({size.startup_runs} runs each)")
    results.startup = startup.measure(folder, size.startup_runs)
    print(report.startup_table(results.startup))


def _projections(folder: Path, size: Size, results: Results) -> None:
    plan = PLANS[size.name]
    _section(
        f"Projections (issue 3): rebuild from {plan.tasks:,} tasks and {plan.sessions:,}"
        " sessions beside the floor and eventsourcing; opening the store; restart; peak memory"
    )
    figures = projection_bench.measure(folder, plan)
    results.projections = projection_figures.jsonable(figures)
    print(projection_figures.render(figures))


def _postgres(folder: Path, size: Size, results: Results) -> None:
    plan = postgres_bench.SIZES[size.name]
    if size.rounds != SIZES[size.name].rounds:
        plan = replace(plan, rounds=size.rounds)
    counts = ", ".join(f"{n:,} for {w}" for w, n in plan.cycles.items())
    _section(
        f"PostgreSQL (issue 6): claim, heartbeat, release cycles (x3 appends) per writer"
        f" ({counts} writers) after {plan.warmup} untimed; median of {plan.rounds} round(s);"
        " a fresh schema per PostgreSQL run"
    )
    figures = postgres_bench.measure(folder, plan)
    results.postgres = postgres_bench.jsonable(figures)
    print(postgres_bench.render(figures))


_SECTIONS = {
    "throughput": _throughput,
    "breakdown": _breakdown,
    "growth": _growth,
    "startup": _startup,
    "projections": _projections,
    "postgres": _postgres,
}


def _print_header(machine: dict[str, Any]) -> None:
    print("claim-ledger benchmark")
    for key, value in machine.items():
        print(f"  {key}: {value}")


def _print_comparison(results: Results) -> None:
    _section("Targets (issue 2): ledger ops/s >= 70% of bare sqlite3 and >= 1.5x eventsourcing")
    print(report.comparison(report.verdicts(results.throughput)))
    print(f"load average at the end: {_load()}")


def _section(title: str) -> None:
    print(f"\n== {title}", flush=True)


def _machine(folder: Path, size: Size) -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "size": size.name,
        "cores": os.cpu_count(),
        "load average at start": _load(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "msgspec": importlib.metadata.version("msgspec"),
        "eventsourcing": importlib.metadata.version("eventsourcing"),
        "stores in": f"{folder} ({_filesystem(folder)})",
    }


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def _filesystem(folder: Path) -> str:
    """The filesystem type under ``folder`` (an fsync on tmpfs proves nothing)."""
    best, kind = "", "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            _, mount, fstype, *_ = line.split()
            inside = str(folder).startswith(mount.rstrip("/") + "/") or str(folder) == mount
            if inside and len(mount) >= len(best):
                best, kind = mount, fstype
    return kind


def _jsonable(results: Results) -> dict[str, Any]:
    data = asdict(results)
    data["comparison"] = [asdict(verdict) for verdict in report.verdicts(results.throughput)]
    return data
