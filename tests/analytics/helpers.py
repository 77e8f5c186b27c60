"""Helpers for the analytics tests: a fed analytics store and the reference fold."""

from __future__ import annotations

import duckdb
import msgspec

from ledger.store.protocol import EventStore
from projections.analytics import Analytics
from projections.analytics.reference import ReferenceFold
from projections.analytics.rows import ROW_TYPES
from projections.analytics.schema import ORDER_BY, TABLES
from projections.analytics.transfer import TableShape, fetch


def fed(store: EventStore, *, batch: int | None = None) -> Analytics:
    """An in-memory analytics store brought up to date with ``store``."""
    analytics = Analytics()
    if batch is None:
        analytics.update(store)
    else:
        from projections.analytics.feeder import update

        update(analytics.con, store, batch=batch)
    return analytics


def reference(store: EventStore) -> ReferenceFold:
    """The plain-Python fold over the whole log."""
    return ReferenceFold().run(store.read_all())


def dump(con: duckdb.DuckDBPyConnection) -> dict[str, list[msgspec.Struct]]:
    """Every row of every analytics table, in each table's stable order."""
    found: dict[str, list[msgspec.Struct]] = {}
    for table in TABLES:
        row_type = ROW_TYPES[table]
        shape = TableShape(con, table, row_type)
        found[table] = fetch(con, shape, row_type, f"TRUE ORDER BY {ORDER_BY[table]}")
    return found
