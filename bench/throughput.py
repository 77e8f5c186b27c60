"""Durable appends per second: the ledger beside the raw limits and the library.

Every contender does the same number of durable appends per writer (three per
cycle), in fresh processes that start together, on a fresh file. Rounds run the
contenders in turn, so that load from elsewhere on the machine falls on all of
them; the report takes each contender's median round.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench import bare, es_app, ledger_cycles
from bench.ledger_cycles import OPS_PER_CYCLE
from bench.procs import RunResult, Work, run_writers
from bench.stats import median

Prepare = Callable[[Path, int, int, int], Sequence[Any]]
"""``(path, writers, cycles, warm-up cycles) -> one share per writer``, run in the parent."""
Cleanup = Callable[[Path], None]
"""Remove what ``prepare`` made for ``path`` (default: the file and its WAL)."""


@dataclass(frozen=True)
class Contender:
    key: str
    label: str
    writers: int
    suffix: str
    prepare: Prepare
    work: Work
    cleanup: Cleanup | None = None


@dataclass(frozen=True)
class Throughput:
    """A contender's median round, with the slowest and fastest rounds."""

    key: str
    label: str
    writers: int
    ops_per_s: float
    slowest: float
    fastest: float
    errors: int
    note: str

    @property
    def cycles_per_s(self) -> float:
        return self.ops_per_s / OPS_PER_CYCLE

    @property
    def us_per_op(self) -> float:
        return 1e6 / self.ops_per_s if self.ops_per_s else 0.0


def contenders(*, reference: bool = True) -> list[Contender]:
    """Every contender with 1 and with 4 writers, then the NORMAL-durability references."""
    found = [contender for writers in (1, 4) for contender in _durable(writers)]
    return found + (_reference() if reference else [])


def by_key(key: str, writers: int) -> Contender:
    """The contender ``key`` of ``contenders()`` with ``writers`` writer processes."""
    for contender in _durable(writers) + _reference():
        if contender.key == key:
            return replace(contender, writers=writers)
    raise KeyError(key)


def measure(
    folder: Path,
    chosen: Sequence[Contender],
    cycles: Callable[[int], int],
    *,
    warmup: int,
    rounds: int,
) -> list[Throughput]:
    """Each contender ``rounds`` times, in turn; ``cycles(writers)`` per writer."""
    runs: dict[str, list[RunResult]] = {_id(c): [] for c in chosen}
    for number in range(rounds):
        for contender in chosen:
            path = folder / f"r{number}-{_id(contender)}{contender.suffix}"
            try:
                result = _once(contender, path, cycles(contender.writers), warmup)
            finally:
                (contender.cleanup or _remove)(path)
            runs[_id(contender)].append(result)
    return [_summary(contender, runs[_id(contender)]) for contender in chosen]


def _durable(writers: int) -> list[Contender]:
    return [
        Contender(
            "ledger-sqlite",
            "ledger, SQLite FULL",
            writers,
            ".db",
            _ledger("sqlite", "FULL"),
            ledger_cycles.run,
        ),
        Contender(
            "ledger-jsonl",
            "ledger, JSONL (fsync)",
            writers,
            ".jsonl",
            _ledger("jsonl", "FULL"),
            ledger_cycles.run,
        ),
        Contender(
            "bare-sqlite",
            "bare sqlite3, plain table, FULL",
            writers,
            ".db",
            _bare("plain", "FULL"),
            bare.run_sqlite,
        ),
        Contender(
            "bare-events",
            "bare sqlite3, events table, FULL",
            writers,
            ".db",
            _bare("events", "FULL"),
            bare.run_sqlite,
        ),
        Contender(
            "bare-jsonl",
            "bare JSONL, flock+write+fsync",
            writers,
            ".jsonl",
            _bare_jsonl,
            bare.run_jsonl,
        ),
        Contender(
            "eventsourcing", "eventsourcing, SQLite recorder", writers, ".db", _es, es_app.run
        ),
    ]


def _reference() -> list[Contender]:
    return [
        Contender(
            "eventsourcing-cached",
            "eventsourcing, aggregate cache on",
            1,
            ".db",
            _es_cached,
            es_app.run,
        ),
        Contender(
            "ledger-memory",
            "ledger, memory store (no I/O)",
            1,
            "",
            _ledger("memory", "FULL"),
            ledger_cycles.run,
        ),
        Contender(
            "ledger-sqlite-normal",
            "ledger, SQLite NORMAL",
            1,
            ".db",
            _ledger("sqlite", "NORMAL"),
            ledger_cycles.run,
        ),
        Contender(
            "bare-sqlite-normal",
            "bare sqlite3, plain table, NORMAL",
            1,
            ".db",
            _bare("plain", "NORMAL"),
            bare.run_sqlite,
        ),
    ]


def _ledger(backend: str, synchronous: str) -> Prepare:
    def prepare(path: Path, writers: int, cycles: int, warmup: int) -> Sequence[Any]:
        return ledger_cycles.prepare(backend, path, writers, cycles, warmup, synchronous)

    return prepare


def _bare(schema: str, synchronous: str) -> Prepare:
    def prepare(path: Path, writers: int, cycles: int, warmup: int) -> Sequence[Any]:
        bare.prepare_sqlite(path, schema)
        appends, warm = OPS_PER_CYCLE * cycles, OPS_PER_CYCLE * warmup
        return [
            bare.BareShare(str(path), w, appends, warm, schema, synchronous) for w in range(writers)
        ]

    return prepare


def _bare_jsonl(path: Path, writers: int, cycles: int, warmup: int) -> Sequence[Any]:
    appends, warm = OPS_PER_CYCLE * cycles, OPS_PER_CYCLE * warmup
    return [bare.BareShare(str(path), w, appends, warm) for w in range(writers)]


def _es(path: Path, writers: int, cycles: int, warmup: int) -> Sequence[Any]:
    return es_app.prepare(path, writers, cycles, warmup)


def _es_cached(path: Path, writers: int, cycles: int, warmup: int) -> Sequence[Any]:
    return es_app.prepare(path, writers, cycles, warmup, cached=True)


def _once(contender: Contender, path: Path, cycles: int, warmup: int) -> RunResult:
    shares = contender.prepare(path, contender.writers, cycles, warmup)
    return run_writers(contender.work, shares)


def _summary(contender: Contender, runs: Sequence[RunResult]) -> Throughput:
    rates = sorted(run.ops_per_s for run in runs)
    errors = sum(run.errors for run in runs)
    first = next((run.first_error for run in runs if run.first_error), None)
    notes = sorted({note for run in runs for note in run.notes})
    note = "; ".join([*notes, *([f"first error: {first}"] if first else [])])
    return Throughput(
        contender.key,
        contender.label,
        contender.writers,
        median(rates),
        rates[0],
        rates[-1],
        errors,
        note,
    )


def _id(contender: Contender) -> str:
    return f"{contender.key}-{contender.writers}w"


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()
