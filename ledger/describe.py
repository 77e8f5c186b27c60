"""One line a person can read for each kind of event, for timelines and live feeds."""

from __future__ import annotations

from ledger.clock import iso
from ledger.events import (
    Claimed,
    Event,
    Expired,
    FingerprintReserved,
    Heartbeat,
    Orphaned,
    Released,
    SessionEnded,
    SessionStarted,
    TakenOver,
    TaskRegistered,
    TaskStatusChanged,
    TokensUsed,
)


def describe(event: Event) -> str:
    match event:
        case TaskRegistered():
            return (
                f"task {event.task_id} registered: {event.title!r}"
                f" ({event.priority}, ROI {event.roi:g})"
            )
        case TaskStatusChanged():
            return f"task {event.task_id} {event.previous} -> {event.status}" + (
                f" ({event.reason})" if event.reason else ""
            )
        case FingerprintReserved():
            return f"fingerprint {event.fingerprint} reserved for {event.task_id}"
        case SessionStarted():
            pid = f", pid {event.pid}" if event.pid is not None else ""
            return f"session {event.session_id} started ({event.agent_type} on {event.host}{pid})"
        case SessionEnded():
            return f"session {event.session_id} ended ({event.reason})"
        case Claimed():
            return (
                f"{event.session_id} claimed {event.task_id} (token {event.fencing_token},"
                f" until {iso(event.expires_at)})"
            )
        case Heartbeat():
            return (
                f"{event.session_id} heartbeat on {event.task_id} (until {iso(event.expires_at)})"
            )
        case Released():
            return f"{event.session_id} released {event.task_id} ({event.reason})"
        case Expired():
            return (
                f"claim of {event.session_id} on {event.task_id} expired at {iso(event.expired_at)}"
            )
        case TakenOver():
            how = f"forced by {event.forced_by}" if event.forced else "after expiry"
            return (
                f"{event.to_session} took {event.task_id} over from {event.from_session}"
                f" ({how}: {event.handoff_reason}; token {event.fencing_token})"
            )
        case Orphaned():
            return f"claim of {event.session_id} on {event.task_id} orphaned ({event.reason})"
        case TokensUsed():
            where = f"on {event.task_id}" if event.task_id else "unattributed"
            total = event.input_tokens + event.output_tokens
            cached = event.cache_creation_tokens + event.cache_read_tokens
            return (
                f"{event.session_id} used {total} tokens {where}"
                f" (+{cached} cache; {event.source} message {event.message_id})"
            )
