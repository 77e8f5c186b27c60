"""Build a large, valid SQLite log fast: real records, sealed in big transactions.

The records are what the service would have written (sessions started, tasks
registered, claimed, heartbeated seven times and released), each sealed with
``ledger.codec.seal`` into the hash chain and inserted 50,000 to a transaction with
``synchronous=OFF``. Only the building is fast; the benchmark then opens the file
with the default ``synchronous=FULL``. A "hot" task can be heartbeated many times,
its heartbeats spread over the whole log as a long-running agent's would be.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ledger.codec import micros, seal
from ledger.events import (
    Claimed,
    Event,
    Heartbeat,
    Released,
    SessionStarted,
    TaskRegistered,
    session_stream,
    task_stream,
)
from ledger.records import GENESIS_HASH, NewEvent
from ledger.store.sqlite import SqliteStore

TASK_EVENTS = 10  # registered, claimed, 7 heartbeats, released
BATCH_TASKS = 100
SESSIONS = 8
TTL_MS = 30 * 60_000
INSERT_ROWS = 50_000
HOT_TASK = "hot-task"
HOT_SESSION = "seed-hot"
Entry = tuple[str, str, Event]
"""``(actor, stream, event)``."""
_START = datetime.now(UTC) - timedelta(days=2)
_EXPIRES = _START + timedelta(days=1)
_INSERT = (
    "INSERT INTO events (position, stream, version, event_id, type, recorded_us, hash, body)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class SeededLog:
    path: Path
    events: int
    tasks: tuple[str, ...]
    hot_task: str | None


def build(path: Path, *, events: int, hot_beats: int = 0) -> SeededLog:
    """Write exactly ``events`` records to a new SQLite log at ``path``."""
    SqliteStore(path, synchronous="NORMAL").close()
    hot = hot_beats + 4 if hot_beats else 0  # its session, registered, claimed, released
    tasks = max(1, (events - SESSIONS - hot) // TASK_EVENTS)
    sessions = max(SESSIONS, events - hot - tasks * TASK_EVENTS)
    task_ids = tuple(f"seed-{index}" for index in range(tasks))
    written = _write(path, _events(task_ids, sessions, hot_beats), start=_START)
    return SeededLog(path, written, task_ids, HOT_TASK if hot_beats else None)


def _events(task_ids: tuple[str, ...], sessions: int, hot_beats: int) -> Iterator[Entry]:
    """``(actor, stream, event)`` in log order."""
    for index in range(sessions):
        yield _session(f"seed-s{index}")
    if hot_beats:
        yield _session(HOT_SESSION)
        yield from _opening(HOT_TASK, HOT_SESSION)
    batches = [task_ids[i : i + BATCH_TASKS] for i in range(0, len(task_ids), BATCH_TASKS)]
    due = _spread(hot_beats, len(batches))
    for number, batch in enumerate(batches):
        yield from _batch(batch, f"seed-s{number % SESSIONS}")
        for _ in range(due[number]):
            yield _beat(HOT_TASK, HOT_SESSION)
    if hot_beats:
        yield _released(HOT_TASK, HOT_SESSION)


def _batch(batch: tuple[str, ...], session: str) -> Iterator[Entry]:
    for task_id in batch:
        yield from _opening(task_id, session)
    for _ in range(TASK_EVENTS - 3):
        for task_id in batch:
            yield _beat(task_id, session)
    for task_id in batch:
        yield _released(task_id, session)


def _opening(task_id: str, session: str) -> Iterator[Entry]:
    title = f"Seeded task {task_id}"
    stream = task_stream(task_id)
    yield "seed", stream, TaskRegistered(task_id=task_id, title=title, roi=1.0)
    yield (
        session,
        stream,
        Claimed(
            task_id=task_id,
            session_id=session,
            fencing_token=2,
            ttl_ms=TTL_MS,
            expires_at=_EXPIRES,
            agent_type="bench",
        ),
    )


def _beat(task_id: str, session: str) -> Entry:
    event = Heartbeat(
        task_id=task_id, session_id=session, fencing_token=2, extend_ms=TTL_MS, expires_at=_EXPIRES
    )
    return session, task_stream(task_id), event


def _released(task_id: str, session: str) -> Entry:
    event = Released(task_id=task_id, session_id=session, fencing_token=2, reason="paused")
    return session, task_stream(task_id), event


def _session(session: str) -> Entry:
    event = SessionStarted(session_id=session, agent_type="bench", host="seed")
    return session, session_stream(session), event


def _spread(total: int, slots: int) -> list[int]:
    """``total`` split over ``slots`` as evenly as possible."""
    base, extra = divmod(total, max(1, slots))
    return [base + (1 if slot < extra else 0) for slot in range(max(1, slots))]


def _write(path: Path, entries: Iterator[Entry], *, start: datetime) -> int:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -1000000")  # 1 GB: random event ids stay in cache
    rows = _rows(entries, start)
    written = 0
    while chunk := list(itertools.islice(rows, INSERT_ROWS)):
        _insert(db, chunk)
        written += len(chunk)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return written


def _rows(entries: Iterator[Entry], start: datetime) -> Iterator[tuple[object, ...]]:
    """Each entry sealed into the chain, as the ``events`` row the store would insert."""
    versions: dict[str, int] = {}
    prev_hash = GENESIS_HASH
    for position, (actor, stream, event) in enumerate(entries, start=1):
        versions[stream] = version = versions.get(stream, 0) + 1
        when = start + timedelta(milliseconds=position)
        new = NewEvent(data=event, occurred_at=when, actor=actor, correlation_id="seed")
        record, body = seal(
            new,
            position=position,
            stream=stream,
            version=version,
            recorded_at=when,
            prev_hash=prev_hash,
        )
        prev_hash = record.hash
        yield position, stream, version, record.event_id, record.type, micros(when), prev_hash, body


def _insert(db: sqlite3.Connection, rows: Sequence[tuple[object, ...]]) -> None:
    db.execute("BEGIN IMMEDIATE")
    db.executemany(_INSERT, rows)
    db.execute("COMMIT")
