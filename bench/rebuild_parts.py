"""Where a rebuild's time goes, part by part: microseconds of CPU per record.

``python -m bench.rebuild_parts [--tasks N] [--dir DIR]``: seals the projections
benchmark's log (``bench.projections``: ten records per task, 59% heartbeats) for
``N`` tasks as a SQLite store and a JSONL store, then times, each over every record
(best of three, CPU time of this process, steadier than the wall clock on a shared
machine):

- reading the stored bodies (SQLite ``SELECT``; JSONL chunks split into lines);
- decoding each body into a typed ``Record`` (msgspec), the floor of any rebuild;
- the hash check alone (``stored_hash`` of the bytes, compared with the decoded hash);
- the checked walk (``checked_chain``: decode, position, hash, chain) over bodies in memory;
- the fold alone (``Board.apply_all`` over records already decoded);
- the whole rebuild through each store's ``read_all`` (read, check, fold);
- paired, taking turns in one process (best of five): the checked walk as it was
  (``checked_record`` per record) and as it is, the fold as it was (each projection's
  own ``apply``) and as it is (``Board.apply_all``).

The parts add up to about the whole, which explains a rebuild rate: ``1e6 / us``
records a second. ``breakdown`` is the projections benchmark's shorter table of the same
question in wall-clock time (``python -m bench.projections``).
"""

from __future__ import annotations

import argparse
import math
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import msgspec

from bench.projection_logs import CHUNK, Plan, build_logs
from bench.report import table
from bench.workdir import workdir
from ledger.codec import stored_hash
from ledger.records import GENESIS_HASH, Record
from ledger.store.checked import checked_chain, checked_record
from ledger.store.factory import open_store
from projections.base import Projection
from projections.board import PROJECTIONS, Board

REPEATS = 3
PAIRED_REPEATS = 5
_decoder = msgspec.json.Decoder(Record)


@dataclass(frozen=True)
class Part:
    label: str
    us: float
    """Microseconds per record, best of ``REPEATS`` (CPU time here; wall-clock time in
    the projections benchmark's ``breakdown``)."""


def best_us(work: Callable[[], int], clock: Callable[[], float] = time.process_time) -> float:
    """Microseconds per record of ``work`` (which returns how many it handled) by
    ``clock``: CPU time of this process unless told otherwise."""
    best = math.inf
    count = 1
    for _ in range(REPEATS):
        started = clock()
        count = work()
        best = min(best, clock() - started)
    return best / max(count, 1) * 1e6


def sqlite_bodies(path: Path) -> list[bytes]:
    db = sqlite3.connect(path)
    try:
        return [body for (body,) in db.execute("SELECT body FROM events ORDER BY position")]
    finally:
        db.close()


def jsonl_lines(path: Path) -> list[bytes]:
    lines: list[bytes] = []
    pending = b""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            split = (pending + chunk).split(b"\n")
            pending = split.pop()
            lines += split
    return lines


def decode_all(bodies: Sequence[bytes]) -> int:
    decode = _decoder.decode
    for body in bodies:
        decode(body)
    return len(bodies)


def hash_all(bodies: Sequence[bytes], hashes: Sequence[str]) -> int:
    for body, expected in zip(bodies, hashes, strict=True):
        if stored_hash(body) != expected:
            raise AssertionError("a body does not match its hash")
    return len(bodies)


def walk_all(bodies: Sequence[bytes]) -> int:
    rows = ((position, None, body) for position, body in enumerate(bodies, start=1))
    return sum(1 for _ in checked_chain(rows, after=0, where=str))


def fold_all(records: Sequence[Record]) -> int:
    return Board().apply_all(records)


def walk_by_record(bodies: Sequence[bytes]) -> int:
    """The walk as it was before ``sound_record``: ``checked_record`` for every record."""
    prev = GENESIS_HASH
    for position, body in enumerate(bodies, start=1):
        prev = checked_record(body, position=position, where=str, prev_hash=prev).hash
    return len(bodies)


def fold_by_projection(records: Sequence[Record]) -> int:
    """The board as it was before ``BoardFold``: each projection's own ``apply`` for
    every record of a type it reads."""
    states = {projection.name: projection.initial() for projection in PROJECTIONS}
    by_type: dict[str, list[tuple[Callable[[Any, Record], None], Any]]] = {}
    for projection in PROJECTIONS:
        for record_type in projection.handles:
            by_type.setdefault(record_type, []).append((projection.apply, states[projection.name]))
    for record in records:
        for apply, state in by_type.get(record.type, ()):
            apply(state, record)
    return len(records)


