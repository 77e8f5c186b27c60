"""The raw limits: one durable append per transaction, with no ledger on top.

- ``sqlite3`` in the ledger's settings (WAL, ``synchronous`` FULL unless asked,
  ``BEGIN IMMEDIATE``, a 30 s busy timeout), one row per transaction, either into
  a plain ``(id, body)`` table (the floor of one B-tree) or into the ledger's own
  ``events`` table (the same four B-trees a ledger append updates);
- JSONL: take the exclusive ``flock``, ``write`` one line, ``fsync``, unlock;
- PostgreSQL (psycopg, autocommit): one ``INSERT`` into a plain
  ``(id BIGSERIAL, body BYTEA)`` table per statement, so one round trip and one
  commit (a WAL flush at the server's ``synchronous_commit``) per append.

Rows and lines carry a body the size of a sealed heartbeat record.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import psycopg

from bench.procs import Gate, Outcome, now_ns
from ledger.store.sqlite import SqliteStore

BODY_BYTES = 600
PLAIN_TABLE = "CREATE TABLE IF NOT EXISTS plain (id INTEGER PRIMARY KEY, body BLOB NOT NULL)"
PLAIN_INSERT = "INSERT INTO plain (body) VALUES (?)"
PG_PLAIN_TABLE = "CREATE TABLE plain (id BIGSERIAL PRIMARY KEY, body BYTEA NOT NULL)"
PG_PLAIN_INSERT = "INSERT INTO plain (body) VALUES (%s)"
EVENTS_INSERT = (
    "INSERT INTO events (stream, version, event_id, type, recorded_us, hash, body)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class BareShare:
    """One writer's part of a bare loop."""

    path: str
    writer: int
    appends: int
    warmup: int
    schema: str = "plain"
    synchronous: str = "FULL"


def prepare_sqlite(path: Path, schema: str) -> None:
    """Create the table: a plain one, or the ledger's through its own migrations."""
    if schema == "events":
        SqliteStore(path, synchronous="NORMAL").close()
        return
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute(PLAIN_TABLE)
    db.close()


def run_sqlite(share: BareShare, gate: Gate) -> Outcome:
    db = sqlite3.connect(share.path, isolation_level=None, timeout=30.0)
    db.execute("PRAGMA busy_timeout = 30000")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute(f"PRAGMA synchronous = {share.synchronous}")
    rows = _rows(share)
    sql = EVENTS_INSERT if share.schema == "events" else PLAIN_INSERT
    _insert_each(db, sql, rows[: share.warmup])
    gate.wait()
    start = now_ns()
    _insert_each(db, sql, rows[share.warmup :])
    end = now_ns()
    db.close()
    return Outcome(ops=share.appends, start_ns=start, end_ns=end)


def _insert_each(db: sqlite3.Connection, sql: str, rows: Sequence[tuple[object, ...]]) -> None:
    """One row per ``BEGIN IMMEDIATE`` ... ``COMMIT`` transaction."""
    for row in rows:
        db.execute("BEGIN IMMEDIATE")
        db.execute(sql, row)
        db.execute("COMMIT")


def run_jsonl(share: BareShare, gate: Gate) -> Outcome:
    fd = os.open(share.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
    line = b'{"body":"' + b"x" * (BODY_BYTES - 12) + b'"}\n'
    _append_each(fd, line, share.warmup)
    gate.wait()
    start = now_ns()
    _append_each(fd, line, share.appends)
    end = now_ns()
    os.close(fd)
    return Outcome(ops=share.appends, start_ns=start, end_ns=end)


def _append_each(fd: int, line: bytes, count: int) -> None:
    """Lock, write one line, fsync, unlock; ``count`` times."""
    for _ in range(count):
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line)
        os.fsync(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)


def prepare_postgres(url: str) -> None:
    """Create the plain table in the (existing) schema ``url`` names."""
    with pg_connect(url) as conn:
        conn.execute(PG_PLAIN_TABLE)


def run_postgres(share: BareShare, gate: Gate) -> Outcome:
    """``share.path`` is a ``postgresql://…?schema=NAME`` URL."""
    with pg_connect(share.path) as conn:
        body = os.urandom(BODY_BYTES)
        _pg_insert_each(conn, body, share.warmup)
        gate.wait()
        start = now_ns()
        _pg_insert_each(conn, body, share.appends)
        end = now_ns()
    return Outcome(ops=share.appends, start_ns=start, end_ns=end)


def pg_connect(url: str) -> psycopg.Connection[tuple[Any, ...]]:
    """An autocommit connection working in the URL's ``?schema=``."""
    parts = urlsplit(url)
    schema = parse_qs(parts.query)["schema"][-1]
    conninfo = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    conn = psycopg.connect(conninfo, autocommit=True)
    conn.execute("SELECT set_config('search_path', %s, false)", (schema,))
    return conn


def _pg_insert_each(conn: psycopg.Connection[tuple[Any, ...]], body: bytes, count: int) -> None:
    """One row per statement, each its own transaction (autocommit)."""
    for _ in range(count):
        conn.execute(PG_PLAIN_INSERT, (body,))


def _rows(share: BareShare) -> list[tuple[object, ...]]:
    """Every row's parameters (warm-up rows first), built before the clock starts."""
    body = os.urandom(BODY_BYTES)
    total = share.warmup + share.appends
    if share.schema != "events":
        return [(body,) for _ in range(total)]
    digest = "a" * 64
    return [
        (
            f"task-w{share.writer}-t{index // 3}",
            index % 3 + 1,
            uuid.uuid4().hex,
            "heartbeat",
            1_700_000_000_000_000 + index,
            digest,
            body,
        )
        for index in range(total)
    ]
