"""The embedded SQLite store, the default.

WAL journal; every append is one ``BEGIN IMMEDIATE`` transaction that checks the
expected version, reads the head for the hash chain and inserts, so writers are
serialised and commit order equals position order. ``synchronous=FULL`` (the
default) makes an acknowledged append survive a power loss; ``synchronous=NORMAL``
survives process crashes only, and is several times faster.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from ledger.clock import Clock, SystemClock
from ledger.codec import micros
from ledger.errors import StoreError
from ledger.records import NewEvent, Record
from ledger.store.batch import (
    EMPTY_HEAD,
    check_continues,
    check_expected,
    replayed_batch,
    seal_batch,
)
from ledger.store.file_lock import Flock
from ledger.store.group import MEMBER_ERRORS, AppendRequest, GroupCommit, Outcome
from ledger.store.grouped import GroupedAppends
from ledger.store.protocol import Head, RawEntry, head_at
from ledger.store.rows import (
    CHAIN_COLUMNS,
    PAGE,
    RAW_COLUMNS,
    CheckedWalks,
    EventRow,
    anchored_rows,
    checked_head,
    checked_stream_rows,
    decode_row,
    event_row,
    head_of,
    paged,
    raw_entry,
    read_limits,
)
from ledger.store.sqlite_errors import DriverErrors, damaged, damaged_file
from ledger.store.sqlite_guarded import Tail, plan_guarded
from ledger.store.sqlite_known import Known
from ledger.store.sqlite_schema import migrate, set_wal
from ledger.store.sqlite_sql import HEAD, HEAD_ONLY, INSERT, STREAM, group_probe_sql, probe_sql
from ledger.store.sqlite_wal_index import WalIndex
from ledger.store.waiting import poll_head

Synchronous = Literal["FULL", "NORMAL"]


class SqliteStore(GroupedAppends, CheckedWalks):
    """An event store in one SQLite file, safe for many processes on one host."""

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Clock | None = None,
        synchronous: Synchronous = "FULL",
        busy_timeout_ms: int = 30_000,
    ) -> None:
        self._path = Path(path)
        self._clock = clock or SystemClock()
        self._synchronous = synchronous
        self._lock = threading.Lock()
        self._busy_timeout_ms = busy_timeout_ms
        self._reader_db: sqlite3.Connection | None = None
        """Reads that must not wait for a commit in flight (the head, stream loads)."""
        self._reader_lock = threading.Lock()
        self._writer_fd: int | None = None
        self._writer_lockable = True
        """False once the lock file could not be opened: not tried again on every commit."""
        self.group = GroupCommit(self._commit_group)
        """Appends of this process's threads that arrive together share one commit."""
        self._tail: Tail | None = None
        """The last row this connection committed, while it may still be the head: the
        next append can then be written in one guarded statement (``_guarded``)."""
        self._written: Tail | None = None
        """The last row inserted by the transaction in progress."""
        self._known = Known(None)
        """The head and streams' versions as of a WAL-index header (ADR 0026)."""
        self._inserted: list[Record] = []
        """The last record of each member the commit in progress inserted (a replayed
        member inserts nothing)."""
        self._path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(
                self._path,
                isolation_level=None,
                timeout=busy_timeout_ms / 1000,
                check_same_thread=False,
            )
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            set_wal(self._db, self._path)
            self._db.execute(f"PRAGMA synchronous = {synchronous}")
            migrate(self._db, self._clock)
            self._known = Known(WalIndex(self._main_file()))
        except sqlite3.Error as exc:
            if damaged(exc):
                raise damaged_file(self._path, exc) from exc
            raise StoreError(f"cannot open SQLite store at {self._path}: {exc}") from exc

    @property
    def url(self) -> str:
        suffix = "" if self._synchronous == "FULL" else "?synchronous=normal"
        return f"sqlite://{self._path.resolve()}{suffix}"

    @property
    def path(self) -> Path:
        return self._path

    # --- writing ---------------------------------------------------------------

    def _commit_group(self, requests: Sequence[AppendRequest]) -> list[Outcome]:
        """One transaction and one commit for every request of a group
        (``ledger.store.group``): one guarded statement while this connection's last
        commit is the head (``_guarded``), else ``BEGIN IMMEDIATE``, the probe, the
        checks and the insert, a refused member refusing only itself."""
        with self._lock, self._translated("append"), self._writers_turn():
            before = self._known.marker()
            self._inserted = []
            outcomes = self._committed_group(requests)
            tail = self._tail
            self._known.committed(before, None if tail is None else tail.head, self._inserted)
            return outcomes

    def _committed_group(self, requests: Sequence[AppendRequest]) -> list[Outcome]:
        guarded = self._guarded(requests)
        if guarded is not None:
            return guarded
        db = self._db
        self._written = None
        db.execute("BEGIN IMMEDIATE")
        try:
            if len(requests) == 1:
                outcomes: list[Outcome] = [self._append_in_transaction(requests[0])]
            else:
                outcomes = self._planned_group(requests) or [
                    self._member(request) for request in requests
                ]
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        self._tail = self._written
        return outcomes

    def _guarded(self, requests: Sequence[AppendRequest]) -> list[Outcome] | None:
        """The group in one guarded statement, its own transaction, while this
        connection's last commit may still be the head (``ledger.store.sqlite_guarded``);
        ``None`` when nothing was written: no tail known, no plan for the group, an event
        id stored already, or a log that is not as the plan assumed. The group is then
        committed as before, probe first."""
        tail = self._tail
        self._tail = None
        plan = None if tail is None else plan_guarded(tail, requests, self._clock.now())
        if plan is None:
            return None
        try:
            stored = self._db.execute(plan.sql, plan.parameters).rowcount
        except sqlite3.IntegrityError:
            return None
        if stored != plan.rows:
            return None
        self._tail = plan.tail
        self._inserted.extend(_lasts(plan.outcomes))
        return plan.outcomes

    def _planned_group(self, requests: Sequence[AppendRequest]) -> list[Outcome] | None:
        """A group of several appends in three statements whatever its size: one probe
        of every stream's version, the stored event ids and the head; the checks and
        seals made here, each member on the state its predecessors left; one insert of
        every accepted member's rows. A refused member has written nothing, so it needs
        no savepoint. ``None`` (nothing written) when an event id is stored already or
        repeated across members: those replays are decided member by member."""
        ids = [event.event_id for request in requests for event in request.events]
        if len(set(ids)) != len(ids):
            return None
        streams = list(dict.fromkeys(request.stream for request in requests))
        found = self._db.execute(group_probe_sql(len(streams), len(ids)), (*streams, *ids))
        versions: dict[str, int] = {}
        head = EMPTY_HEAD
        for name, version, any_stored, *last in found.fetchall():
            if any_stored:
                return None
            versions[name] = int(version or 0)
            if last[0] is not None:
                head = checked_head(*last)
        now = self._clock.now()
        outcomes: list[Outcome] = []
        rows: list[EventRow] = []
        for request in requests:
            stream, current = request.stream, versions[request.stream]
            try:
                check_expected(stream, request.expected_version, current)
                sealed = seal_batch(
                    stream, request.events, current_version=current, head=head, now=now
                )
            except MEMBER_ERRORS as refused:
                outcomes.append(refused)
                continue
            records = [record for record, _ in sealed]
            rows.extend(event_row(record, raw) for record, raw in sealed)
            versions[stream] = records[-1].version
            last_record = records[-1]
            head = head_at(last_record)
            outcomes.append(records)
        if rows:
            self._db.executemany(INSERT, rows)
            lasts = _lasts(outcomes)
            self._written = Tail.of(lasts[-1], rows[-1][-1])
            self._inserted.extend(lasts)
        return outcomes

    def _member(self, request: AppendRequest) -> Outcome:
        """One request of a group, in its own savepoint: its records or its refusal."""
        db = self._db
        db.execute("SAVEPOINT member")
        try:
            records = self._append_in_transaction(request)
        except MEMBER_ERRORS as refused:
            db.execute("ROLLBACK TO member")
            db.execute("RELEASE member")
            return refused
        db.execute("RELEASE member")
        return records

    def _append_in_transaction(self, request: AppendRequest) -> list[Record]:
        """Check, seal and insert inside the group's transaction; the caller commits."""
        stream, events, expected_version = request.stream, request.events, request.expected_version
        current, any_stored, head = self._probe(stream, events)
        if any_stored:
            replay = replayed_batch(stream, events, self._stored_ids(events))
            if replay is not None:
                return replay
        check_expected(stream, expected_version, current)
        sealed = seal_batch(
            stream, events, current_version=current, head=head, now=self._clock.now()
        )
        rows = [event_row(record, raw) for record, raw in sealed]
        if len(rows) == 1:
            self._db.execute(INSERT, rows[0])
        else:
            self._db.executemany(INSERT, rows)
        self._written = Tail.of(*sealed[-1])
        self._inserted.append(sealed[-1][0])
        return [record for record, _ in sealed]

    def copy_in(self, records: Sequence[tuple[Record, bytes]]) -> None:
        """Store records sealed elsewhere, byte for byte, after the head (``claims import``)."""
        if not records:
            return
        with self._lock, self._translated("import"), self._writers_turn():
            self._tail = None
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                check_continues(self._checked_head(), records)
                db.executemany(INSERT, [event_row(record, raw) for record, raw in records])
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    # --- reading ---------------------------------------------------------------

    def read_stream(self, stream: str, *, after_version: int = 0) -> list[Record]:
        """The stream's records after ``after_version``, read on the reader connection:
        a decision's load does not wait for the group commit in flight (it sees what
        is committed; the append's version check catches what it could not see).
        Nothing is read when the WAL-index header says nothing has committed since
        the stream was known to stand at ``after_version`` (``StreamVersions``): a
        cached state asking for what is new, the common case, gets ``[]`` at once."""

        def read() -> list[Record]:
            with self._reader_lock, self._translated("read"):
                rows = self._on_reader().execute(STREAM, (stream, after_version)).fetchall()
            return checked_stream_rows(rows, stream, after_version)

        return self._known.stream(stream, after_version, read)

    def chain_rows(
        self,
        *,
        after: int = 0,
        until: int | None = None,
        until_time: datetime | None = None,
    ) -> Iterator[Sequence[Any]]:
        limit_position, limit_time = read_limits(until, until_time)

        def page(cursor: int) -> list[Any]:
            with self._lock, self._translated("read"):
                return self._db.execute(
                    f"SELECT {CHAIN_COLUMNS} FROM events"
                    " WHERE position > ? AND position <= ? AND recorded_us <= ?"
                    " ORDER BY position LIMIT ?",
                    (cursor, limit_position, limit_time, PAGE),
                ).fetchall()

        return anchored_rows(page, max(after, 0))

    def position_at(self, when: datetime) -> int:
        with self._lock, self._translated("read"):
            row = self._db.execute(
                "SELECT coalesce(max(position), 0) FROM events WHERE recorded_us <= ?",
                (micros(when),),
            ).fetchone()
        return int(row[0])

    def stream_version(self, stream: str) -> int:
        with self._lock, self._translated("read"):
            return self._version(stream)

    def head(self) -> Head:
        """The last committed head. While the WAL-index header is the one with which
        this store last saw the head (its own commit, or this read before), nothing has
        committed since and the head seen is the head: no statement is run
        (``ledger.store.sqlite_wal_index``). Otherwise it is read on the reader
        connection: the ledger's clock reads it before every decision (``LogClock``),
        and on the writer's connection it would wait for the group commit in flight.
        Another connection sees what is committed; the records of a commit still in
        flight are stamped no later than this process's clock before it or the head
        committed before it, which this read sees."""
        return self._known.head(self._read_head)

    def _read_head(self) -> Head:
        with self._reader_lock, self._translated("read"):
            row = self._on_reader().execute(HEAD_ONLY).fetchone()
        return EMPTY_HEAD if row is None else head_of(*row)

    def head_position(self) -> int:
        return self.head().position

    def wait_for_head(self, after: int, timeout: float) -> int:
        return poll_head(self.head_position, after, timeout)

    def raw_entries(self) -> Iterator[RawEntry]:
        def page(cursor: int) -> list[Any]:
            with self._lock, self._translated("read"):
                return self._db.execute(
                    f"SELECT {RAW_COLUMNS} FROM events"
                    " WHERE position > ? ORDER BY position LIMIT ?",
                    (cursor, PAGE),
                ).fetchall()

        for row in paged(page, 0):
            yield raw_entry(row)

    def close(self) -> None:
        self.group.close()
        with self._lock:
            self._db.close()
            if self._writer_fd is not None:
                os.close(self._writer_fd)
                self._writer_fd = None
        with self._reader_lock:
            if self._reader_db is not None:
                self._reader_db.close()
        self._known.close()

    # --- internals -------------------------------------------------------------

    def _writers_turn(self) -> contextlib.AbstractContextManager[None]:
        """This process's turn to write among the processes that share the file (call
        with ``self._lock`` held): an exclusive ``flock`` on ``<file>-writer.lock``,
        waited for in steps of at most a millisecond. SQLite's own busy handler, which
        ``BEGIN IMMEDIATE`` still has behind it for writers that do not take this lock,
        sleeps 1, 2, 5, 10 ... up to 100 ms between tries, so two processes that write
        at once (API workers) lost whole milliseconds at every handover. Without a
        lock file (a read-only folder) the busy handler alone decides."""
        if self._writer_fd is None:
            if not self._writer_lockable:
                return contextlib.nullcontext()
            try:
                self._writer_fd = os.open(
                    self._path.with_name(f"{self._path.name}-writer.lock"),
                    os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                    0o644,
                )
            except OSError:
                self._writer_lockable = False
                return contextlib.nullcontext()
        return Flock(self._writer_fd, fcntl.LOCK_EX, timeout=self._busy_timeout_ms / 1000)

    def _main_file(self) -> Path:
        """The database file as SQLite names it (a symbolic link resolved): its
        ``-shm`` file is beside that name, not necessarily beside ``self._path``."""
        for _, name, file in self._db.execute("PRAGMA database_list"):
            if name == "main" and file:
                return Path(file)
        return self._path

    def _version(self, stream: str) -> int:
        row = self._db.execute(
            "SELECT version FROM events WHERE stream = ? ORDER BY version DESC LIMIT 1",
            (stream,),
        ).fetchone()
        return 0 if row is None else int(row[0])

    def _on_reader(self) -> sqlite3.Connection:
        """The reader connection (call with ``self._reader_lock`` held)."""
        if self._reader_db is None:
            self._reader_db = self._reader()
        return self._reader_db

    def _reader(self) -> sqlite3.Connection:
        """A connection that only reads, outside any transaction of ``self._db``."""
        db = sqlite3.connect(
            self._path,
            isolation_level=None,
            timeout=self._busy_timeout_ms / 1000,
            check_same_thread=False,
        )
        db.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        db.execute("PRAGMA query_only = ON")
        return db

    def _checked_head(self) -> Head:
        row = self._db.execute(HEAD).fetchone()
        return EMPTY_HEAD if row is None else checked_head(*row)

    def _probe(self, stream: str, events: Sequence[NewEvent]) -> tuple[int, bool, Head]:
        """In one statement: the stream's version, whether any of the batch's event
        ids is already stored, and the head of the log (no row: the log is empty)."""
        ids = [event.event_id for event in events]
        row = self._db.execute(probe_sql(len(ids)), (stream, *ids)).fetchone()
        if row is None:
            return 0, False, EMPTY_HEAD
        version, any_stored, *head = row
        return int(version or 0), bool(any_stored), checked_head(*head)

    def _stored_ids(self, events: Sequence[NewEvent]) -> list[Record | None]:
        ids = [event.event_id for event in events]
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(
            f"SELECT position, event_id, body FROM events WHERE event_id IN ({marks})", ids
        ).fetchall()
        found = {event_id: decode_row(position, body) for position, event_id, body in rows}
        return [found.get(event_id) for event_id in ids]

    def _translated(self, action: str) -> DriverErrors:
        return DriverErrors(action, self._path)


def _lasts(outcomes: Sequence[Outcome]) -> list[Record]:
    """The last record of each member that was stored."""
    return [o[-1] for o in outcomes if not isinstance(o, BaseException) and o]
