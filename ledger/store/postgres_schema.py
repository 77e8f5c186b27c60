"""The ledger's schema in PostgreSQL: connecting, and versioned migrations.

Used by the store when it opens, and by ``claims db status|migrate`` without a
pool. Migrations run in one transaction under an advisory lock of their own, so
two processes starting at once never apply one twice.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from ledger.clock import Clock, SystemClock
from ledger.errors import StoreError, StoreUnavailable
from ledger.store.migrations import MIGRATIONS_TABLE, Migration, load_migrations
from ledger.store.postgres_url import PostgresOptions

if TYPE_CHECKING:
    from psycopg import Connection

_MIGRATE_LOCK = 0x434C4D32
"""The advisory-lock class of migrations ("CLM2"); the other key is the schema's."""


class PostgresSchema:
    """Connections and migrations for one ledger schema."""

    def __init__(self, options: PostgresOptions, *, clock: Clock | None = None) -> None:
        self.options = options
        self._clock = clock or SystemClock()
        self.lock_key = _signed32(zlib.crc32(options.schema.encode()))
        """The schema's half of every advisory-lock key: ledgers in other schemas
        of the same database never wait on each other."""

    @property
    def url(self) -> str:
        return self.options.display

    def configure(self, conn: Connection) -> None:
        """Every connection works in the ledger's schema under its statement timeout."""
        conn.execute(
            "SELECT set_config('search_path', %s, false),"
            " set_config('statement_timeout', %s, false)",
            (self.options.schema, str(self.options.statement_timeout_ms)),
        )

    def connect(self) -> Connection:
        """A connection of its own, with errors that say what is wrong: unreachable,
        refused, wrong credentials, no such database."""
        try:
            conn = psycopg.connect(
                self.options.conninfo,
                autocommit=True,
                connect_timeout=self.options.connect_timeout_s,
            )
        except psycopg.Error as exc:
            raise StoreUnavailable(
                f"cannot connect to PostgreSQL at {self.url}: {first_line(exc)}", url=self.url
            ) from exc
        try:
            self.configure(conn)
        except psycopg.Error as exc:
            conn.close()
            raise StoreUnavailable(
                f"cannot use PostgreSQL at {self.url}: {first_line(exc)}", url=self.url
            ) from exc
        return conn

    def status(self) -> tuple[list[Migration], int]:
        """The migrations this release ships and the version the schema is at."""
        with self.connect() as conn:
            try:
                return load_migrations("postgres"), self.applied(conn)
            except psycopg.Error as exc:
                raise StoreError(f"cannot read {self.url}: {first_line(exc)}") from exc

    def migrate(self) -> list[Migration]:
        """Apply pending migrations; the ones applied now."""
        with self.connect() as conn:
            return self.prepare(conn, migrate=True)

    def prepare(self, conn: Connection, *, migrate: bool) -> list[Migration]:
        """Bring the schema up to date, or refuse when ``migrate`` is off and it is behind."""
        migrations = load_migrations("postgres")
        try:
            applied = self.applied(conn)
            if applied >= migrations[-1].version:
                return []
            if not migrate:
                raise StoreError(
                    f"schema {self.options.schema!r} of {self.url} is at migration {applied},"
                    f" this release needs {migrations[-1].version}: run `claims db migrate`"
                )
            return self._apply(conn, migrations)
        except psycopg.Error as exc:
            raise StoreError(f"cannot migrate PostgreSQL at {self.url}: {first_line(exc)}") from exc

    def applied(self, conn: Connection) -> int:
        """The last migration applied to the schema (0: none, or no schema yet)."""
        row = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL",
            (f"{self.options.schema}.{MIGRATIONS_TABLE}",),
        ).fetchone()
        if row is None or not row[0]:
            return 0
        found = conn.execute(f"SELECT max(version) FROM {MIGRATIONS_TABLE}").fetchone()
        return int(found[0] or 0) if found else 0

    def _apply(self, conn: Connection, migrations: list[Migration]) -> list[Migration]:
        done: list[Migration] = []
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_MIGRATE_LOCK, self.lock_key))
            conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    sql.Identifier(self.options.schema)
                )
            )
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            applied = self.applied(conn)
            for migration in migrations:
                if migration.version <= applied:
                    continue
                conn.execute(migration.sql.encode())
                conn.execute(
                    f"INSERT INTO {MIGRATIONS_TABLE} (version, name, applied_at)"
                    " VALUES (%s, %s, %s)",
                    (migration.version, migration.name, self._clock.now().isoformat()),
                )
                done.append(migration)
        return done


def first_line(exc: BaseException) -> str:
    """The first line of a driver message (libpq adds hints and context below it)."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _signed32(value: int) -> int:
    return value - (1 << 32) if value >= (1 << 31) else value
