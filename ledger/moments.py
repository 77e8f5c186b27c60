"""A moment in the log: a ledger position or a point in time (``--as-of``, ``?asOf=``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ledger.store.protocol import EventStore

Moment = int | datetime


def parse_moment(text: str) -> Moment:
    """A position (digits) or an ISO 8601 time (UTC when no zone is given)."""
    cleaned = text.strip()
    if cleaned.isdigit():
        return int(cleaned)
    try:
        when = datetime.fromisoformat(cleaned.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ValueError(
            f"{text!r} is neither a position nor a time like 2026-11-24T09:30:00Z"
        ) from exc
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def position_of(store: EventStore, moment: Moment | None, *, after: bool) -> int | None:
    """A ``from``/``until`` moment as a position (``from`` is inclusive)."""
    if moment is None:
        return None
    if isinstance(moment, datetime):
        if after:  # the first record written at or after the moment
            return store.position_at(moment - timedelta(microseconds=1)) + 1
        return store.position_at(moment)
    return moment
