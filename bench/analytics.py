"""Analytics benchmark: ``python -m bench.analytics [--sizes 1000000,10000000] [--dir DIR]``.

For each size N it builds a SQLite ledger of N + 100,000 real records (sealed into
the hash chain with ``ledger.codec.seal`` and inserted in big transactions; about
70% heartbeats), then measures, side by side in one run:

- bringing an empty analytics store up to date with the first N records;
- applying the last 100,000 records to it (an incremental update);
- ``stats`` (by session) and ``payout`` over the whole history, once up to date:
  the median of several calls through ``Analytics``, and one fresh ``claims stats
  --json`` process (imports, the checkpoint check, the query);
- the per-task-and-worker payout as ``claims payout --json`` writes it: rendered by
  DuckDB and read a page at a time (``Analytics.payout_pages``), every page read;
- the floor under the feed (``bench.checked_floor``): the checked read of the same
  records alone, DuckDB storing their ``events`` rows alone, and the rate the cores
  could do that work at, however it was shared between them;
- the same two figures from a pure-Python fold (``projections.analytics.reference``:
  read every record from the store, fold, compute), the baseline a user would write.

It checks that both sides agree before printing, and prints each figure of issue 15
against its goal (feed at least 500,000 events/s; the streamed per-task payout under
1 s at 10M events). Figures only; nothing asserts a speed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from bench.checked_floor import Floor, checked_read, cores, duckdb_events, goal_rows
from bench.stats import median
from bench.workdir import workdir
from ledger.codec import micros, seal
from ledger.events import (
    Claimed,
    Event,
    Expired,
    Heartbeat,
    Orphaned,
    Released,
    SessionStarted,
    TakenOver,
    TaskRegistered,
    TaskStatusChanged,
    session_stream,
    task_stream,
)
from ledger.records import GENESIS_HASH, NewEvent
from ledger.store.sqlite import SqliteStore
from projections.analytics import Analytics
from projections.analytics import reference as ref

T = TypeVar("T")
INCREMENT = 100_000
SESSIONS = 64
AGENTS = ("cli", "autonomous", "ci")
ROUND = 100
"""Tasks worked side by side: their heartbeats interleave in the log."""
BEATS = 8
MINUTE = timedelta(minutes=1)
TTL_MS = 30 * 60_000
INSERT_ROWS = 50_000
QUERY_RUNS = 5
FEED_GOAL_PER_S = 500_000
"""Issue 15: the feed from the ledger into DuckDB, events a second."""
PAYOUT_GOAL_S = 1.0
"""Issue 15: the per-task-and-worker payout at 10M events, seconds."""
_INSERT = (
    "INSERT INTO events (position, stream, version, event_id, type, recorded_us, hash, body)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_START = datetime(2026, 1, 1, tzinfo=UTC)
Entry = tuple[str, str, Event, datetime]
"""``(actor, stream, event, occurred_at)``."""


@dataclass(frozen=True)
class Figures:
    """One size's measurements, in seconds."""

    events: int
    build_s: float
    feed_from_empty_s: float
    feed_increment_s: float
    increment: int
    stats_s: float
    payout_s: float
    payout_stream_s: float
    """The per-task list rendered by DuckDB and read page by page (what ``--json`` writes)."""
    payout_totals_s: float
    cli_stats_s: float
    python_read_fold_s: float
    python_stats_s: float
    python_payout_s: float
    analytics_mb: float
    claims: int
    finished_tasks: int
    walk: Floor
    """The checked read of the same records alone (``bench.checked_floor``)."""
    duck: Floor
    """DuckDB storing their ``events`` rows alone."""
    cores: int

    @property
    def events_per_s(self) -> float:
        return self.events / self.feed_from_empty_s

    @property
    def python_total_stats_s(self) -> float:
        return self.python_read_fold_s + self.python_stats_s

    @property
    def python_total_payout_s(self) -> float:
        return self.python_read_fold_s + self.python_payout_s


# --- the ledger ------------------------------------------------------------------


def build_log(path: Path, events: int) -> int:
    """Write exactly ``events`` records to a new SQLite ledger at ``path``."""
    SqliteStore(path).close()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -1000000")
    rows = _rows(itertools.islice(_history(), events))
    written = 0
    while chunk := list(itertools.islice(rows, INSERT_ROWS)):
        db.execute("BEGIN IMMEDIATE")
        db.executemany(_INSERT, chunk)
        db.execute("COMMIT")
        written += len(chunk)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return written


