"""Hypothesis strategies for every event type, and for JSON-shaped metadata."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from ledger.events import (
    TASK_STATUSES,
    Claimed,
    EventBase,
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

texts = st.text(max_size=24)
optional_texts = st.none() | texts
instants = st.datetimes(
    min_value=datetime(1971, 1, 1),
    max_value=datetime(2199, 12, 31),
    timezones=st.just(UTC),
)
tokens = st.integers(min_value=1, max_value=2**53)
durations = st.integers(min_value=0, max_value=2**40)
statuses = st.sampled_from(TASK_STATUSES)
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
string_tuples = st.lists(texts, max_size=3).map(tuple)

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | finite_floats
    | texts,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
metadata = st.dictionaries(st.text(max_size=8), json_values, max_size=4)


def _lease_fields() -> dict[str, st.SearchStrategy[Any]]:
    return {
        "ttl_ms": durations,
        "expires_at": instants,
        "agent_type": texts,
        "tier": optional_texts,
        "scope": string_tuples,
        "constraints": string_tuples,
        "metadata": metadata,
    }


EVENT_STRATEGIES: dict[type[EventBase], st.SearchStrategy[Any]] = {
    TaskRegistered: st.builds(
        TaskRegistered,
        task_id=texts,
        title=texts,
        priority=texts,
        roi=finite_floats,
        fingerprint=optional_texts,
        phase=optional_texts,
        status=statuses,
    ),
    TaskStatusChanged: st.builds(
        TaskStatusChanged, task_id=texts, status=statuses, previous=statuses, reason=optional_texts
    ),
    FingerprintReserved: st.builds(FingerprintReserved, fingerprint=texts, task_id=texts),
    SessionStarted: st.builds(
        SessionStarted,
        session_id=texts,
        agent_type=texts,
        tier=optional_texts,
        host=texts,
        pid=st.none() | st.integers(min_value=1, max_value=2**31),
    ),
    SessionEnded: st.builds(SessionEnded, session_id=texts, reason=texts),
    Claimed: st.builds(
        Claimed, task_id=texts, session_id=texts, fencing_token=tokens, **_lease_fields()
    ),
    Heartbeat: st.builds(
        Heartbeat,
        task_id=texts,
        session_id=texts,
        fencing_token=tokens,
        extend_ms=durations,
        expires_at=instants,
    ),
    Released: st.builds(
        Released, task_id=texts, session_id=texts, fencing_token=tokens, reason=texts
    ),
    Expired: st.builds(
        Expired, task_id=texts, session_id=texts, fencing_token=tokens, expired_at=instants
    ),
    TakenOver: st.builds(
        TakenOver,
        task_id=texts,
        from_session=texts,
        to_session=texts,
        previous_token=tokens,
        fencing_token=tokens,
        handoff_reason=texts,
        forced=st.booleans(),
        forced_by=optional_texts,
        **_lease_fields(),
    ),
    Orphaned: st.builds(
        Orphaned,
        task_id=texts,
        session_id=texts,
        fencing_token=tokens,
        reason=st.sampled_from(["session_ended", "process_gone", "heartbeat_timeout"]),
    ),
    TokensUsed: st.builds(
        TokensUsed,
        session_id=texts,
        message_id=texts,
        at=instants,
        source=st.sampled_from(["claude_code", "codex"]),
        model=optional_texts,
        task_id=optional_texts,
        fencing_token=st.none() | tokens,
        input_tokens=durations,
        output_tokens=durations,
        cache_creation_tokens=durations,
        cache_read_tokens=durations,
    ),
}

events = st.one_of(*EVENT_STRATEGIES.values())
