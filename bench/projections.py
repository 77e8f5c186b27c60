"""Projections: rebuild rate from a large log, restart from a snapshot, peak memory.

``python -m bench.projections [--size smoke|full] [--dir DIR] [--postgres]``, or the
``projections`` section of ``python -m bench``. Figures only; nothing asserts a speed.

The log (``full``: 1k sessions and 100k tasks, 1,001,000 records) is what agents
would have written: sessions started, then tasks in interleaved batches of 100,
each registered, claimed, heartbeated five or six times and finished (80% released
as completed and marked done, 10% expired and claimed again, 10% taken over by
force), heartbeats 59% of all records. It is sealed once into the hash chain and
written both as a SQLite store and as a JSONL store, and the same events (as
registered, claimed, heartbeat and released aggregate events, 10 a task) are saved
through the ``eventsourcing`` library's SQLite recorder. With ``--postgres`` the
same rows are also loaded into a fresh schema of the PostgreSQL server
(``CLAIMS_BENCH_POSTGRES``) with ``COPY`` and vacuumed, and PostgreSQL joins every
row below; the schema is dropped at the end. Then, side by side:

- **bare decode loop** (the floor): read the stored records and decode each into a
  typed ``Record``, nothing else (``sqlite3`` rows, the JSONL file in 4 MiB chunks, or
  PostgreSQL's bodies through one binary ``COPY ... TO STDOUT``);
- **checked read**: the walk a rebuild makes (``ledger.store.hashed_walk.walk``: the
  hashing helper, every check of every record), folding nothing; no rebuild can be
  faster, and the cores cannot do its CPU work faster than ``cores / CPU a record``
  (``bench.checked_floor``): that ceiling is printed against the rebuild goals;
- **ledger rebuild**: ``ProjectionRunner.rebuild()`` folds every record into the four
  projections through the store's own ``read_all``;
- **eventsourcing read**: the library's ``select_notifications`` pages, each
  notification mapped back into its domain event (``mapper.to_domain_event``);
- **peak memory**: a fresh process rebuilds from each store and saves the snapshot
  files; its peak RSS (``VmHWM``), the RSS before the rebuild, the files' size;
- **restart**: a fresh process opens the store, restores the four snapshots that
  rebuild saved and catches up (nothing to fold);
- **where the time goes**: over the log's first 200k records, reading and decoding
  through each store, decoding alone, and folding decoded records into each
  projection alone and into the whole board.

Rates are shown per wall-clock second and per CPU second of the process: on a
machine shared with other work the second is the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from bench import opening
from bench import postgres as pg
from bench.bare import pg_connect
from bench.checked_floor import Clocks, checked_read, cores
from bench.es_app import application
from bench.projection_figures import (
    Figures,
    Memory,
    Rate,
    Restart,
    jsonable,
    render,
)
from bench.projection_logs import CHUNK, PLANS, Plan, build_es, build_logs, build_postgres
from bench.rebuild_parts import breakdown
from bench.workdir import workdir
from ledger.records import Record
from ledger.store.factory import open_store
from ledger.store.local import local_base
from projections.runner import ProjectionRunner, snapshots_for
from projections.snapshots import MemorySnapshots

ES_PAGE = 10_000
BREAKDOWN_RECORDS = 200_000
_decoder = msgspec.json.Decoder(Record)


# --- reading it back ----------------------------------------------------------------


def floor_sqlite(path: Path) -> Rate:
    """Select every stored body in position order and decode it; nothing else."""
    db = sqlite3.connect(path)
    clocks = Clocks()
    count = 0
    for (body,) in db.execute("SELECT body FROM events ORDER BY position"):
        _decoder.decode(body)
        count += 1
    seconds = clocks.lap()
    db.close()
    return Rate("bare decode loop (floor)", "sqlite", count, *seconds)


def floor_jsonl(path: Path) -> Rate:
    """Read the file in large chunks, split lines, decode each; nothing else."""
    clocks = Clocks()
    count = 0
    pending = b""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            for line in lines:
                _decoder.decode(line)
            count += len(lines)
    return Rate("bare decode loop (floor)", "jsonl", count, *clocks.lap())


def floor_postgres(url: str) -> Rate:
    """Every stored body in position order through one binary ``COPY``, decoded; nothing else."""
    with pg_connect(url) as conn, conn.cursor() as cursor:
        clocks = Clocks()
        count = 0
        query = "COPY (SELECT body FROM events ORDER BY position) TO STDOUT (FORMAT BINARY)"
        with cursor.copy(query) as copy:
            copy.set_types(["bytea"])
            for (body,) in copy.rows():
                _decoder.decode(body)
                count += 1
        seconds = clocks.lap()
    return Rate("bare decode loop (floor)", "postgresql", count, *seconds)


def ledger_rebuild(url: str, backend: str) -> Rate:
    """``ProjectionRunner.rebuild()`` over a store that is already open (and indexed).

    The wall-clock time is the rebuild's own report (the fold, without the save that
    follows); the CPU time spans the whole call, including encoding the snapshots
    (kept in memory here: the restart and memory rows write their own files)."""
    store = open_store(url)
    try:
        store.head()
        clocks = Clocks()
        report = ProjectionRunner(store, MemorySnapshots()).rebuild()
        _, cpu = clocks.lap()
    finally:
        store.close()
    label = "ledger rebuild, four projections"
    return Rate(label, backend, report.records, report.seconds, cpu)


def checked_walk(url: str, backend: str) -> Rate:
    """The walk a rebuild makes (helper process, every check), folding nothing: no
    rebuild can be faster (``bench.checked_floor``)."""
    store = open_store(url)
    try:
        store.head()
        floor = checked_read(store)
    finally:
        store.close()
    return Rate(floor.label, backend, floor.records, floor.wall_s, floor.cpu_s)


def es_read(path: Path) -> Rate:
    """Every stored event back as a domain event, page by page, through the library."""
    app = application(str(path))
    recorder: Any = app.recorder
    mapper: Any = app.mapper
    clocks = Clocks()
    count = 0
    start: int | None = None
    while True:
        page = recorder.select_notifications(start, ES_PAGE, inclusive_of_start=start is None)
        for notification in page:
            mapper.to_domain_event(notification)
        count += len(page)
        if len(page) < ES_PAGE:
            break
        start = page[-1].id
    seconds = clocks.lap()
    app.close()
    return Rate("eventsourcing read into domain events", "sqlite", count, *seconds)


def restart(url: str, backend: str) -> Restart:
    """In a fresh process: open the store, restore the snapshots, catch up."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.projections", "--child-restart", url],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    opened, restored, restored_cpu = json.loads(done.stdout)
    return Restart(backend, opened, restored, restored_cpu)


