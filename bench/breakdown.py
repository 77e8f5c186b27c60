"""Where the time of one durable operation goes, measured inside one writer.

The same cycles as the throughput section (claim, heartbeat, release of fresh
tasks through ``ClaimService`` on a SQLite store), once at ``synchronous=FULL``
and once at ``NORMAL``, with timers around every SQL statement the store runs
(by kind) and around its sealing (canonical encoding, sha256 and the record) and
decoding. What no timer covers is the service in Python: folding, the rules,
ids, clock reads and result objects. The timers add about a microsecond per call.
Two micro-benchmarks split sealing into its encoding and its sha256.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from unittest import mock

import msgspec

from application.bootstrap import wire
from bench import ledger_cycles
from bench.ledger_cycles import OPS_PER_CYCLE, Cycles
from ledger.codec import seal
from ledger.events import Heartbeat
from ledger.records import NewEvent, UnhashedRecord
from ledger.store import sqlite as sqlite_module
from ledger.store.sqlite import SqliteStore

PARTS = (
    ("COMMIT", "COMMIT: WAL frames written, then fdatasync at FULL"),
    ("BEGIN", "BEGIN IMMEDIATE (the write lock)"),
    ("probe", "probe statement in the lock (version, ids, head)"),
    ("INSERT", "INSERT of the record (4 B-trees)"),
    ("read", "read_stream SELECTs before deciding"),
    ("decode", "decoding records read back (msgspec)"),
    ("seal", "sealing: canonical encode + sha256 + Record"),
    ("other", "other SQL (rollbacks, lookups of stored ids)"),
)
DECODERS = ("decode_stored", "decode_record")
"""The names under which the SQLite store has imported its record decoder."""
REST = "the service in Python (fold, rules, ids, results)"


@dataclass(frozen=True)
class Part:
    label: str
    full_us: float
    normal_us: float


class _Timers:
    def __init__(self) -> None:
        self.spent: defaultdict[str, int] = defaultdict(int)

    def timed(self, kind: str, call: Callable[[], Any]) -> Any:
        started = time.perf_counter_ns()
        try:
            return call()
        finally:
            self.spent[kind] += time.perf_counter_ns() - started


class _TimedConnection:
    """Stands in for the store's ``sqlite3.Connection`` and times each statement."""

    def __init__(self, db: sqlite3.Connection, timers: _Timers) -> None:
        self._db = db
        self._timers = timers

    @property
    def in_transaction(self) -> bool:
        return self._db.in_transaction

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> sqlite3.Cursor:
        return cast(
            sqlite3.Cursor,
            self._timers.timed(_kind(sql), lambda: self._db.execute(sql, parameters)),
        )

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> sqlite3.Cursor:
        return cast(
            sqlite3.Cursor, self._timers.timed("INSERT", lambda: self._db.executemany(sql, rows))
        )

    def close(self) -> None:
        self._db.close()


def measure(folder: Path, cycles: int, warmup: int) -> tuple[list[Part], float, float]:
    """The parts at FULL and NORMAL, and the total microseconds per operation of each."""
    full, full_total = _one(folder / "breakdown-full.db", cycles, warmup, "FULL")
    normal, normal_total = _one(folder / "breakdown-normal.db", cycles, warmup, "NORMAL")
    parts = [Part(label, full[key], normal[key]) for key, label in PARTS]
    rest = Part(REST, full_total - sum(full.values()), normal_total - sum(normal.values()))
    return [*parts, rest], full_total, normal_total


def sealing_split() -> tuple[float, float]:
    """Microseconds to encode one heartbeat record canonically, and to sha256 it."""
    now = datetime.now(UTC)
    event = Heartbeat(
        task_id="w0-t1", session_id="bench-w0", fencing_token=2, extend_ms=60_000, expires_at=now
    )
    new = NewEvent(data=event, occurred_at=now, actor="bench-w0", correlation_id="c" * 32)
    record, _ = seal(
        new, position=9, stream="task-w0-t1", version=3, recorded_at=now, prev_hash="a" * 64
    )
    unhashed = msgspec.convert(msgspec.to_builtins(record), UnhashedRecord)
    encoder = msgspec.json.Encoder(order="deterministic")
    body = encoder.encode(unhashed)
    return _per_call(lambda: encoder.encode(unhashed)), _per_call(
        lambda: hashlib.sha256(body).hexdigest()
    )


def _one(path: Path, cycles: int, warmup: int, synchronous: str) -> tuple[dict[str, float], float]:
    (share,) = ledger_cycles.prepare("sqlite", path, 1, cycles, warmup, synchronous)
    store = SqliteStore(path, synchronous="FULL" if synchronous == "FULL" else "NORMAL")
    timers = _Timers()
    store._db = cast(sqlite3.Connection, _TimedConnection(store._db, timers))
    with _timed_codec(timers):
        runner = Cycles(wire(store).service, share.session)
        runner.run(share.tasks[: share.warmup])
        timers.spent.clear()
        started = time.perf_counter_ns()
        runner.run(share.tasks[share.warmup :])
        total = time.perf_counter_ns() - started
    store.close()
    ops = OPS_PER_CYCLE * cycles
    return {key: timers.spent[key] / ops / 1e3 for key, _ in PARTS}, total / ops / 1e3


@contextlib.contextmanager
def _timed_codec(timers: _Timers) -> Iterator[None]:
    """Time the store's sealing and decoding by wrapping the names it calls (those
    it has: a name the store no longer uses is left alone and its part reads 0)."""
    with contextlib.ExitStack() as stack:
        for name, kind in (("seal_batch", "seal"), *((n, "decode") for n in DECODERS)):
            original = getattr(sqlite_module, name, None)
            if callable(original):
                stack.enter_context(
                    mock.patch.object(sqlite_module, name, _wrapped(timers, kind, original))
                )
        yield


def _wrapped(timers: _Timers, kind: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        return timers.timed(kind, lambda: original(*args, **kwargs))

    return timed


def _kind(sql: str) -> str:
    """The part a statement belongs to."""
    if sql.startswith("SELECT (SELECT version"):
        return "probe"
    if sql.startswith("SELECT") and "WHERE stream = ? AND version >" in sql:
        return "read"
    first = sql.split(" ", 1)[0]
    return first if first in ("BEGIN", "COMMIT", "INSERT") else "other"


def _per_call(call: Callable[[], object], number: int = 20_000) -> float:
    started = time.perf_counter_ns()
    for _ in range(number):
        call()
    return (time.perf_counter_ns() - started) / number / 1e3
