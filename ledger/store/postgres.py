"""The PostgreSQL store: one ledger shared by agents and API servers on many hosts.

Every append is one transaction that first takes a transaction-scoped advisory
lock, then reads the stream's version and the head, inserts, notifies and
commits. Why the lock: positions are handed out from the head, and a reader
must never see position N+1 before N (S8). With two concurrent appenders and
no lock, the second could take its position from a sequence, commit first, and
a tailing reader would move past the gap before the first commits, skipping it
for good. The lock makes "hand out a position" and "commit" one critical
section, so commit order is position order; its cost is one append at a time
per ledger, which an fsync per commit bounds anyway (ADR 0012).

Connections come from a pool; an operation whose connection is lost (a server
restart, a failover, ``pg_terminate_backend``) is retried on a fresh one for up
to ``retry_for`` seconds. Retrying an append is safe: its event ids are already
stored if the lost commit went through, and the retry then returns those
records (S5) instead of appending twice.

Live readers wait on ``LISTEN``: an append's transaction sends ``NOTIFY`` with
the new head position, delivered at commit; readers then read the records from
the table, so a notification carries no data that could disagree with the log.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from ledger.clock import Clock, SystemClock
from ledger.codec import micros
from ledger.errors import StoreError, StoreTimeout, StoreUnavailable
from ledger.notices import ready
from ledger.records import Record
from ledger.store.batch import EMPTY_HEAD, check_continues
from ledger.store.group import AppendRequest, GroupCommit, Outcome
from ledger.store.grouped import GroupedAppends
from ledger.store.local import cache_base
from ledger.store.postgres_append import APPEND_SQL, call_arguments, outcomes
from ledger.store.postgres_prepared import Param, Statement, run
from ledger.store.postgres_schema import PostgresSchema, first_line
from ledger.store.postgres_url import PostgresOptions, parse_postgres_url
from ledger.store.protocol import Head, RawEntry
from ledger.store.rows import (
    CHAIN_COLUMNS,
    COLUMNS,
    PAGE,
    RAW_COLUMNS,
    CheckedWalks,
    EventRow,
    anchored_rows,
    checked_head,
    checked_stream_rows,
    event_row,
    from_micros,
    head_of,
    paged,
    raw_entry,
    read_limits,
    stream_sql,
)
from ledger.store.server_clock import ServerReading, ledger_now_us

if TYPE_CHECKING:
    from psycopg import Connection

T = TypeVar("T")
_APPEND_LOCK = 0x434C4D31
"""The advisory-lock class of appends ("CLM1"); the other key is the schema's."""

_INSERT = f"INSERT INTO events ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
_HEAD = "SELECT position, hash, recorded_us FROM events ORDER BY position DESC LIMIT 1"
_CHECKED_HEAD = (
    "SELECT position, hash, recorded_us, body,"
    " (SELECT p.hash FROM events p WHERE p.position = events.position - 1)"
    " FROM events ORDER BY position DESC LIMIT 1"
)
_STREAM = Statement("claims_stream", stream_sql("%s"))
_APPEND = Statement("claims_append", APPEND_SQL)


