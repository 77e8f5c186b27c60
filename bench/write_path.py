"""Write path benchmark (issue 14): ``python -m bench.write_path [--size smoke|full]
[--only inprocess|postgres|http] [--json FILE]``.

Side by side in one run, and printed against issue 14's goals (met or missed):

- **inprocess**: claim+heartbeat+release cycles by 1, 4 and 16 writer threads of one
  process sharing one SQLite FULL store (their appends share commits: group commit),
  each round right after a round of a plain sqlite3 loop of durable one-row inserts
  (WAL, FULL, ``BEGIN IMMEDIATE``, one commit each): the disk's fsync rate at that
  moment; the goals read the median of the rounds' ratios. Also one writer's claim and
  release latency (p50), the uncontended path.
- **postgres**: the same cycles by 1, 4, 16 and 64 writer threads of one process on
  PostgreSQL, beside the ``eventsourcing`` PostgreSQL recorder and a bare loop of
  one-row ``INSERT``s in autocommit (both with 1, 4 and 16 writer processes, as in
  ``bench.postgres``; not 64, which would hold most of the server's connections).
  Compared in durable appends a second.
- **http**: ``claims serve --workers 1`` and ``--workers 2`` on SQLite FULL, 32
  closed-loop clients (``bench.http_load``), beside the same cycles by 32 threads
  in-process; a fresh server each round, its ratio to the library's round just before
  it, and the goal read from the median of those ratios. The server first sees each
  task at its claim (the bench registered them from its own process), so it reads the
  task's stream from the store; the library that the goal compares with does the same
  (its tasks registered through another ledger, closed first). The library on tasks it
  registered itself, its caches warm, is shown beside it with its own ratio.

Figures only: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from application.bootstrap import open_ledger
from application.service import ClaimService
from bench import bare as bare_loop
from bench import es_app, throughput
from bench import postgres as pg_bench
from bench.http_api import CLAIMS, _wait, api
from bench.http_load import task_ids
from bench.stats import percentile
from ledger.commands import Beat, Claim, RegisterTask, Release

OPS = 3
"""Durable appends per cycle: claim, heartbeat, release."""


@dataclass(frozen=True)
class Size:
    name: str
    cycles: dict[int, int]
    """In-process and PostgreSQL cycles per writer, by writers."""
    http_cycles: int
    """Cycles per HTTP client (32 clients)."""
    bare_inserts: int
    latency_samples: int
    rounds: int


SIZES = {
    "smoke": Size("smoke", {1: 10, 4: 4, 16: 2, 64: 1}, 3, 50, 10, 1),
    "full": Size("full", {1: 1500, 4: 600, 16: 200, 64: 60}, 100, 3000, 500, 3),
}


@dataclass
class Row:
    section: str
    label: str
    writers: int
    appends_per_s: float
    cycles_per_s: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0


@dataclass
class Goal:
    text: str
    ratio: float
    target: float
    extra: str = ""

    @property
    def met(self) -> bool:
        return self.ratio >= self.target


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)


# --- cycles in-process ------------------------------------------------------------


def register(service: ClaimService, names: Sequence[str]) -> None:
    service.import_tasks([RegisterTask(task_id=name, title=name) for name in names])


def threaded_cycles(url: str, prefix: str, writers: int, cycles: int, *, seen: bool = True) -> Row:
    """``writers`` threads sharing one service run ``cycles`` cycles each, on tasks
    of their own; one warm-up cycle each before the clock starts. ``seen``: the tasks
    are registered through the measuring service, whose caches then hold their streams;
    otherwise through another ledger, closed first, so that each first claim reads its
    task's stream from the store, as a server does for tasks another process imported."""
    lists = task_ids(prefix, writers, cycles + 1)
    names = [task for tasks in lists for task in tasks]
    if not seen:
        other = open_ledger(url)
        register(other.service, names)
        other.close()
    ledger = open_ledger(url)
    service = ledger.service
    if seen:
        register(service, names)
    gate = threading.Barrier(writers + 1)
    samples: list[int] = []
    guard = threading.Lock()

    def writer(index: int) -> None:
        session = f"{prefix}-s{index}"
        mine: list[int] = []
        _cycle(service, lists[index][0], session)
        gate.wait()
        for task in lists[index][1:]:
            started = time.perf_counter_ns()
            _cycle(service, task, session)
            mine.append(time.perf_counter_ns() - started)
        with guard:
            samples.extend(mine)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    gate.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    ledger.close()
    done = writers * cycles
    ms = [sample / 1e6 for sample in samples]
    return Row(
        "",
        "",
        writers,
        OPS * done / elapsed,
        done / elapsed,
        percentile(ms, 0.5),
        percentile(ms, 0.99),
    )