def _history() -> Iterator[Entry]:
    """Sessions, then rounds of tasks: registered, claimed, heartbeated, and ended
    the way real work ends: mostly completed, some taken over by force, some
    expired and claimed again, some orphaned, some paused."""
    for index in range(SESSIONS):
        started = SessionStarted(session_id=f"s{index}", agent_type=AGENTS[index % len(AGENTS)])
        yield f"s{index}", session_stream(f"s{index}"), started, _START
    for number in itertools.count():
        yield from _round(number)


def _round(number: int) -> Iterator[Entry]:
    when = _START + timedelta(hours=number)
    tasks = [f"task-{number}-{index}" for index in range(ROUND)]
    holders = [f"s{(number + index) % SESSIONS}" for index in range(ROUND)]
    for task_id, session in zip(tasks, holders, strict=True):
        yield "bench", task_stream(task_id), TaskRegistered(task_id=task_id, title=task_id), when
        yield session, task_stream(task_id), _claim(task_id, session, 2, when), when
    for beat in range(1, BEATS + 1):
        moment = when + beat * MINUTE
        for task_id, session in zip(tasks, holders, strict=True):
            yield session, task_stream(task_id), _beat(task_id, session, 2, moment), moment
    end = when + (BEATS + 2) * MINUTE
    for index, (task_id, session) in enumerate(zip(tasks, holders, strict=True)):
        yield from _ending(index % 20, task_id, session, end)


def _ending(variant: int, task_id: str, session: str, when: datetime) -> Iterator[Entry]:
    stream = task_stream(task_id)
    other = f"s{(int(session[1:]) + 1) % SESSIONS}"
    if variant == 16:
        takeover = TakenOver(
            task_id=task_id,
            from_session=session,
            to_session=other,
            previous_token=2,
            fencing_token=11,
            handoff_reason="stuck",
            forced=True,
            forced_by="lead",
            ttl_ms=TTL_MS,
            expires_at=when + 30 * MINUTE,
        )
        yield "lead", stream, takeover, when
        yield from _complete(task_id, other, 11, when + 5 * MINUTE)
    elif variant == 17:
        lapsed = when - MINUTE
        yield (
            "sweeper",
            stream,
            Expired(task_id=task_id, session_id=session, fencing_token=2, expired_at=lapsed),
            when,
        )
        yield other, stream, _claim(task_id, other, 12, when), when
        yield from _complete(task_id, other, 12, when + 3 * MINUTE)
    elif variant == 18:
        orphan = Orphaned(
            task_id=task_id, session_id=session, fencing_token=2, reason="heartbeat_timeout"
        )
        yield "sweeper", stream, orphan, when
    elif variant == 19:
        yield (
            session,
            stream,
            Released(task_id=task_id, session_id=session, fencing_token=2, reason="paused"),
            when,
        )
    else:
        yield from _complete(task_id, session, 2, when)


def _complete(task_id: str, session: str, token: int, when: datetime) -> Iterator[Entry]:
    stream = task_stream(task_id)
    yield session, stream, _beat(task_id, session, token, when - MINUTE), when - MINUTE
    released = Released(
        task_id=task_id, session_id=session, fencing_token=token, reason="completed"
    )
    yield session, stream, released, when
    yield (
        session,
        stream,
        TaskStatusChanged(task_id=task_id, status="done", previous="in_progress"),
        when,
    )


def _claim(task_id: str, session: str, token: int, when: datetime) -> Claimed:
    agent = AGENTS[int(session[1:]) % len(AGENTS)]
    return Claimed(
        task_id=task_id,
        session_id=session,
        fencing_token=token,
        ttl_ms=TTL_MS,
        expires_at=when + 30 * MINUTE,
        agent_type=agent,
    )


def _beat(task_id: str, session: str, token: int, when: datetime) -> Heartbeat:
    return Heartbeat(
        task_id=task_id,
        session_id=session,
        fencing_token=token,
        extend_ms=TTL_MS,
        expires_at=when + 30 * MINUTE,
    )


