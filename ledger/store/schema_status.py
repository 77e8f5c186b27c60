"""Which migrations a store's schema has, for ``claims db status`` and ``claims db migrate``.

PostgreSQL is inspected and migrated without opening a pool (a schema that is
behind cannot be opened when its URL says ``migrate=false``). SQLite migrates
itself whenever it opens; its status is read from the file without writing.
JSONL and memory stores have no schema.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import msgspec

from ledger.errors import StoreError
from ledger.store.factory import POSTGRES_SCHEMES, parse_store_url
from ledger.store.migrations import MIGRATIONS_TABLE, Migration, load_migrations


class SchemaStatus(msgspec.Struct, frozen=True, kw_only=True):
    backend: str
    url: str
    applied: int
    """The last migration applied (0: none yet, or a backend without a schema)."""
    latest: int
    """The last migration this release ships (0: the backend has no schema)."""
    pending: list[str]
    """``NNNN_name`` of each migration not applied yet."""


def schema_status(url: str) -> SchemaStatus:
    """The schema's state, changing nothing."""
    if url.partition(":")[0] in POSTGRES_SCHEMES:
        from ledger.store.postgres_schema import PostgresSchema
        from ledger.store.postgres_url import parse_postgres_url

        schema = PostgresSchema(parse_postgres_url(url))
        shipped, applied = schema.status()
        return _status("postgresql", schema.url, shipped, applied)
    scheme, path, _ = parse_store_url(url)
    if scheme != "sqlite":
        return SchemaStatus(backend=scheme, url=url, applied=0, latest=0, pending=[])
    return _status("sqlite", url, load_migrations("sqlite"), _sqlite_applied(Path(path)))


def migrate_store(url: str) -> tuple[SchemaStatus, list[str]]:
    """Apply pending migrations; the status after, and ``NNNN_name`` of those applied now."""
    before = schema_status(url)
    if before.backend == "postgresql":
        from ledger.store.postgres_schema import PostgresSchema
        from ledger.store.postgres_url import parse_postgres_url

        done = [_label(m) for m in PostgresSchema(parse_postgres_url(url)).migrate()]
    elif before.backend == "sqlite":
        from ledger.store.factory import open_store

        open_store(url).close()
        done = before.pending
    else:
        done = []
    return schema_status(url), done


def _status(backend: str, url: str, shipped: list[Migration], applied: int) -> SchemaStatus:
    return SchemaStatus(
        backend=backend,
        url=url,
        applied=applied,
        latest=shipped[-1].version,
        pending=[_label(m) for m in shipped if m.version > applied],
    )


def _label(migration: Migration) -> str:
    return f"{migration.version:04d}_{migration.name}"


def _sqlite_applied(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            row = db.execute(f"SELECT max(version) FROM {MIGRATIONS_TABLE}").fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return 0
        raise StoreError(f"cannot read the SQLite store at {path}: {exc}") from exc
    return int(row[0] or 0)