class PostgresStore(GroupedAppends, CheckedWalks):
    """An event store in one PostgreSQL schema, shared by any number of hosts."""

    def __init__(self, options: PostgresOptions, *, clock: Clock | None = None) -> None:
        ready()  # the pool logs on its own: the face's notice set-up comes first
        self._options = options
        self._given_clock = clock
        """A clock given on purpose (a test's) stamps ``recorded_at``; by default the
        server's clock does, read in the append's transaction (ADR 0017)."""
        self._clock = clock or SystemClock()
        self._server_clock = isinstance(self._clock, SystemClock)
        """Appends are stamped by the server's clock, one clock for every host (S7),
        unless the store was given another clock (a test's frozen one)."""
        self._schema = options.schema
        self._ddl = PostgresSchema(options, clock=self._clock)
        self._lock_key = self._ddl.lock_key
        self.channel = f"claims_{options.schema}"
        """The NOTIFY channel appends announce their new head on."""
        with self._ddl.connect() as conn:
            self._ddl.prepare(conn, migrate=options.migrate)
        self._pool = ConnectionPool(
            options.conninfo,
            min_size=1,
            max_size=options.pool_size,
            kwargs={"autocommit": True, "connect_timeout": options.connect_timeout_s},
            configure=self._ddl.configure,
            timeout=options.connect_timeout_s,
            name=f"claims-{options.schema}",
            open=True,
        )
        self._closer = weakref.finalize(self, self._pool.close)
        """Closes the pool at interpreter exit when nobody called ``close``: a pool left to
        the collector during shutdown can deadlock on its own worker queue's lock."""
        self._listener: _Listener | None = None
        self._reading = ServerReading()
        """The last time the server answered, which decisions take their ``now`` from
        while it is fresh (``ServerReading``); every append brings a new one."""
        self.group = GroupCommit(self._commit_group, gather_s=0.0)
        """Appends of this process's threads that arrive together share one commit. The
        leader does not gather: waiting for the writers of the commit before gained
        nothing here at 4 and 16 writers (docs/benchmarks.md, eleventh session)."""
        self._listener_lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, *, clock: Clock | None = None) -> PostgresStore:
        return cls(parse_postgres_url(url), clock=clock)

    @property
    def url(self) -> str:
        return self._options.display

    @property
    def path(self) -> Path:
        """This host's cache path for the ledger's derived files (snapshots, analytics)."""
        return cache_base(self._options.name)

    @property
    def options(self) -> PostgresOptions:
        return self._options

    @property
    def append_lock(self) -> tuple[int, int]:
        """The advisory lock (class, key) that orders this ledger's appends."""
        return (_APPEND_LOCK, self._lock_key)

    # --- writing ---------------------------------------------------------------

    def _commit_group(self, requests: Sequence[AppendRequest]) -> list[Outcome]:
        """One call of ``append_events`` for a group of appends: one statement, run on
        its own, so one round trip, one transaction and one commit; the ledger's lock is
        held inside the server only (``ledger.store.postgres_append``)."""
        now_us = None if self._server_clock else micros(self._clock.now())
        arguments = call_arguments(
            requests,
            self.append_lock,
            self.channel,
            now_us,
            decisions=self._given_clock is None,
        )

        def call(conn: Connection) -> list[Outcome]:
            try:
                rows = self._execute_append(conn, arguments)
            except psycopg.errors.DataCorrupted as exc:
                raise self._broken_link(conn, exc) from exc
            arrived = time.monotonic()
            if self._server_clock:
                stamps = [int(row[4]) for row in rows if row[4] is not None]
                if stamps:
                    self._reading.note(max(stamps), arrived)
            return outcomes(conn, requests, rows)

        return self._run("append", call)

    @staticmethod
    def _execute_append(conn: Connection, arguments: Sequence[Param]) -> list[tuple[Any, ...]]:
        """The append's one statement (a seam: fault tests fail it on the server's side)."""
        return run(conn, _APPEND, arguments)

    @staticmethod
    def _broken_link(conn: Connection, refused: psycopg.Error) -> Exception:
        """What is wrong with the record an append would have linked to, which the
        server found not to check out (its hash, position or link) and so appended
        nothing: ``LOG_CORRUPT`` naming the position, as the client's own check names it."""
        row = conn.execute(_CHECKED_HEAD, binary=True).fetchone()
        if row is not None:
            checked_head(*row)
        return StoreError(
            f"the server refused to link onto the head ({first_line(refused)}),"
            " which checks out here: the server's check and the client's disagree"
        )

    def copy_in(self, records: Sequence[tuple[Record, bytes]]) -> None:
        """Store records sealed elsewhere, byte for byte, after the head (``claims import``)."""
        if not records:
            return

        def load(conn: Connection) -> None:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", self.append_lock)
                row = conn.execute(_CHECKED_HEAD, binary=True).fetchone()
                check_continues(EMPTY_HEAD if row is None else checked_head(*row), records)
                _insert(conn, [event_row(record, raw) for record, raw in records])
                conn.execute(
                    "SELECT pg_notify(%s, %s)", (self.channel, str(records[-1][0].position))
                )

        self._run("import", load)

    # --- reading ---------------------------------------------------------------

    def read_stream(self, stream: str, *, after_version: int = 0) -> list[Record]:
        rows = self._run("read", lambda conn: run(conn, _STREAM, (stream, after_version)))
        return checked_stream_rows(rows, stream, after_version)

    def chain_rows(
        self,
        *,
        after: int = 0,
        until: int | None = None,
        until_time: datetime | None = None,
    ) -> Iterator[Sequence[Any]]:
        limit_position, limit_time = read_limits(until, until_time)

        def page(cursor: int) -> list[tuple[Any, ...]]:
            return self._fetch(
                f"SELECT {CHAIN_COLUMNS} FROM events"
                " WHERE position > %s AND position <= %s AND recorded_us <= %s"
                " ORDER BY position LIMIT %s",
                (cursor, limit_position, limit_time, PAGE),
                binary=True,
            )

        return anchored_rows(page, max(after, 0))

    def position_at(self, when: datetime) -> int:
        rows = self._fetch(
            "SELECT coalesce(max(position), 0) FROM events WHERE recorded_us <= %s",
            (micros(when),),
        )
        return int(rows[0][0])

    def stream_version(self, stream: str) -> int:
        rows = self._fetch(
            "SELECT version FROM events WHERE stream = %s ORDER BY version DESC LIMIT 1",
            (stream,),
        )
        return int(rows[0][0]) if rows else 0

    def head(self) -> Head:
        return self._run("read", self._read_head)

    def ledger_now(self) -> datetime:
        """The server's clock, never behind the head's ``recorded_at`` (``ServerClock``):
        derived from the last time the server answered while that is fresh, else read."""
        derived = self._reading.now()
        if derived is not None:
            return derived

        def read(conn: Connection) -> int:
            ledger_us = ledger_now_us(conn)
            self._reading.note(ledger_us, time.monotonic())
            return ledger_us

        return from_micros(self._run("read", read))

    def head_position(self) -> int:
        return self.head().position

    def wait_for_head(self, after: int, timeout: float) -> int:
        """Block until the head passes ``after`` (woken by NOTIFY) or ``timeout``
        seconds pass; returns the head position then."""
        with self._listener_lock:
            if self._listener is None:
                self._listener = _Listener(self)
        return self._listener.wait(after, timeout)

    def raw_entries(self) -> Iterator[RawEntry]:
        def page(cursor: int) -> list[tuple[Any, ...]]:
            return self._fetch(
                f"SELECT {RAW_COLUMNS} FROM events WHERE position > %s ORDER BY position LIMIT %s",
                (cursor, PAGE),
                binary=True,
            )

        for row in paged(page, 0):
            yield raw_entry(row)

    # --- operations --------------------------------------------------------------

    def close(self) -> None:
        self.group.close()
        with self._listener_lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
        self._closer()

    # --- connections -------------------------------------------------------------

    def _run(self, action: str, work: Callable[[Connection], T]) -> T:
        """Run ``work`` on a pooled connection; retry it on a fresh one while the
        connection is lost, for up to ``retry_for`` seconds; translate driver errors."""
        deadline = time.monotonic() + self._options.retry_for_s
        delay = 0.05
        while True:
            try:
                conn = self._pool.getconn()
                try:
                    return work(conn)
                except psycopg.OperationalError as exc:
                    if conn.broken or conn.closed or isinstance(exc, _SHUTDOWNS):
                        raise _ConnectionLost(exc) from exc
                    raise
                finally:
                    # Straight back to the pool, which rolls back a transaction left
                    # open and replaces a broken connection: the connections are in
                    # autocommit, so the commit of ``pool.connection()``'s context
                    # would only cost Python on every statement.
                    self._pool.putconn(conn)
            except psycopg.errors.QueryCanceled as exc:
                raise StoreTimeout(
                    f"PostgreSQL {action} ran past the statement timeout"
                    f" ({self._options.statement_timeout_ms} ms) and was cancelled:"
                    f" {first_line(exc)}",
                    timeout_ms=self._options.statement_timeout_ms,
                ) from exc
            except psycopg.errors.UndefinedTable as exc:
                raise StoreError(
                    f"the ledger's tables are missing in schema {self._schema!r}"
                    f" of {self.url}: run `claims db migrate` ({first_line(exc)})"
                ) from exc
            except (_ConnectionLost, psycopg.InterfaceError, PoolTimeout) as lost:
                cause = lost.cause if isinstance(lost, _ConnectionLost) else lost
                if time.monotonic() + delay > deadline:
                    raise StoreUnavailable(
                        f"PostgreSQL {action} failed at {self.url}: {first_line(cause)}"
                        f" (retried for {self._options.retry_for_s:g} s; an append that"
                        " failed this way may be retried with the same event ids)",
                        url=self.url,
                    ) from cause
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
            except psycopg.Error as exc:
                raise StoreError(
                    f"PostgreSQL {action} failed at {self.url}: {first_line(exc)}"
                ) from exc

    def _fetch(
        self, query: str, params: tuple[object, ...], *, binary: bool = False
    ) -> list[tuple[Any, ...]]:
        """All rows of ``query``; ``binary`` asks for binary results, which carry a
        ``body`` as its bytes instead of twice as many hex digits to decode."""

        def fetch(conn: Connection) -> list[tuple[Any, ...]]:
            return conn.execute(query, params, binary=binary).fetchall()

        return self._run("read", fetch)

    def _read_head(self, conn: Connection) -> Head:
        row = conn.execute(_HEAD).fetchone()
        return EMPTY_HEAD if row is None else head_of(*row)


