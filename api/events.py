"""Ledger records as seed 002's live events: a name, the record's position as id, a body.

Seed 002 names four events (``task:claimed``, ``task:released``,
``task:claim-expired``, ``task:claim-orphaned``); the rest of the catalogue gets
names in the same style. A record type the table does not know yet is sent as
``ledger:<type>`` rather than dropped, so a stream never skips a position.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from ledger.clock import iso
from ledger.records import Record

EVENT_NAMES: dict[str, str] = {
    "task_registered": "task:registered",
    "task_status_changed": "task:status-changed",
    "fingerprint_reserved": "task:fingerprint-reserved",
    "session_started": "session:started",
    "session_ended": "session:ended",
    "claimed": "task:claimed",
    "heartbeat": "task:heartbeat",
    "released": "task:released",
    "expired": "task:claim-expired",
    "taken_over": "task:taken-over",
    "orphaned": "task:claim-orphaned",
    "tokens_used": "cost:tokens-used",
}

_encoder = msgspec.json.Encoder()


def event_name(record_type: str) -> str:
    """The SSE ``event:`` name of a record type."""
    return EVENT_NAMES.get(record_type) or f"ledger:{record_type}"


def camel(name: str) -> str:
    """``fencing_token`` -> ``fencingToken``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def event_body(record: Record) -> dict[str, Any]:
    """Seed 002's ``{"type": ..., "data": {...}}`` plus where the record sits."""
    data = msgspec.to_builtins(record.data, builtin_types=(datetime,))
    assert isinstance(data, dict)
    data.pop("type", None)
    return {
        "type": event_name(record.type),
        "position": record.position,
        "stream": record.stream,
        "version": record.version,
        "eventId": record.event_id,
        "occurredAt": iso(record.occurred_at),
        "recordedAt": iso(record.recorded_at),
        "actor": record.actor,
        "correlationId": record.correlation_id,
        "data": {camel(key): _plain(value) for key, value in data.items()},
    }


def _plain(value: Any) -> Any:
    """Times as every other body shows them: RFC 3339, UTC, milliseconds."""
    return iso(value) if isinstance(value, datetime) else value


def sse_frame(record: Record) -> bytes:
    """One ``text/event-stream`` message: ``id`` is the record's store position."""
    payload = _encoder.encode(event_body(record))
    name = event_name(record.type).encode()
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (record.position, name, payload)