def _rows(entries: Iterator[Entry]) -> Iterator[tuple[object, ...]]:
    """Each entry sealed into the chain, as the row the SQLite store would insert.
    A release and the status change after it are one append (``more`` = 1), and
    ``recorded_at`` never goes back (S7)."""
    versions: dict[str, int] = {}
    prev_hash = GENESIS_HASH
    recorded = _START
    pairs = itertools.pairwise(itertools.chain(entries, [None]))
    for position, (current, following) in enumerate(pairs, start=1):
        assert current is not None
        actor, stream, event, when = current
        versions[stream] = version = versions.get(stream, 0) + 1
        recorded = max(recorded, when)
        closing = following is not None and isinstance(following[2], TaskStatusChanged)
        new = NewEvent(data=event, occurred_at=when, actor=actor, correlation_id="bench")
        record, body = seal(
            new,
            position=position,
            stream=stream,
            version=version,
            recorded_at=recorded,
            prev_hash=prev_hash,
            more=int(isinstance(event, Released) and closing),
        )
        prev_hash = record.hash
        row = (position, stream, version, record.event_id, record.type, micros(recorded))
        yield (*row, prev_hash, body)


# --- measuring -------------------------------------------------------------------------


def measure(
    folder: Path,
    size: int,
    *,
    increment: int = INCREMENT,
    reuse: bool = False,
    say: Callable[[str], None] = print,
) -> Figures:
    """Build a ledger of ``size + increment`` records (or reuse one built before)
    and time everything on it."""
    log = folder / f"analytics-bench-{size}.db"
    build_s = 0.0
    if not (reuse and _holds(log, size + increment)):
        log.unlink(missing_ok=True)
        build_s, _ = _timed(lambda: build_log(log, size + increment))
        say(f"  built {size + increment:,} records in {build_s:.1f} s")
    target = folder / f"analytics-bench-{size}.db.analytics.duckdb"
    target.unlink(missing_ok=True)
    store = SqliteStore(log)
    try:
        with Analytics(str(target)) as analytics:
            feed_s, _ = _timed(lambda: analytics.update(store, until=size))
            say(f"  fed {size:,} records from empty in {feed_s:.1f} s")
            increment_s, _ = _timed(lambda: analytics.update(store))
            stats_s, found = _best(lambda: analytics.stats(by="session"))
            payout_s, paid = _best(lambda: analytics.payout())
            stream_s, streamed = _best(lambda: _read_pages(analytics))
            totals_s, _ = _best(lambda: analytics.payout(detail=False))
        cli_s = _cli_stats(log, target)
        walk = checked_read(store, until=size)
        say(f"  checked read alone: {walk.per_s:,.0f} events/s")
        duck = duckdb_events(store, until=size)
        say(f"  DuckDB storing the events alone: {duck.per_s:,.0f} events/s")
        read_fold_s, fold = _timed(lambda: ref.ReferenceFold().run(store.read_all()))
        python_stats_s, python_found = _timed(lambda: ref.stats(fold, by="session"))
        python_payout_s, python_paid = _timed(lambda: ref.payout(fold))
    finally:
        store.close()
    if found != python_found or not ref.same_payout(paid, python_paid):
        raise SystemExit("DuckDB and the pure-Python fold disagree: not a benchmark, a bug")
    if streamed != sum(len(task.workers) for task in paid.tasks):
        raise SystemExit("the streamed payout does not hold every share: not a benchmark, a bug")
    return Figures(
        events=size,
        build_s=build_s,
        feed_from_empty_s=feed_s,
        feed_increment_s=increment_s,
        increment=increment,
        stats_s=stats_s,
        payout_s=payout_s,
        payout_stream_s=stream_s,
        payout_totals_s=totals_s,
        cli_stats_s=cli_s,
        python_read_fold_s=read_fold_s,
        python_stats_s=python_stats_s,
        python_payout_s=python_payout_s,
        analytics_mb=target.stat().st_size / 1e6,
        claims=found.total.claims,
        finished_tasks=len(paid.tasks),
        walk=walk,
        duck=duck,
        cores=cores(),
    )


def _read_pages(analytics: Analytics) -> int:
    """Read the streamed per-task payout to its end; returns how many task-and-worker
    rows it held."""
    return sum(len(page) for page in analytics.payout_pages("json"))


def _holds(log: Path, records: int) -> bool:
    if not log.exists():
        return False
    store = SqliteStore(log)
    try:
        return store.head().position == records
    finally:
        store.close()