_SHUTDOWNS = (
    psycopg.errors.AdminShutdown,
    psycopg.errors.CrashShutdown,
    psycopg.errors.CannotConnectNow,
)
"""Server errors that end the session: the operation is retried on a new connection.
Any other server error (a full disk, an I/O error) is reported to the caller at once."""


class _ConnectionLost(Exception):
    """The connection died under an operation (restart, failover, a killed backend)."""

    def __init__(self, cause: psycopg.OperationalError) -> None:
        super().__init__(str(cause))
        self.cause = cause


class _Listener:
    """One ``LISTEN`` connection per store, in a thread, shared by every waiter.

    It keeps the highest head position announced; after (re)connecting it reads
    the head from the table, since notifications sent while it was away are lost.
    A waiter that times out reads the head itself, so a lost notification delays
    nobody past their timeout.
    """

    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        self._changed = threading.Condition()
        self._head = store.head_position()
        self._closed = False
        self._thread = threading.Thread(target=self._listen, name="claims-listen", daemon=True)
        self._thread.start()

    def wait(self, after: int, timeout: float) -> int:
        with self._changed:
            if self._changed.wait_for(lambda: self._head > after or self._closed, timeout):
                return self._head
        head = self._store.head_position()
        self._advance(head)
        return head

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._thread.join(timeout=5)

    def _advance(self, position: int) -> None:
        with self._changed:
            if position > self._head:
                self._head = position
                self._changed.notify_all()

    def _listen(self) -> None:
        delay = 0.05
        while not self._closed:
            try:
                with self._store._ddl.connect() as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._store.channel)))
                    self._advance(self._store._read_head(conn).position)
                    delay = 0.05
                    while not self._closed:
                        for note in conn.notifies(timeout=0.5):
                            if note.payload.isdigit():
                                self._advance(int(note.payload))
            except (psycopg.Error, StoreError):
                time.sleep(delay)
                delay = min(delay * 2, 1.0)


def _insert(conn: Connection, rows: list[EventRow]) -> None:
    if len(rows) == 1:
        conn.execute(_INSERT, rows[0])
        return
    with conn.cursor() as cursor:
        cursor.executemany(_INSERT, rows)
