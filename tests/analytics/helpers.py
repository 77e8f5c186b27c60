"""Helpers for the analytics tests: a fed analytics store and the reference fold."""

from __future__ import annotations

from ledger.store.protocol import EventStore
from projections.analytics import Analytics
from projections.analytics.reference import ReferenceFold


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