def _timed(work: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def _best(work: Callable[[], T]) -> tuple[float, T]:
    """The median time of a few calls, and the last result."""
    times = []
    result: T | None = None
    for _ in range(QUERY_RUNS):
        elapsed, result = _timed(work)
        times.append(elapsed)
    assert result is not None
    return median(times), result


def _cli_stats(log: Path, target: Path) -> float:
    """One fresh ``claims stats --json`` process over the up-to-date store."""
    command = [str(Path(sys.executable).with_name("claims"))]
    if not Path(command[0]).exists():
        command = [sys.executable, "-m", "cli"]
    args = [*command, "--db", f"sqlite://{log}", "stats", "--analytics", str(target), "--json"]
    elapsed, done = _timed(lambda: subprocess.run(args, capture_output=True, check=False))
    if done.returncode != 0:
        raise SystemExit(f"claims stats failed: {done.stderr.decode()[-500:]}")
    return elapsed


# --- reporting -------------------------------------------------------------------------


def table(row: Figures) -> str:
    """One size's figures, DuckDB and the pure-Python fold side by side."""
    python = row.python_read_fold_s
    lines = [
        f"| {row.events:,} events | DuckDB | pure-Python fold | DuckDB faster by |",
        "|---|---:|---:|---:|",
        f"| build the ledger (not timed below) | {_built(row.build_s)} | | |",
        f"| up to date from empty | {row.feed_from_empty_s:.1f} s"
        f" ({row.events_per_s / 1000:.0f}k events/s) | {python:.1f} s (read + fold) | |",
        f"| apply {row.increment:,} new events | {row.feed_increment_s:.2f} s"
        f" | {python:.1f} s (all again) | |",
        _pair("stats by session (whole history)", row.stats_s, python + row.python_stats_s),
        _pair("payout, per task and worker", row.payout_s, python + row.python_payout_s),
        _pair(
            "payout, per task and worker, streamed",
            row.payout_stream_s,
            python + row.python_payout_s,
        ),
        _pair("payout, totals per worker", row.payout_totals_s, python + row.python_payout_s),
        f"| `claims stats --json`, fresh process | {_ms(row.cli_stats_s)} | | |",
        f"| analytics file | {row.analytics_mb:.0f} MB | | |",
    ]
    return "\n".join(lines)


def goals(row: Figures) -> str:
    """Issue 15's goals for this size: each figure, its ratio to the goal, met or missed."""
    feed = row.events_per_s
    stream = row.payout_stream_s
    lines = [
        f"| {row.events:,} events: issue 15 goal | measured | goal | ratio | |",
        "|---|---:|---:|---:|---|",
        f"| feed into DuckDB from empty | {feed:,.0f} events/s | {FEED_GOAL_PER_S:,} events/s"
        f" | {feed / FEED_GOAL_PER_S:.2f} | {_verdict(feed >= FEED_GOAL_PER_S)} |",
        *goal_rows(FEED_GOAL_PER_S, row.cores, row.walk, row.duck),
        f"| payout per task and worker, streamed | {_ms(stream)} | {_ms(PAYOUT_GOAL_S)}"
        f" | {stream / PAYOUT_GOAL_S:.2f} | {_verdict(stream < PAYOUT_GOAL_S)} |",
    ]
    return "\n".join(lines)


def _verdict(ok: bool) -> str:
    return "met" if ok else "missed"


def _built(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds else "reused"


def _pair(label: str, duck: float, python: float) -> str:
    return f"| {label} | {_ms(duck)} | {_ms(python)} | {python / duck:,.0f}x |"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.analytics", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--sizes", default="1000000,10000000", help="comma-separated event counts")
    parser.add_argument("--increment", type=int, default=INCREMENT)
    parser.add_argument("--dir", help="where the ledgers go (default: a temporary folder)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument(
        "--reuse", action="store_true", help="reuse ledgers of the right size left in --dir"
    )
    args = parser.parse_args(argv)
    sizes = [int(part.replace("_", "")) for part in args.sizes.split(",") if part]
    print(f"analytics benchmark: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    with workdir(args.dir, "claims-analytics-bench-") as folder:
        results = []
        for size in sizes:
            print(f"== {size:,} events", flush=True)
            results.append(measure(folder, size, increment=args.increment, reuse=args.reuse))
    for row in results:
        print(table(row))
        print(goals(row))
        print(f"({row.claims:,} claims, {row.finished_tasks:,} finished tasks)")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(row) for row in results], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