def memory(url: str, backend: str, plan: Plan, events: int, snapshots: Path) -> Memory:
    """In a fresh process: RSS before and at the peak of a rebuild from the store, which
    saves its snapshot files there (the restart rows read them)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.projections", "--child-memory", url],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    before, peak = json.loads(done.stdout)
    size = sum(path.stat().st_size for path in snapshots.glob("*.snap"))
    return Memory(backend, plan.tasks, plan.sessions, events, before, peak, size / 2**20)


def _child_restart(url: str) -> None:
    started = time.perf_counter()
    store = open_store(url)
    store.head()
    opened = time.perf_counter()
    clocks = Clocks()
    runner = ProjectionRunner(store)
    board = runner.catch_up()
    restored, restored_cpu = clocks.lap()
    assert not runner.notices, runner.notices
    assert board.position == store.head_position()
    assert all(status.snapshot_position == board.position for status in runner.status())
    store.close()
    print(json.dumps([opened - started, restored, restored_cpu]))


def _child_memory(url: str) -> None:
    store = open_store(url)
    store.head()
    before = _rss_mb()
    runner = ProjectionRunner(store, snapshots_for(store))
    runner.rebuild()
    store.close()
    print(json.dumps([before, _peak_rss_mb()]))


def _rss_mb() -> float:
    with Path("/proc/self/statm").open() as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mb() -> float:
    """This process image's high-water RSS (``VmHWM``; ``ru_maxrss`` would carry over
    the parent's peak across ``exec``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


