"""PostgreSQL (issue 6): claim+release cycles with 1, 4 and 16 writer processes.

``python -m bench --only postgres [--size smoke|full]``. In one run, side by side,
each with 1, 4 and 16 writer processes that start together (``bench.procs``):

- **ledger, PostgreSQL**: ``ClaimService`` over ``open_store("postgresql://…?schema=S")``,
  the same cycles as the SQLite rows (``bench.ledger_cycles``): claim, heartbeat,
  release, three durable appends;
- **ledger, SQLite FULL**: the embedded store, as in the throughput section;
- **eventsourcing, PostgreSQL recorder**: the library's ``eventsourcing.postgres``
  persistence doing the same read-change-save commands (``bench.es_app``);

then two 1-writer references that say where a PostgreSQL append's time goes: the
ledger with ``synchronous_commit=off`` for its connections (no wait for the WAL flush
at commit) and a bare psycopg loop of one-row ``INSERT`` statements in autocommit
(one round trip and one WAL flush each); and the round trip of ``SELECT 1``.

Every PostgreSQL run gets a fresh schema, created before and dropped after it. The
server is ``CLAIMS_BENCH_POSTGRES`` (default: this machine's test server). Figures
only; nothing here asserts a speed.
"""

from __future__ import annotations

import os
import re
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import sql

from bench import bare, es_app, ledger_cycles, report, throughput
from bench.ledger_cycles import OPS_PER_CYCLE
from bench.throughput import Contender, Throughput

SERVER = os.environ.get("CLAIMS_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
WRITERS = (1, 4, 16)
PREFIX = "bench_"
ASYNC_COMMIT = "options=" + quote("-csynchronous_commit=off")
"""libpq's ``options``: every connection of the store commits without waiting for the flush."""
PINGS = 2_000


@dataclass(frozen=True)
class Size:
    name: str
    cycles: dict[int, int]
    """Timed cycles (three appends each) per writer, by writer count."""
    warmup: int
    """Untimed cycles per writer before the starting line."""
    rounds: int

    def per_writer(self, writers: int) -> int:
        return self.cycles[writers]


SIZES = {
    "smoke": Size("smoke", {1: 20, 4: 8, 16: 3}, warmup=2, rounds=1),
    "full": Size("full", {1: 1_500, 4: 500, 16: 150}, warmup=50, rounds=3),
}


@dataclass(frozen=True)
class Figures:
    throughput: list[Throughput]
    ping_us: float
    """Median round trip of ``SELECT 1`` on one connection."""
    settings: dict[str, str]


def contenders() -> list[Contender]:
    """Ledger PostgreSQL, ledger SQLite FULL and eventsourcing PostgreSQL with 1, 4 and 16
    writers, then the 1-writer references."""
    found: list[Contender] = []
    for writers in WRITERS:
        found += [
            Contender(
                "ledger-postgres",
                "ledger, PostgreSQL",
                writers,
                "",
                _ledger(""),
                ledger_cycles.run,
                drop_schema,
            ),
            throughput.by_key("ledger-sqlite", writers),
            Contender(
                "eventsourcing-postgres",
                "eventsourcing, PostgreSQL recorder",
                writers,
                "",
                _es,
                es_app.run,
                drop_schema,
            ),
        ]
    references = [
        Contender(
            "ledger-postgres-async",
            "ledger, PostgreSQL, synchronous_commit=off",
            1,
            "",
            _ledger(ASYNC_COMMIT),
            ledger_cycles.run,
            drop_schema,
        ),
        Contender(
            "bare-postgres",
            "bare psycopg, one-row INSERT, autocommit",
            1,
            "",
            _bare,
            bare.run_postgres,
            drop_schema,
        ),
    ]
    return found + references


def measure(folder: Path, size: Size) -> Figures:
    settings = server_settings()
    rows = throughput.measure(
        folder, contenders(), size.per_writer, warmup=size.warmup, rounds=size.rounds
    )
    return Figures(rows, ping_us(), settings)


def render(figures: Figures) -> str:
    settings = ", ".join(f"{key}={value}" for key, value in figures.settings.items())
    return "\n".join(
        [
            report.throughput_table(figures.throughput),
            f"(server: {settings}; SELECT 1 round trip, median of {PINGS:,}:"
            f" {figures.ping_us:.0f} us)",
        ]
    )


def jsonable(figures: Figures) -> dict[str, Any]:
    return asdict(figures)


# --- schemas ----------------------------------------------------------------------


def schema_for(path: Path) -> str:
    """The schema of one run: named after its place in the run and this process."""
    name = re.sub(r"[^a-z0-9]+", "_", path.name.lower()).strip("_")
    return f"{PREFIX}{os.getpid()}_{name}"[:48]


def url_for(path: Path, extra: str = "") -> str:
    """The store URL of the run's schema (``extra``: more query options)."""
    return f"{SERVER}?schema={schema_for(path)}" + (f"&{extra}" if extra else "")


def create_schema(path: Path) -> str:
    """Create the run's schema, dropping any leftover of the same name first."""
    schema = schema_for(path)
    with _admin() as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    return schema


def drop_schema(path: Path) -> None:
    with _admin() as conn:
        conn.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema_for(path)))
        )


def server_settings() -> dict[str, str]:
    """The settings that decide what a commit waits for, and the server's version."""
    names = ("server_version", "fsync", "synchronous_commit", "wal_sync_method", "commit_delay")
    with _admin() as conn:
        return {name: str(_one(conn, f"SHOW {name}")) for name in names}


def ping_us() -> float:
    """The median round trip of ``SELECT 1`` in microseconds."""
    with _admin() as conn:
        samples = []
        for _ in range(PINGS):
            started = time.perf_counter_ns()
            conn.execute("SELECT 1").fetchone()
            samples.append(time.perf_counter_ns() - started)
    return statistics.median(samples) / 1e3


def _admin() -> psycopg.Connection[tuple[Any, ...]]:
    return psycopg.connect(SERVER, autocommit=True, connect_timeout=5)


def _one(conn: psycopg.Connection[tuple[Any, ...]], query: str) -> object:
    row = conn.execute(query.encode()).fetchone()
    assert row is not None
    return row[0]


# --- contenders -------------------------------------------------------------------


def _ledger(extra: str) -> throughput.Prepare:
    def prepare(path: Path, writers: int, cycles: int, warmup: int) -> Sequence[Any]:
        create_schema(path)
        return ledger_cycles.prepare_url(url_for(path, extra), writers, cycles, warmup)

    return prepare


def _es(path: Path, writers: int, cycles: int, warmup: int) -> Sequence[Any]:
    create_schema(path)
    return es_app.prepare_at(url_for(path), writers, cycles, warmup)


def _bare(path: Path, writers: int, cycles: int, warmup: int) -> Sequence[Any]:
    create_schema(path)
    url = url_for(path)
    bare.prepare_postgres(url)
    appends, warm = OPS_PER_CYCLE * cycles, OPS_PER_CYCLE * warmup
    return [bare.BareShare(url, w, appends, warm) for w in range(writers)]
