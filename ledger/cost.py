"""Measured cost: appending token usage to a session's cost stream, each message once.

A session's usage lives in the stream ``cost-<session>``, one ``tokens_used`` record
per model message. An import reads that stream, keeps the messages whose ids it
does not hold yet, and appends them at the version it read; a racing import makes
the append fail with a concurrency conflict, and the loser reads again, so a
message is stored once however often, and however concurrently, a transcript is
imported (ADR "measured cost per claim"). Each record's event id is derived from
the session and the message id as well, so even a writer that skipped the read
could not store a message twice (invariant S5).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from ledger.clock import Clock
from ledger.errors import ConcurrencyConflict, DuplicateEventId
from ledger.events import TokensUsed, cost_stream
from ledger.records import NewEvent, Record, new_event_id
from ledger.store.protocol import NO_STREAM, EventStore

MAX_ATTEMPTS = 16


def usage_event_id(session_id: str, message_id: str) -> str:
    """The event id of a message's usage record: the same on every import."""
    digest = hashlib.sha256(f"tokens_used\0{session_id}\0{message_id}".encode())
    return digest.hexdigest()[:32]


def recorded_message_ids(store: EventStore, session_id: str) -> tuple[set[str], int]:
    """The message ids the session's cost stream holds, and its version."""
    records = store.read_stream(cost_stream(session_id))
    ids = {record.data.message_id for record in records if isinstance(record.data, TokensUsed)}
    return ids, records[-1].version if records else NO_STREAM


def append_usage(
    store: EventStore,
    session_id: str,
    usages: Sequence[TokensUsed],
    *,
    clock: Clock,
) -> list[Record]:
    """Append the usages whose message ids are new to the session's cost stream, in one
    all-or-nothing append; returns the records written (none when all were known)."""
    correlation_id = new_event_id()
    for _ in range(MAX_ATTEMPTS):
        known, version = recorded_message_ids(store, session_id)
        fresh = _first_of_each(usage for usage in usages if usage.message_id not in known)
        if not fresh:
            return []
        now = clock.now()
        events = [
            NewEvent(
                data=usage,
                occurred_at=now,
                actor=session_id,
                event_id=usage_event_id(session_id, usage.message_id),
                correlation_id=correlation_id,
            )
            for usage in fresh
        ]
        try:
            return store.append(cost_stream(session_id), events, expected_version=version)
        except (ConcurrencyConflict, DuplicateEventId):
            continue
    raise ConcurrencyConflict(
        f"the cost stream of {session_id!r} kept moving; import again",
        stream=cost_stream(session_id),
    )


def _first_of_each(usages: Iterable[TokensUsed]) -> list[TokensUsed]:
    seen: set[str] = set()
    kept: list[TokensUsed] = []
    for usage in usages:
        if usage.message_id not in seen:
            seen.add(usage.message_id)
            kept.append(usage)
    return kept
