"""The PostgreSQL append's cost as a new ledger grows, with and without sequential scans.

``python -m bench.append_plans [--steps N] [--calls N] [--group N]``. Two new schemas side by
side: one as migrated (``append_events`` plans without sequential scans), one with that
setting reset on the function (PL/pgSQL's cached generic plans, as before). On one connection
each, with ``synchronous_commit = off`` so that the function's own time shows, groups of
``--group`` one-event appends are sent alternately to the two schemas; the median call per
step is printed as the table grows, then again after an ``ANALYZE`` of both tables (which
replaces a cached plan). Figures only.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import Connection

from bench.postgres import create_schema, drop_schema, url_for
from ledger.events import TaskRegistered
from ledger.records import NewEvent
from ledger.store.factory import open_store
from ledger.store.group import AppendRequest
from ledger.store.postgres import PostgresStore
from ledger.store.postgres_append import call_arguments

VARIANTS = ("no sequential scans (as migrated)", "generic plans (setting reset)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.append_plans")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--calls", type=int, default=20, help="calls per step and schema")
    parser.add_argument("--group", type=int, default=16, help="appends per call")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="claims-append-plans-") as folder:
        paths = [Path(folder) / f"plans{index}" for index in range(len(VARIANTS))]
        for path in paths:
            create_schema(path)
        try:
            print(_table(paths, args.steps, args.calls, args.group))
        finally:
            for path in paths:
                drop_schema(path)
    return 0


def _table(paths: Sequence[Path], steps: int, calls: int, group: int) -> str:
    stores = [open_store(url_for(path)) for path in paths]
    lines = [
        f"| rows in events | {VARIANTS[0]}, ms | {VARIANTS[1]}, ms | ratio |",
        "|---:|---:|---:|---:|",
    ]
    try:
        conns = []
        for index, store in enumerate(stores):
            assert isinstance(store, PostgresStore)
            store.head()  # migrates
            conn = psycopg.connect(store.options.conninfo, autocommit=True)
            conn.execute("SELECT set_config('search_path', %s, false)", (store.options.schema,))
            conn.execute("SET synchronous_commit = off")
            if index == 1:
                conn.execute("ALTER FUNCTION append_events RESET enable_seqscan")
            conns.append((store, conn))
        sent = 0
        for step in range(steps + 2):
            if step == steps:
                for _, conn in conns:
                    conn.execute("ANALYZE events")
            samples: list[list[float]] = [[] for _ in conns]
            for _ in range(calls):
                for index, (store, conn) in enumerate(conns):
                    samples[index].append(_call(store, conn, sent, group))
                sent += group
            rows = sent
            medians = [statistics.median(taken) * 1000 for taken in samples]
            label = f"{rows:,}" + (" (analysed)" if step >= steps else "")
            ratio = medians[1] / medians[0]
            lines.append(f"| {label} | {medians[0]:.2f} | {medians[1]:.2f} | {ratio:.2f}x |")
        for _, conn in conns:
            conn.close()
    finally:
        for store in stores:
            store.close()
    return "\n".join(lines)


def _call(store: PostgresStore, conn: Connection[Any], first: int, group: int) -> float:
    now = datetime.now(UTC)
    requests = [
        AppendRequest(
            f"task-plans-{first + n}",
            [
                NewEvent(
                    data=TaskRegistered(task_id=f"plans-{first + n}", title="t"),
                    occurred_at=now,
                    actor="bench",
                )
            ],
            0,
        )
        for n in range(group)
    ]
    arguments = call_arguments(requests, store.append_lock, store.channel, None, decisions=False)
    started = time.perf_counter()
    PostgresStore._execute_append(conn, arguments)
    return time.perf_counter() - started


if __name__ == "__main__":
    raise SystemExit(main())