# --- the run ------------------------------------------------------------------------


def measure(folder: Path, plan: Plan, *, postgres: bool = False) -> Figures:
    """Build the logs, then every contender side by side, in one run; with ``postgres``,
    PostgreSQL too, in a schema dropped at the end."""
    place = folder / "projections-pg"
    try:
        return _measure(folder, plan, place if postgres else None)
    finally:
        if postgres:
            pg.drop_schema(place)


def _measure(folder: Path, plan: Plan, place: Path | None) -> Figures:
    started = time.perf_counter()
    db_path, jsonl_path, events = build_logs(folder, plan)
    es_events = build_es(folder / "eventsourcing.db", plan)
    urls = {"jsonl": f"jsonl://{jsonl_path}", "sqlite": f"sqlite://{db_path}"}
    snapshots = {
        "jsonl": Path(f"{jsonl_path}.projections"),
        "sqlite": Path(f"{db_path}.projections"),
    }
    if place is not None:
        urls["postgresql"], loaded = build_postgres(db_path, place)
        assert loaded == events
        snapshots["postgresql"] = _server_snapshots(urls["postgresql"])
    build_s = time.perf_counter() - started
    openings = opening.measure(jsonl_path, db_path)
    rates = [
        floor_jsonl(jsonl_path),
        checked_walk(urls["jsonl"], "jsonl"),
        ledger_rebuild(urls["jsonl"], "jsonl"),
        floor_sqlite(db_path),
        checked_walk(urls["sqlite"], "sqlite"),
        ledger_rebuild(urls["sqlite"], "sqlite"),
    ]
    if place is not None:
        rates += [
            floor_postgres(urls["postgresql"]),
            checked_walk(urls["postgresql"], "postgresql"),
            ledger_rebuild(urls["postgresql"], "postgresql"),
        ]
    rates.append(es_read(folder / "eventsourcing.db"))
    assert rates[-1].events == es_events
    used = [memory(urls[name], name, plan, events, snapshots[name]) for name in urls]
    restarts = [restart(urls[name], name) for name in urls]
    parts = breakdown(
        db_path, urls["jsonl"], min(events, BREAKDOWN_RECORDS), urls.get("postgresql")
    )
    return Figures(events, build_s, rates, restarts, used, parts, openings, cores())


def _server_snapshots(url: str) -> Path:
    """Where a server store's snapshot files go on this host (its cache folder)."""
    store = open_store(url)
    try:
        path = local_base(store)
    finally:
        store.close()
    assert path is not None
    return path.with_name(path.name + ".projections")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.child_restart:
        _child_restart(args.child_restart)
        return 0
    if args.child_memory:
        _child_memory(args.child_memory)
        return 0
    plan = PLANS[args.size]
    with workdir(args.dir, "claims-bench-projections-") as folder:
        if args.postgres:
            # A server store keeps its snapshots in this host's cache: keep them in the folder.
            os.environ["XDG_CACHE_HOME"] = str(folder / "cache")
        figures = measure(folder, plan, postgres=args.postgres)
    print(f"== Projections: {figures.events:,} events (built in {figures.build_s:.0f} s)")
    print(render(figures))
    if args.json:
        Path(args.json).write_text(json.dumps(jsonable(figures), indent=2) + "\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.projections")
    parser.add_argument("--size", choices=sorted(PLANS), default="full")
    parser.add_argument("--dir", help="where the stores go (default: a fresh temporary folder)")
    parser.add_argument("--json", help="also write every figure to this JSON file")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="also load the log into PostgreSQL (CLAIMS_BENCH_POSTGRES) and read it from there",
    )
    parser.add_argument("--child-restart", help=argparse.SUPPRESS)
    parser.add_argument("--child-memory", help=argparse.SUPPRESS)
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
