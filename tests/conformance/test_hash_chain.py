"""The hash chain (S6), recorded-at times (S7) and the raw stored bytes behind them."""

from __future__ import annotations

import hashlib
import itertools

from ledger.clock import FrozenClock
from ledger.codec import decode_record, encode_record, record_hash
from ledger.records import GENESIS_HASH
from ledger.store.protocol import ANY, NO_STREAM, EventStore
from tests.conformance.helpers import everything, notes

HASH_MEMBER = b',"hash":"'


def _fill(store: EventStore) -> None:
    """Three streams, batches of several sizes."""
    store.append("task-a", notes(2), expected_version=NO_STREAM)
    store.append("task-b", notes(3, first=2), expected_version=NO_STREAM)
    store.append("task-a", notes(1, first=5), expected_version=2)
    store.append("session-c", notes(2, first=6), expected_version=NO_STREAM)


def test_the_first_record_chains_to_the_genesis_hash(store: EventStore) -> None:
    """S6: the record at position 1 has 64 zeros as its prev_hash."""
    [record] = store.append("task-a", notes(1), expected_version=NO_STREAM)

    assert record.prev_hash == GENESIS_HASH


def test_every_record_chains_to_the_one_before_it(store: EventStore) -> None:
    """S6: across streams and batches, each prev_hash is the previous record's hash."""
    _fill(store)

    for earlier, later in itertools.pairwise(everything(store)):
        assert later.prev_hash == earlier.hash


def test_hashes_are_distinct(store: EventStore) -> None:
    """S6: no two records share a hash."""
    _fill(store)

    hashes = [record.hash for record in everything(store)]
    assert len(set(hashes)) == len(hashes) == 8


def test_each_hash_covers_the_stored_bytes_without_the_hash_member(store: EventStore) -> None:
    """S6: a record's hash is the sha256 of its stored bytes less the trailing hash member."""
    _fill(store)

    for entry, record in zip(store.raw_entries(), everything(store), strict=True):
        cut = entry.body.rindex(HASH_MEMBER)
        assert entry.body[cut:] == HASH_MEMBER + record.hash.encode() + b'"}'
        assert hashlib.sha256(entry.body[:cut] + b"}").hexdigest() == record.hash


def test_each_hash_matches_the_canonical_encoding_of_the_record(store: EventStore) -> None:
    """S6: recomputing the hash from the record read back gives the stored hash."""
    _fill(store)

    assert all(record_hash(record) == record.hash for record in everything(store))


def test_raw_entries_decode_to_the_records_read_back(store: EventStore) -> None:
    """S6: every raw entry decodes to the record at the same place in read_all."""
    _fill(store)

    decoded = [decode_record(entry.body) for entry in store.raw_entries()]

    assert decoded == everything(store)


def test_raw_entries_are_the_canonical_encoding_of_the_records(store: EventStore) -> None:
    """S6: the stored bytes are exactly the canonical encoding of each record."""
    _fill(store)

    stored = [entry.body for entry in store.raw_entries()]

    assert stored == [encode_record(record) for record in everything(store)]


def test_raw_entries_say_where_each_record_is(store: EventStore) -> None:
    """S6: every raw entry names where it is stored, and none is torn."""
    _fill(store)

    entries = list(store.raw_entries())

    assert len({entry.where for entry in entries}) == len(entries) == 8
    assert not any(entry.torn for entry in entries)


def test_recorded_at_comes_from_the_stores_clock(store: EventStore, clock: FrozenClock) -> None:
    """S7: a record is stamped with the store clock's time, not the event's occurred_at."""
    later = clock.advance(minutes=90)

    [record] = store.append("task-a", notes(1), expected_version=NO_STREAM)

    assert record.recorded_at == later
    assert record.occurred_at != later


def test_recorded_at_never_goes_back_when_the_clock_does(
    store: EventStore, clock: FrozenClock
) -> None:
    """S7: after the clock moves back an hour, new records keep the last recorded-at time."""
    clock.advance(minutes=10)
    [first] = store.append("task-a", notes(1), expected_version=NO_STREAM)
    clock.advance(minutes=-60)

    [second] = store.append("task-b", notes(1, first=1), expected_version=NO_STREAM)

    assert second.recorded_at == first.recorded_at
    assert store.read_stream("task-b")[0].recorded_at == first.recorded_at


def test_recorded_at_moves_on_once_the_clock_passes_the_last_record(
    store: EventStore, clock: FrozenClock
) -> None:
    """S7: when the clock comes back past the last recorded time, records take its time."""
    store.append("task-a", notes(1), expected_version=NO_STREAM)
    clock.advance(minutes=-60)
    store.append("task-a", notes(1, first=1), expected_version=ANY)
    later = clock.advance(minutes=61)

    [third] = store.append("task-a", notes(1, first=2), expected_version=ANY)

    assert third.recorded_at == later


def test_recorded_at_never_decreases_along_the_log(store: EventStore, clock: FrozenClock) -> None:
    """S7: with the clock jumping back and forth, recorded_at is non-decreasing by position."""
    for number, step in enumerate([5, -7, 3, -1, 10, -30, 2]):
        clock.advance(minutes=step)
        store.append("task-a", notes(1, first=number), expected_version=ANY)

    times = [record.recorded_at for record in everything(store)]
    assert times == sorted(times)
    assert len(set(times)) < len(times)