def _cycle(service: ClaimService, task: str, session: str) -> None:
    service.claim(task, Claim(session_id=session))
    service.heartbeat(task, Beat(session_id=session))
    service.release(task, Release(session_id=session, reason="paused"))


def claim_latency(url: str, samples: int) -> Row:
    """One writer, nobody else: the p50 and p99 of a claim (a release between them)."""
    ledger = open_ledger(url)
    service = ledger.service
    tasks = [f"lone-{n}" for n in range(samples + 1)]
    register(service, tasks)
    service.claim(tasks[0], Claim(session_id="lone"))
    timings: list[float] = []
    for task in tasks[1:]:
        started = time.perf_counter_ns()
        service.claim(task, Claim(session_id="lone"))
        timings.append((time.perf_counter_ns() - started) / 1e6)
        service.release(task, Release(session_id="lone", reason="paused"))
    ledger.close()
    return Row(
        "inprocess",
        "one claim, uncontended",
        1,
        0.0,
        p50_ms=percentile(timings, 0.5),
        p99_ms=percentile(timings, 0.99),
    )


def bare_sqlite(path: Path, inserts: int) -> float:
    """Durable one-row inserts a second, one transaction each (the fsync rate)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("CREATE TABLE plain (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
    body = os.urandom(600)
    started = time.perf_counter()
    for _ in range(inserts):
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO plain (body) VALUES (?)", (body,))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return inserts / elapsed


INPROCESS_WRITERS = (1, 4, 16)
"""Writer threads of the in-process rows."""


def inprocess(folder: Path, size: Size, report: Report) -> None:
    """Each writer count's rounds, each right after a round of the bare loop: the disk's
    flush rate drifts over a run, so each round's ratio is taken to the loop measured
    just before it, and the goal reads the median of those ratios."""
    bare: list[float] = []
    rows: dict[int, list[Row]] = {writers: [] for writers in INPROCESS_WRITERS}
    ratios: dict[int, list[float]] = {writers: [] for writers in INPROCESS_WRITERS}
    for n in range(size.rounds):
        for writers in INPROCESS_WRITERS:
            fsyncs = bare_sqlite(folder / f"bare{writers}-{n}.db", size.bare_inserts)
            row = threaded_cycles(
                f"sqlite://{folder / f'w{writers}-{n}.db'}", "c", writers, size.cycles[writers]
            )
            bare.append(fsyncs)
            rows[writers].append(row)
            ratios[writers].append(row.appends_per_s / fsyncs)
    report.rows.append(
        Row("inprocess", "bare sqlite3, durable one-row insert", 1, statistics.median(bare))
    )
    for writers in INPROCESS_WRITERS:
        row = _median_row(rows[writers])
        row.section, row.label = "inprocess", "ledger, SQLite FULL, threads"
        report.rows.append(row)
        if writers in (4, 16):
            report.goals.append(
                Goal(
                    f"in-process {writers} writers: appends/s over the bare durable insert"
                    " loop run just before (median of rounds)",
                    statistics.median(ratios[writers]),
                    1.0,
                )
            )
    latency = claim_latency(f"sqlite://{folder / 'lone.db'}", size.latency_samples)
    report.rows.append(latency)


# --- PostgreSQL -------------------------------------------------------------------


PROCESS_WRITERS = (1, 4, 16)
"""Writer counts of the process-per-writer references: 64 processes with a connection
each would take most of a default server's 100 connections from everyone else."""


