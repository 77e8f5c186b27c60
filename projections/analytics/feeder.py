"""The incremental feeder: brings the analytics store up to date with the ledger.

It reads ``store.read_all(after=checkpoint)`` through the store's own reader (never
the ledger's file behind a writer's back), folds each batch, and writes the batch's
rows and the new checkpoint (position and hash of the last record applied) in one
DuckDB transaction. A crash between batches loses nothing: the next update resumes
at the checkpoint. Before resuming it checks that the ledger's record at the
checkpoint still has the hash it had: the checkpoint witnesses the log, and a
ledger that is shorter or holds another record there is refused with
``CorruptLog`` (delete the analytics file if the ledger was replaced on purpose).
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Final

import duckdb
import msgspec

from ledger.records import GENESIS_HASH, Record
from ledger.store.hashed_walk import Page, walk_pages
from ledger.store.protocol import EventStore
from ledger.witness import Witness, refuse_unwitnessed
from projections.analytics import payout_work
from projections.analytics.connect import second_connection
from projections.analytics.event_rows import encode_records, insert_events, write_lines
from projections.analytics.fold import Fold, IntervalState
from projections.analytics.rows import IntervalRow, SessionRow, TaskRow, UsageRow
from projections.analytics.transfer import RowT, TableShape, fetch, write_rows
from projections.analytics.write_behind import WriteBehind

BATCH: Final = 200_000
"""Records per transaction: big enough for DuckDB, small enough for memory."""
CACHE_LIMIT: Final = 250_000
"""Rows the fold may keep between batches before it forgets them (they are stored)."""

Progress = Callable[[int, int], None]
"""Called with (records applied so far, records to apply)."""


class Checkpoint(msgspec.Struct, frozen=True):
    """The last ledger record the analytics store holds."""

    position: int
    hash: str
    recorded_at: datetime | None = None


class UpdateResult(msgspec.Struct, frozen=True, kw_only=True):
    applied: int
    checkpoint: Checkpoint
    rebuilt: str | None = None
    """Why the store was emptied and fed from position 0, if it was."""


def read_checkpoint(con: duckdb.DuckDBPyConnection) -> Checkpoint:
    row = con.execute(
        "SELECT position, hash, strftime(recorded_at, '%Y-%m-%dT%H:%M:%S.%fZ') FROM checkpoint"
    ).fetchone()
    if row is None:
        return Checkpoint(0, GENESIS_HASH)
    return msgspec.convert({"position": row[0], "hash": row[1], "recorded_at": row[2]}, Checkpoint)


def update(
    con: duckdb.DuckDBPyConnection,
    store: EventStore,
    *,
    until: int | None = None,
    batch: int = BATCH,
    progress: Progress | None = None,
    cache_limit: int = CACHE_LIMIT,
) -> UpdateResult:
    """Apply every record past the checkpoint (up to ``until``) in transactions of
    ``batch`` records; returns what it did."""
    checkpoint = read_checkpoint(con)
    _check_lineage(store, checkpoint)
    until = _whole_batches(store, until)
    total = _pending(store, checkpoint, until)
    applied = 0
    pages = walk_pages(store, after=checkpoint.position, until=until)
    with tempfile.TemporaryDirectory(prefix="claims-analytics-") as folder:
        feed = _Feed(con, cache_limit, Path(folder))
        try:
            for chunk, lines in batches(pages, batch):
                checkpoint = feed.apply(chunk, lines)
                applied += len(chunk)
                if progress is not None:
                    progress(applied, max(total, applied))
            feed.finish()
        finally:
            feed.close()
    return UpdateResult(applied=applied, checkpoint=checkpoint)


def batches(pages: Iterator[Page], size: int) -> Iterator[tuple[list[Record], list[bytes]]]:
    """A walk's records in batches of ``size`` (the last one shorter), each with its
    records' lines, in order: a page's stored lines where the batch holds the whole
    page, the records encoded again (the same bytes) where it does not."""
    records: list[Record] = []
    lines: list[bytes] = []
    for page in pages:
        whole = page.records if isinstance(page.records, list) else None
        if page.lines is not None and whole is not None and len(records) + len(whole) <= size:
            records.extend(whole)
            lines.append(page.lines)
            if len(records) == size:
                yield records, lines
                records, lines = [], []
            continue
        rest = iter(page.records)
        while part := list(itertools.islice(rest, size - len(records))):
            records.extend(part)
            lines.append(encode_records(part))
            if len(records) == size:
                yield records, lines
                records, lines = [], []
    if records:
        yield records, lines


def _check_lineage(store: EventStore, checkpoint: Checkpoint) -> None:
    """Refuse a ledger shorter than, or different at, the checkpoint (``CorruptLog``)."""
    if checkpoint.position == 0:
        return
    at = next(store.read_all(after=checkpoint.position - 1, until=checkpoint.position), None)
    refuse_unwitnessed(
        Witness(position=checkpoint.position, hash=checkpoint.hash),
        store.head().position if at is None else checkpoint.position,
        None if at is None else at.hash,
        by="the analytics checkpoint (delete the analytics file if the ledger was"
        " replaced on purpose)",
    )


def _whole_batches(store: EventStore, until: int | None) -> int | None:
    """``until`` moved to the end of the append it falls in: a reader never sees part
    of a batch (S8), so a release and the status change it brought stay together."""
    if until is None or until <= 0:
        return until
    last = next(store.read_all(after=until - 1, until=until), None)
    return until if last is None else until + last.more


def _pending(store: EventStore, checkpoint: Checkpoint, until: int | None) -> int:
    head = store.head().position
    return max(0, (head if until is None else min(head, until)) - checkpoint.position)


class _Feed:
    """One update's worth of batches over one connection. Each batch's transaction
    runs behind the reading and folding of the next (``WriteBehind``) on a second
    connection; the fold's caches hold every row a batch changed, so the rows the next
    batch loads from the table are ones the write in flight does not touch (when the
    caches are dropped, the write is waited for first)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, cache_limit: int, folder: Path) -> None:
        self.con = con
        self.writer = second_connection(con)
        self.behind = WriteBehind()
        self.cache_limit = cache_limit
        self.folder = folder
        self.batches = 0
        self.fold = Fold()
        self.intervals = TableShape(con, "claim_intervals", IntervalRow)
        self.tasks = TableShape(con, "tasks", TaskRow)
        self.sessions = TableShape(con, "sessions", SessionRow)
        self.usage = TableShape(con, "token_usage", UsageRow)

    def apply(self, chunk: list[Record], lines: list[bytes]) -> Checkpoint:
        """Fold ``chunk`` and start its write (its events from ``lines``, its records'
        JSON); returns the checkpoint it will store."""
        self._load(chunk)
        for record in chunk:
            self.fold.apply(record)
        last = chunk[-1]
        checkpoint = Checkpoint(last.position, last.hash, last.recorded_at)
        # two sets of files: the write in flight reads one while the next is written
        files = self.folder / str(self.batches % 2)
        self.batches += 1
        files.mkdir(exist_ok=True)
        write = self._prepare(lines, files, checkpoint)
        self.behind.submit(write)
        fold = self.fold
        if len(fold.open) + len(fold.tasks) + len(fold.sessions) > self.cache_limit:
            self.behind.wait()
            fold.forget()
        return checkpoint

    def finish(self) -> None:
        """Wait for the last write (raising its error)."""
        self.behind.wait()

    def close(self) -> None:
        """Wait for the write in flight, whatever its outcome, and let go of it."""
        self.behind.close()
        self.writer.close()

    def _load(self, chunk: list[Record]) -> None:
        """Fill the fold's caches with the stored rows this chunk will change."""
        fold = self.fold
        needs = fold.prime(chunk)
        where_open = "end_reason = 'open' AND task_id IN (SELECT unnest(?::VARCHAR[]))"
        for row in self._fetch(self.intervals, IntervalRow, where_open, needs.open):
            fold.open[row.task_id] = IntervalState.from_row(row)
        where_task = "task_id IN (SELECT unnest(?::VARCHAR[]))"
        for task in self._fetch(self.tasks, TaskRow, where_task, needs.tasks):
            fold.tasks[task.task_id] = task
        where_session = "session_id IN (SELECT unnest(?::VARCHAR[]))"
        for session in self._fetch(self.sessions, SessionRow, where_session, needs.sessions):
            fold.sessions[session.session_id] = session

    def _fetch(
        self, shape: TableShape, row_type: type[RowT], where: str, keys: set[str]
    ) -> list[RowT]:
        if not keys:
            return []
        return fetch(self.con, shape, row_type, where, [sorted(keys)])

    def _prepare(
        self, lines: list[bytes], files: Path, checkpoint: Checkpoint
    ) -> Callable[[], None]:
        """Write the batch's files now (the fold goes on changing its rows after this)
        and return the transaction that loads them."""
        changes = self.fold.drain()
        events = files / "events.jsonl"
        write_lines(lines, events)
        steps = [
            self._merge(self.intervals, changes.intervals, files, "task_id", "fencing_token"),
            self._merge(self.tasks, changes.tasks, files, "task_id"),
            self._merge(self.sessions, changes.sessions, files, "session_id"),
            self._insert_new(self.usage, changes.usage, files, "session_id", "message_id"),
        ]
        touched = {row.task_id for row in changes.intervals}
        touched.update(row.task_id for row in changes.tasks)

        def write() -> None:
            con = self.writer
            con.execute("BEGIN TRANSACTION")
            try:
                insert_events(con, events)
                for statement in steps:
                    if statement:
                        con.execute(statement)
                payout_work.refresh(con, touched)
                _save_checkpoint(con, checkpoint)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

        return write

    def _insert_new(
        self, shape: TableShape, rows: Sequence[msgspec.Struct], files: Path, *keys: str
    ) -> str:
        """The statement that inserts the rows whose keys the table does not hold yet
        (the first one counts); empty when there are none."""
        path = files / f"{shape.table}.jsonl"
        if not write_rows(rows, path):
            return ""
        on = " AND ".join(f"held.{key} = new.{key}" for key in keys)
        return (
            f"INSERT INTO {shape.table} SELECT * FROM ({shape.source(path)}) AS new"
            f" WHERE NOT EXISTS (SELECT 1 FROM {shape.table} AS held WHERE {on})"
        )

    def _merge(
        self, shape: TableShape, rows: Sequence[msgspec.Struct], files: Path, *keys: str
    ) -> str:
        """The statement that merges the rows into the table; empty when there are none."""
        path = files / f"{shape.table}.jsonl"
        if not write_rows(rows, path):
            return ""
        on = " AND ".join(f"{shape.table}.{key} = new.{key}" for key in keys)
        return (
            f"MERGE INTO {shape.table} USING ({shape.source(path)}) AS new ON {on}"
            " WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"
        )


def _save_checkpoint(con: duckdb.DuckDBPyConnection, checkpoint: Checkpoint) -> None:
    con.execute("DELETE FROM checkpoint")
    recorded = checkpoint.recorded_at
    con.execute(
        "INSERT INTO checkpoint VALUES (?, ?, CAST(? AS TIMESTAMPTZ))",
        [checkpoint.position, checkpoint.hash, None if recorded is None else recorded.isoformat()],
    )
