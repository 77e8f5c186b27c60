"""The ``eventsourcing`` library doing the same work: read, change, save.

A plain aggregate ``EsTask`` with the same few events (registered, claimed,
heartbeat, released) in an ``Application`` with ``PERSISTENCE_MODULE`` set to
``eventsourcing.sqlite`` and ``SQLITE_DBNAME`` a file, or to ``eventsourcing.postgres``
with ``POSTGRES_*`` naming the server, database and schema when the place given is a
``postgresql://…?schema=NAME`` URL. A command reads the aggregate back from its
stored events (``repository.get``), triggers one event and saves it: one durable
append in one transaction, like a ledger operation.

Durability: the library sets WAL but no ``synchronous`` pragma, so its SQLite
connections run at SQLite's default; each writer reads the value back from the
library's own connection and the report shows it (2 is FULL, the ledger's default).
On PostgreSQL the report shows the connection's ``synchronous_commit`` and ``fsync``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.postgres import PostgresFactory
from eventsourcing.sqlite import SQLiteFactory

from bench.procs import Gate, Outcome, now_ns

SAVE_CHUNK = 500
SYNCHRONOUS_NAMES = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


class EsTask(Aggregate):
    """A task as the library would hold it."""

    @event("Registered")
    def __init__(self, title: str) -> None:
        self.title = title
        self.holder: str | None = None
        self.beats = 0

    @event("Claimed")
    def claim(self, session: str) -> None:
        self.holder = session

    @event("Heartbeat")
    def heartbeat(self, session: str) -> None:
        self.beats += 1

    @event("Released")
    def release(self, session: str, reason: str) -> None:
        self.holder = None


@dataclass(frozen=True)
class EsShare:
    path: str
    """A SQLite file, or a ``postgresql://…?schema=NAME`` URL."""
    session: str
    task_ids: tuple[str, ...]
    warmup: int
    cached: bool = False
    """Turn on the library's aggregate cache (off by default), as the ledger caches folds."""


def application(path: str, *, cached: bool = False, create: bool = True) -> Application[UUID]:
    """The library's application over a SQLite file or a PostgreSQL schema (which must
    exist: the library creates its table, type and function in it, not the schema);
    ``create=False`` skips that DDL, for writers of a store prepared already."""
    env = postgres_env(path) if is_postgres(path) else sqlite_env(path)
    env["CREATE_TABLE"] = "yes" if create else "no"
    if cached:
        env["AGGREGATE_CACHE_MAXSIZE"] = "100000"
    return Application[UUID](env=env)


def is_postgres(path: str) -> bool:
    return path.startswith(("postgresql://", "postgres://"))


def sqlite_env(path: str) -> dict[str, str]:
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": path,
        "SQLITE_LOCK_TIMEOUT": "30",
    }


def postgres_env(url: str) -> dict[str, str]:
    """``eventsourcing.postgres`` settings for ``postgresql://user[:pw]@host[:port]/db?schema=S``.

    One pooled connection per process (a writer runs one command at a time; the
    library's default opens five)."""
    parts = urlsplit(url)
    schema = parse_qs(parts.query).get("schema", [""])[-1]
    if not schema:
        raise ValueError(f"no ?schema= in {url!r}")
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")),
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_POOL_SIZE": "1",
        "POSTGRES_LOCK_TIMEOUT": "30",
    }


def prepare(
    path: Path, writers: int, cycles: int, warmup: int, *, cached: bool = False
) -> list[EsShare]:
    """Create every writer's aggregates (a few hundred per transaction)."""
    return prepare_at(str(path), writers, cycles, warmup, cached=cached)


def prepare_at(
    where: str, writers: int, cycles: int, warmup: int, *, cached: bool = False
) -> list[EsShare]:
    """``prepare`` for a SQLite file or a ``postgresql://…?schema=NAME`` URL."""
    app = application(where)
    shares = []
    for writer in range(writers):
        count = warmup + cycles
        tasks = [EsTask(title=f"Benchmark task w{writer}-t{index}") for index in range(count)]
        for offset in range(0, len(tasks), SAVE_CHUNK):
            app.save(*tasks[offset : offset + SAVE_CHUNK])
        ids = tuple(str(task.id) for task in tasks)
        shares.append(EsShare(where, f"bench-w{writer}", ids, warmup, cached))
    app.close()
    return shares


def run(share: EsShare, gate: Gate) -> Outcome:
    """In a writer process: warm-up, the starting line, then three commands per task."""
    app = application(share.path, cached=share.cached, create=False)
    note = durability(app)
    ids = [UUID(task_id) for task_id in share.task_ids]
    _cycles(app, share.session, ids[: share.warmup])
    gate.wait()
    start = now_ns()
    _cycles(app, share.session, ids[share.warmup :])
    end = now_ns()
    app.close()
    return Outcome(ops=3 * (len(ids) - share.warmup), start_ns=start, end_ns=end, note=note)


def _cycles(app: Application[UUID], session: str, ids: Sequence[UUID]) -> None:
    """Claim, heartbeat, release: each a read (``get``), a change and a ``save``."""
    for task_id in ids:
        task = _get(app, task_id)
        task.claim(session)
        app.save(task)
        task = _get(app, task_id)
        task.heartbeat(session)
        app.save(task)
        task = _get(app, task_id)
        task.release(session, "paused")
        app.save(task)


def durability(app: Application[UUID]) -> str:
    """The durability settings of the library's own write connection, for the report."""
    factory: Any = app.factory
    if isinstance(factory, PostgresFactory):
        with factory.datastore.get_connection() as connection:
            row = connection.execute(
                "SELECT current_setting('synchronous_commit') AS synchronous_commit,"
                " current_setting('fsync') AS fsync"
            ).fetchone()
        assert row is not None
        return f"synchronous_commit={row['synchronous_commit']}, fsync={row['fsync']}"
    return f"synchronous={synchronous_mode(app)}"


def synchronous_mode(app: Application[UUID]) -> str:
    """The ``synchronous`` pragma of the library's own write connection."""
    factory: Any = app.factory
    assert isinstance(factory, SQLiteFactory)
    with factory.datastore.get_connection(commit=True) as connection:
        cursor = connection.cursor()
        cursor.execute("PRAGMA synchronous")
        value = int(cursor.fetchone()[0])
    return f"{value} ({SYNCHRONOUS_NAMES.get(value, '?')})"


def _get(app: Application[UUID], task_id: UUID) -> EsTask:
    task: object = app.repository.get(task_id)
    assert isinstance(task, EsTask)
    return task
