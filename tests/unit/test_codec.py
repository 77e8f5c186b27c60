"""The canonical encoding of records and the hash that covers it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from ledger.codec import decode_record, encode_record, micros, record_hash, seal, stored_hash
from ledger.events import Claimed, TaskRegistered
from ledger.records import GENESIS_HASH, NewEvent, Record

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
HASH_MEMBER = b',"hash":"'


def _claimed(metadata: dict[str, object]) -> NewEvent:
    return NewEvent(
        data=Claimed(
            task_id="t1",
            session_id="s1",
            fencing_token=2,
            ttl_ms=60_000,
            expires_at=NOW + timedelta(minutes=1),
            scope=("src/", "docs/"),
            metadata=metadata,
        ),
        occurred_at=NOW,
        actor="s1",
        event_id="e" * 32,
        correlation_id="c1",
        causation_id="c0",
    )


def _sealed(new: NewEvent | None = None, prev_hash: str = GENESIS_HASH) -> tuple[Record, bytes]:
    return seal(
        new or _claimed({"b": 1, "a": [1, "x"]}),
        position=1,
        stream="task-t1",
        version=1,
        recorded_at=NOW,
        prev_hash=prev_hash,
    )


def test_sealed_bytes_are_the_canonical_encoding_of_the_record() -> None:
    """seal returns exactly the bytes encode_record gives for the record it returns."""
    record, stored = _sealed()

    assert stored == encode_record(record)


def test_stored_bytes_decode_back_to_the_record() -> None:
    """decode_record of the stored bytes gives an equal record."""
    record, stored = _sealed()

    assert decode_record(stored) == record


def test_decoding_and_encoding_again_gives_the_same_bytes() -> None:
    """Canonical bytes survive a decode and re-encode unchanged."""
    _, stored = _sealed()

    assert encode_record(decode_record(stored)) == stored


def test_the_hash_member_comes_last() -> None:
    """The stored bytes end with the record's hash member."""
    record, stored = _sealed()

    assert stored.endswith(HASH_MEMBER + record.hash.encode() + b'"}')


def test_the_hash_is_the_sha256_of_the_bytes_without_the_hash_member() -> None:
    """The hash covers the stored bytes less the trailing hash member."""
    record, stored = _sealed()
    covered = stored[: stored.rindex(HASH_MEMBER)] + b"}"

    assert record.hash == hashlib.sha256(covered).hexdigest()


def test_stored_hash_recomputes_the_hash_from_stored_bytes() -> None:
    """stored_hash of stored bytes is the hash they carry."""
    record, stored = _sealed()

    assert stored_hash(stored) == record.hash


def test_stored_hash_of_bytes_without_a_hash_member_is_none() -> None:
    """Bytes that do not end in a hash member have no stored hash."""
    _, stored = _sealed()

    assert stored_hash(stored[: stored.rindex(HASH_MEMBER)] + b"}") is None


def test_record_hash_recomputes_the_hash_from_the_record() -> None:
    """record_hash of a freshly sealed record is its hash."""
    record, _ = _sealed()

    assert record_hash(record) == record.hash


def test_the_hash_covers_the_previous_hash() -> None:
    """The same event chained to another predecessor gets another hash."""
    new = _claimed({})

    assert _sealed(new)[0].hash != _sealed(new, prev_hash="f" * 64)[0].hash


def test_dict_keys_are_encoded_sorted() -> None:
    """Metadata keys are stored in sorted order, whatever order the caller built them in."""
    _, forwards = _sealed(_claimed({"a": 1, "b": {"y": 2, "x": 3}}))
    _, backwards = _sealed(_claimed({"b": {"x": 3, "y": 2}, "a": 1}))

    assert forwards == backwards
    assert b'"metadata":{"a":1,"b":{"x":3,"y":2}}' in forwards


def test_the_record_carries_its_events_tag_and_schema_version() -> None:
    """type is the event's tag, schema_version its class's version."""
    record, stored = _sealed()

    assert (record.type, record.schema_version) == ("claimed", 1)
    assert b'"data":{"type":"claimed",' in stored


def test_every_single_byte_change_is_caught_by_the_hash() -> None:
    """Changing any one byte of a stored record makes it undecodable or breaks its hash."""
    _, stored = _sealed(
        NewEvent(
            data=TaskRegistered(task_id="t1", title="a title"),
            occurred_at=NOW,
            actor="tester",
        )
    )
    missed = []
    for offset in range(len(stored)):
        for replacement in {stored[offset] ^ 1, ord(" ")} - {stored[offset]}:
            tampered = stored[:offset] + bytes([replacement]) + stored[offset + 1 :]
            try:
                carried = decode_record(tampered).hash
            except (msgspec.DecodeError, msgspec.ValidationError):
                continue
            if stored_hash(tampered) == carried:
                missed.append((offset, replacement))

    assert missed == []


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (datetime(1970, 1, 1, tzinfo=UTC), 0),
        (datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=UTC), 1_000_005),
        (datetime(2026, 1, 1, tzinfo=UTC), 1_767_225_600_000_000),
    ],
)
def test_micros_counts_microseconds_since_the_epoch(when: datetime, expected: int) -> None:
    """micros gives whole microseconds since 1970-01-01 UTC."""
    assert micros(when) == expected