def breakdown(
    db_path: Path, jsonl_url: str, records: int, postgres_url: str | None = None
) -> list[Part]:
    """Where a rebuild's time goes, per record of wall-clock time, over the log's first
    ``records`` records (the projections benchmark's table): reading and decoding through
    each store, decoding alone, and folding records already in memory into each
    projection alone and into the whole board."""
    sqlite_url = f"sqlite://{db_path}"
    stores = [("SQLite", sqlite_url), ("JSONL", jsonl_url)]
    if postgres_url is not None:
        stores.append(("PostgreSQL", postgres_url))
    parts = [
        Part(f"read + decode, {name} store read_all", _drained_us(url, records))
        for name, url in stores
    ]
    db = sqlite3.connect(db_path)
    bodies = [body for (body,) in db.execute(_FIRST_BODIES, (records,))]
    db.close()
    parts.append(
        Part("decode alone (msgspec, typed Record)", _wall_us(partial(decode_all, bodies)))
    )
    decoded = [_decoder.decode(body) for body in bodies]
    del bodies
    for projection in PROJECTIONS:
        label = f"fold: {projection.name} projection alone"
        parts.append(Part(label, _wall_us(partial(_fold_one, decoded, projection))))
    parts.append(
        Part("fold: Board.apply, all four (with dispatch)", _wall_us(partial(_fold_each, decoded)))
    )
    return parts


_FIRST_BODIES = "SELECT body FROM events WHERE position <= ? ORDER BY position"


def _wall_us(work: Callable[[], int]) -> float:
    return best_us(work, clock=time.perf_counter)


def _drained_us(url: str, records: int) -> float:
    """Reading and decoding ``records`` through a store opened (and, for JSONL, indexed)
    beforehand."""
    store = open_store(url)
    try:
        store.head()
        return _wall_us(lambda: sum(1 for _ in store.read_all(until=records)))
    finally:
        store.close()


def _fold_one(records: Sequence[Record], projection: Projection[Any]) -> int:
    state, handles, apply = projection.initial(), projection.handles, projection.apply
    for record in records:
        if record.type in handles:
            apply(state, record)
    return len(records)


def _fold_each(records: Sequence[Record]) -> int:
    board = Board()
    for record in records:
        board.apply(record)
    return len(records)


def paired_us(works: Sequence[Callable[[], int]]) -> list[float]:
    """CPU microseconds per record of each of ``works``, run in turn ``PAIRED_REPEATS``
    times (best of them): the same load falls on each, unlike runs minutes apart."""
    best = [math.inf] * len(works)
    counts = [1] * len(works)
    for _ in range(PAIRED_REPEATS):
        for index, work in enumerate(works):
            started = time.process_time()
            counts[index] = work()
            best[index] = min(best[index], time.process_time() - started)
    return [seconds / max(count, 1) * 1e6 for seconds, count in zip(best, counts, strict=True)]


def rebuild(url: str) -> int:
    store = open_store(url)
    try:
        store.head()
        return Board().apply_all(store.read_all())
    finally:
        store.close()


def measure(folder: Path, plan: Plan) -> tuple[int, list[Part]]:
    db_path, jsonl_path, events = build_logs(folder, plan)
    open_store(f"jsonl://{jsonl_path}").close()  # index the log before timing reads
    bodies = sqlite_bodies(db_path)
    records = [_decoder.decode(body) for body in bodies]
    hashes = [record.hash for record in records]
    parts = [
        Part("read bodies: SQLite SELECT", best_us(lambda: len(sqlite_bodies(db_path)))),
        Part("read bodies: JSONL lines", best_us(lambda: len(jsonl_lines(jsonl_path)))),
        Part("decode (msgspec, typed Record)", best_us(lambda: decode_all(bodies))),
        Part("hash check (sha256 of the bytes)", best_us(lambda: hash_all(bodies, hashes))),
        Part("checked walk (decode + checks + chain)", best_us(lambda: walk_all(bodies))),
        Part("fold (Board.apply_all, four projections)", best_us(lambda: fold_all(records))),
        Part("rebuild through SQLite read_all", best_us(lambda: rebuild(f"sqlite://{db_path}"))),
        Part("rebuild through JSONL read_all", best_us(lambda: rebuild(f"jsonl://{jsonl_path}"))),
    ]
    paired = paired_us(
        [
            lambda: walk_by_record(bodies),
            lambda: walk_all(bodies),
            lambda: fold_by_projection(records),
            lambda: fold_all(records),
        ]
    )
    labels = (
        "paired: checked walk, checked_record per record",
        "paired: checked walk, checked_chain (sound_record)",
        "paired: fold, each projection's apply",
        "paired: fold, Board.apply_all (BoardFold)",
    )
    parts += [Part(label, us) for label, us in zip(labels, paired, strict=True)]
    return events, parts


def render(events: int, parts: Sequence[Part]) -> str:
    rows = [
        [part.label, f"{part.us:.3f}", f"{1e6 / part.us:,.0f}" if part.us > 0 else ""]
        for part in parts
    ]
    return f"== Rebuild parts: {events:,} records\n" + table(
        ["part", "CPU us/record", "records/CPU-s"], rows, [False, True, True]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rebuild_parts")
    parser.add_argument(
        "--tasks", type=int, default=10_000, help="tasks in the log, ten records each (10000)"
    )
    parser.add_argument("--dir", help="where the stores go (default: a temporary folder)")
    args = parser.parse_args(argv)
    with workdir(args.dir, "claims-bench-rebuild-parts-") as folder:
        events, parts = measure(folder, Plan(tasks=args.tasks, sessions=max(args.tasks // 100, 1)))
    print(render(events, parts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
