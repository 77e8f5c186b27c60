"""Every event type survives the canonical encoding, and its record's hash is stable."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.codec import (
    decode_record,
    encode_event,
    encode_record,
    record_hash,
    seal,
    stored_hash,
)
from ledger.events import EVENT_TYPES, Claimed, Event, EventBase, event_type
from ledger.records import NewEvent, Record
from tests.property.strategies import EVENT_STRATEGIES, events, instants, metadata, texts

SETTINGS = settings(max_examples=150, deadline=None)

new_events = st.builds(
    NewEvent,
    data=events,
    occurred_at=instants,
    actor=texts,
    event_id=st.text(min_size=1, max_size=40),
    correlation_id=texts,
    causation_id=st.none() | texts,
)
hashes = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


def _claim(data: dict[str, Any]) -> NewEvent:
    return NewEvent(
        data=Claimed(
            task_id="t",
            session_id="s",
            fencing_token=2,
            ttl_ms=60_000,
            expires_at=datetime(2026, 1, 1, tzinfo=UTC),
            metadata=data,
        ),
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        actor="s",
        event_id="e1",
    )


def _seal(new: NewEvent, position: int, prev_hash: str, recorded: datetime) -> tuple[Record, bytes]:
    return seal(
        new,
        position=position,
        stream="task-x",
        version=position,
        recorded_at=recorded,
        prev_hash=prev_hash,
    )


def test_every_event_type_has_a_strategy() -> None:
    """The round trips below draw every event type in the catalogue."""
    assert set(EVENT_STRATEGIES) == set(EVENT_TYPES)


@SETTINGS
@given(new=new_events, position=st.integers(1, 2**53), prev=hashes, recorded=instants)
def test_a_record_decodes_to_what_was_sealed(
    new: NewEvent, position: int, prev: str, recorded: datetime
) -> None:
    """decode_record(stored bytes) equals the record seal returned, event data included."""
    record, stored = _seal(new, position, prev, recorded)

    decoded = decode_record(stored)

    assert decoded == record
    assert decoded.data == new.data
    assert decoded.type == event_type(new.data)


@SETTINGS
@given(new=new_events, prev=hashes, recorded=instants)
def test_stored_bytes_are_canonical(new: NewEvent, prev: str, recorded: datetime) -> None:
    """Decoding and re-encoding the stored bytes gives the same bytes."""
    _, stored = _seal(new, 1, prev, recorded)

    assert encode_record(decode_record(stored)) == stored


@SETTINGS
@given(new=new_events, prev=hashes, recorded=instants)
def test_the_hash_checks_out_from_bytes_and_from_the_record(
    new: NewEvent, prev: str, recorded: datetime
) -> None:
    """The hash equals stored_hash of the bytes and record_hash of the decoded record."""
    record, stored = _seal(new, 1, prev, recorded)

    assert stored_hash(stored) == record.hash == record_hash(decode_record(stored))


@SETTINGS
@given(new=new_events, prev=hashes, recorded=instants)
def test_sealing_the_same_event_twice_gives_the_same_bytes(
    new: NewEvent, prev: str, recorded: datetime
) -> None:
    """The stored bytes and hash depend only on the content: sealing again gives the same."""
    assert _seal(new, 7, prev, recorded) == _seal(new, 7, prev, recorded)


@SETTINGS
@given(data=metadata, recorded=instants)
def test_metadata_key_order_does_not_change_the_hash(
    data: dict[str, Any], recorded: datetime
) -> None:
    """A claim's metadata built in reverse key order is stored in the same bytes."""
    forwards = _claim(data)
    backwards = _claim(dict(reversed(list(data.items()))))

    assert _seal(forwards, 1, "0" * 64, recorded) == _seal(backwards, 1, "0" * 64, recorded)


@SETTINGS
@given(event=events)
def test_an_event_round_trips_through_its_own_encoding(event: EventBase) -> None:
    """encode_event, decoded through the Event union, gives an equal event of the same type."""
    decoded = msgspec.json.decode(encode_event(event), type=Event)

    assert (decoded, type(decoded)) == (event, type(event))