def postgres(folder: Path, size: Size, report: Report) -> None:
    writers_list = sorted(size.cycles)
    others = [
        contender
        for writers in PROCESS_WRITERS
        for contender in (
            throughput.Contender(
                "es",
                "eventsourcing, PostgreSQL recorder (processes)",
                writers,
                "",
                pg_bench._es,
                es_app.run,
                pg_bench.drop_schema,
            ),
            throughput.Contender(
                "bare",
                "bare psycopg one-row INSERT, autocommit (processes)",
                writers,
                "",
                pg_bench._bare,
                bare_loop.run_postgres,
                pg_bench.drop_schema,
            ),
        )
    ]
    measured = throughput.measure(
        folder, others, lambda w: size.cycles[w], warmup=1, rounds=size.rounds
    )
    by: dict[tuple[str, int], float] = {(row.key, row.writers): row.ops_per_s for row in measured}
    for writers in writers_list:
        rounds = []
        for number in range(size.rounds):
            path = folder / f"pg-{writers}-{number}"
            pg_bench.create_schema(path)
            try:
                rounds.append(
                    threaded_cycles(pg_bench.url_for(path), "p", writers, size.cycles[writers])
                )
            finally:
                pg_bench.drop_schema(path)
        row = sorted(rounds, key=lambda r: r.appends_per_s)[len(rounds) // 2]
        row.section, row.label = "postgres", "ledger, PostgreSQL, threads"
        report.rows.append(row)
        for key in ("es", "bare") if writers in PROCESS_WRITERS else ():
            label = next(c.label for c in others if c.key == key)
            ops = by[(key, writers)]
            report.rows.append(Row("postgres", label, writers, ops, ops / OPS))
        if writers == 16:
            report.goals.append(
                Goal(
                    "PostgreSQL 16 writers: over the eventsourcing recorder",
                    row.appends_per_s / by[("es", 16)],
                    2.0,
                )
            )
            report.goals.append(
                Goal(
                    "PostgreSQL 16 writers: over the bare one-row INSERT loop",
                    row.appends_per_s / by[("bare", 16)],
                    0.5,
                )
            )


# --- HTTP -------------------------------------------------------------------------


@contextmanager
def serve(url: str, workers: int) -> Iterator[int]:
    """``claims serve --workers N --no-sweep`` on a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMS_")}
    command = [CLAIMS, "serve", "--db", url, "--port", str(port), "--no-sweep"]
    process = subprocess.Popen(
        [*command, "--workers", str(workers)], env=env, stderr=subprocess.DEVNULL
    )
    try:
        _wait(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


HTTP_WORKERS = (1, 2)
"""``claims serve --workers N`` measured: one process, and two sharing the SQLite file."""


def http(folder: Path, size: Size, report: Report) -> None:
    """The library's cycles in-process, then each worker count's over HTTP, round by
    round; the ratio to the library is taken within each round (the machine's speed
    drifts over a run) and the goals read the median of those ratios."""
    clients, count = 32, size.http_cycles
    url = f"sqlite://{folder / 'http.db'}"
    ledger = open_ledger(url)
    names = [
        t
        for workers in HTTP_WORKERS
        for n in range(size.rounds)
        for ts in task_ids(f"h{workers}-{n}", clients, count)
        for t in ts
    ]
    register(ledger.service, names)
    ledger.close()
    libraries: list[Row] = []
    warm_libraries: list[Row] = []
    served: dict[int, list[Row]] = {workers: [] for workers in HTTP_WORKERS}
    ratios: dict[int, list[float]] = {workers: [] for workers in HTTP_WORKERS}
    warm_ratios: dict[int, list[float]] = {workers: [] for workers in HTTP_WORKERS}
    for number in range(size.rounds):
        warm = threaded_cycles(f"sqlite://{folder / f'warm{number}.db'}", "l", clients, count)
        warm_libraries.append(warm)
        lib_url = f"sqlite://{folder / f'lib{number}.db'}"
        library = threaded_cycles(lib_url, "l", clients, count, seen=False)
        libraries.append(library)
        for workers in HTTP_WORKERS:
            with serve(url, workers) as port:
                measured = api(port, f"h{workers}-{number}", clients, count, "FULL")
            served[workers].append(
                Row(
                    "http",
                    f"HTTP, SQLite FULL, --workers {workers}",
                    clients,
                    OPS * measured.cycles_per_s,
                    measured.cycles_per_s,
                    measured.cycle_p50_ms,
                    measured.cycle_p99_ms,
                )
            )
            ratios[workers].append(measured.cycles_per_s / library.cycles_per_s)
            warm_ratios[workers].append(measured.cycles_per_s / warm.cycles_per_s)
    warm_lib = _median_row(warm_libraries)
    warm_lib.section = "http"
    warm_lib.label = "library in-process, SQLite FULL, threads, tasks it registered"
    lib = _median_row(libraries)
    lib.section = "http"
    lib.label = "library in-process, SQLite FULL, threads, tasks registered elsewhere"
    report.rows += [warm_lib, lib]
    for workers, rows in served.items():
        row = _median_row(rows)
        report.rows.append(row)
        report.goals += [
            Goal(f"HTTP --workers {workers}: cycles/s over 1,000", row.cycles_per_s / 1000, 1.0),
            Goal(
                f"HTTP --workers {workers}: cycle p99 under 50 ms (50 / p99)", 50 / row.p99_ms, 1.0
            ),
            Goal(
                f"HTTP --workers {workers}: over the in-process rate of the same round,"
                " the library on tasks registered elsewhere as the server's are"
                " (median of rounds)",
                statistics.median(ratios[workers]),
                0.7,
            ),
            Goal(
                f"HTTP --workers {workers}: over the in-process rate of the same round,"
                " the library on tasks it registered itself, its caches warm"
                " (median of rounds)",
                statistics.median(warm_ratios[workers]),
                0.7,
            ),
        ]


def _median_row(rows: list[Row]) -> Row:
    """The round with the median cycles a second."""
    return sorted(rows, key=lambda r: r.cycles_per_s)[len(rows) // 2]


# --- output -----------------------------------------------------------------------


def render(report: Report) -> str:
    lines = [
        "| section | path | writers | appends/s | cycles/s | cycle p50 ms | cycle p99 ms |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in report.rows:
        lines.append(
            f"| {row.section} | {row.label} | {row.writers} | {row.appends_per_s:,.0f}"
            f" | {row.cycles_per_s:,.0f} | {row.p50_ms:.2f} | {row.p99_ms:.2f} |"
        )
    lines += ["", "| goal | ratio | target | |", "|---|---:|---:|---|"]
    for goal in report.goals:
        verdict = "met" if goal.met else "missed"
        lines.append(f"| {goal.text} | {goal.ratio:.2f}x | {goal.target:g}x | {verdict} |")
    return "\n".join(lines)


SECTIONS = {"inprocess": inprocess, "postgres": postgres, "http": http}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.write_path")
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--only", action="append", choices=sorted(SECTIONS))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    size = SIZES[args.size]
    report = Report()
    with tempfile.TemporaryDirectory(prefix="claims-write-path-") as folder:
        for name in args.only or list(SECTIONS):
            SECTIONS[name](Path(folder), size, report)
    print(render(report))
    if args.json:
        payload: dict[str, Any] = {
            "rows": [asdict(row) for row in report.rows],
            "goals": [{**asdict(goal), "met": goal.met} for goal in report.goals],
        }
        args.json.write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
