"""The log the projection benchmarks read: sealed once, written as SQLite and JSONL.

Sessions started, then tasks in interleaved batches of 100, each registered,
claimed, heartbeated five or six times and finished (80% released as completed and
marked done, 10% expired and claimed again, 10% taken over by force); the same task
lives as ``eventsourcing`` aggregates (``build_es``), and the SQLite rows copied into a
PostgreSQL schema (``build_postgres``). Used by ``bench.projections`` and
``bench.rebuild_parts``.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import postgres as pg
from bench.bare import pg_connect
from bench.es_app import EsTask, application
from ledger.codec import micros, seal
from ledger.events import (
    Claimed,
    Event,
    Expired,
    Heartbeat,
    Released,
    SessionStarted,
    TakenOver,
    TaskRegistered,
    TaskStatusChanged,
    session_stream,
    task_stream,
)
from ledger.records import GENESIS_HASH, NewEvent
from ledger.store.factory import open_store
from ledger.store.rows import COLUMNS
from ledger.store.sqlite import SqliteStore

BATCH_TASKS = 100
TICK = timedelta(milliseconds=1)
START = datetime(2026, 1, 1, tzinfo=UTC)
INSERT_ROWS = 50_000
CHUNK = 4 << 20
ES_SAVE_TASKS = 500
_INSERT = (
    "INSERT INTO events (position, stream, version, event_id, type, recorded_us, hash, body)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
Entry = tuple[str, str, Event]
"""``(actor, stream, event)``."""


@dataclass(frozen=True)
class Plan:
    tasks: int
    sessions: int


PLANS = {"smoke": Plan(tasks=2_000, sessions=20), "full": Plan(tasks=100_000, sessions=1_000)}


# --- the logs ---------------------------------------------------------------------


def build_logs(folder: Path, plan: Plan) -> tuple[Path, Path, int]:
    """Seal the log once; write it as a SQLite store and as a JSONL store."""
    db_path, jsonl_path = folder / "projections.db", folder / "projections.jsonl"
    SqliteStore(db_path, synchronous="NORMAL").close()
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA synchronous = OFF")
    written = 0
    with jsonl_path.open("wb") as jsonl:
        rows = _sealed(_entries(plan))
        while chunk := list(itertools.islice(rows, INSERT_ROWS)):
            db.execute("BEGIN IMMEDIATE")
            db.executemany(_INSERT, [row for row, _ in chunk])
            db.execute("COMMIT")
            jsonl.write(b"".join(body + b"\n" for _, body in chunk))
            written += len(chunk)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return db_path, jsonl_path, written


def _entries(plan: Plan) -> Iterator[Entry]:
    sessions = [f"agent-{n}" for n in range(plan.sessions)]
    for session in sessions:
        yield session, session_stream(session), SessionStarted(session_id=session, host="bench")
    task_ids = [f"task-{n}" for n in range(plan.tasks)]
    for first in range(0, len(task_ids), BATCH_TASKS):
        batch = task_ids[first : first + BATCH_TASKS]
        lives = [_life(task, n + first, sessions) for n, task in enumerate(batch)]
        for step in range(max(len(life) for life in lives)):
            for life in lives:
                if step < len(life):
                    yield life[step]


def _life(task: str, number: int, sessions: list[str]) -> list[Entry]:
    """A task's ten records: mostly completed, some expired and re-claimed, some taken over."""
    holder, other = sessions[number % len(sessions)], sessions[(number + 7) % len(sessions)]
    stream = task_stream(task)
    far = START + timedelta(days=1)
    life: list[Event] = [
        TaskRegistered(task_id=task, title=f"Task {task}", roi=float(number % 7)),
        Claimed(task_id=task, session_id=holder, fencing_token=2, ttl_ms=1_800_000, expires_at=far),
    ]
    beat = Heartbeat(
        task_id=task, session_id=holder, fencing_token=2, extend_ms=1_800_000, expires_at=far
    )
    if number % 10 == 8:
        life += [beat] * 5
        life.append(Expired(task_id=task, session_id=holder, fencing_token=2, expired_at=far))
        life.append(
            Claimed(task_id=task, session_id=other, fencing_token=9, ttl_ms=600_000, expires_at=far)
        )
        life.append(Released(task_id=task, session_id=other, fencing_token=9, reason="paused"))
    elif number % 10 == 9:
        life += [beat] * 5
        life.append(_takeover(task, holder, other, far))
        life.append(
            Heartbeat(
                task_id=task, session_id=other, fencing_token=8, extend_ms=600_000, expires_at=far
            )
        )
        life.append(Released(task_id=task, session_id=other, fencing_token=8, reason="completed"))
    else:
        life += [beat] * 6
        life.append(Released(task_id=task, session_id=holder, fencing_token=2, reason="completed"))
        life.append(TaskStatusChanged(task_id=task, status="done", previous="todo"))
    return [(holder, stream, event) for event in life]


def _takeover(task: str, holder: str, other: str, far: datetime) -> TakenOver:
    return TakenOver(
        task_id=task,
        from_session=holder,
        to_session=other,
        previous_token=2,
        fencing_token=8,
        handoff_reason="stuck",
        forced=True,
        forced_by="ops",
        ttl_ms=600_000,
        expires_at=far,
    )


def _sealed(entries: Iterator[Entry]) -> Iterator[tuple[tuple[object, ...], bytes]]:
    """Each entry sealed into the chain: the SQLite row and the stored bytes."""
    versions: dict[str, int] = {}
    prev_hash = GENESIS_HASH
    for position, (actor, stream, event) in enumerate(entries, start=1):
        versions[stream] = version = versions.get(stream, 0) + 1
        when = START + position * TICK
        new = NewEvent(data=event, occurred_at=when, actor=actor, correlation_id="bench")
        record, body = seal(
            new,
            position=position,
            stream=stream,
            version=version,
            recorded_at=when,
            prev_hash=prev_hash,
        )
        prev_hash = record.hash
        row = (position, stream, version, record.event_id, record.type, micros(when), prev_hash)
        yield (*row, body), body


def build_es(path: Path, plan: Plan) -> int:
    """The same task lives as ``EsTask`` aggregates, saved in chunks; returns the events."""
    app = application(str(path))
    events = 0
    for first in range(0, plan.tasks, ES_SAVE_TASKS):
        tasks = []
        for number in range(first, min(first + ES_SAVE_TASKS, plan.tasks)):
            task = EsTask(title=f"Task task-{number}")
            session = f"agent-{number % plan.sessions}"
            task.claim(session)
            for _ in range(7):
                task.heartbeat(session)
            task.release(session, "completed")
            tasks.append(task)
        app.save(*tasks)
        events += 10 * len(tasks)
    app.close()
    return events


def build_postgres(db_path: Path, place: Path) -> tuple[str, int]:
    """A fresh schema holding the SQLite log's rows, byte for byte, loaded with ``COPY``
    (the store's own migrations make the table), then ``VACUUM (ANALYZE)`` as
    autovacuum would leave it; returns the store URL and the rows loaded."""
    pg.create_schema(place)
    url = pg.url_for(place)
    open_store(url).close()
    source = sqlite3.connect(db_path)
    loaded = 0
    with pg_connect(url) as conn:
        with conn.cursor() as cursor, cursor.copy(f"COPY events ({COLUMNS}) FROM STDIN") as copy:
            for row in source.execute(f"SELECT {COLUMNS} FROM events ORDER BY position"):
                copy.write_row(row)
                loaded += 1
        conn.execute("VACUUM (ANALYZE) events")
    source.close()
    return url, loaded
