"""Checked reads: every record a store hands out is checked as it is read.

A record read back is trusted only if its bytes decode, it holds the position it
was read at, its ``hash`` covers its stored bytes (S6) and, where the reader knows
the hash of the record before it in the store-wide chain, its ``prev_hash`` is
that hash. Anything else is ``CorruptLog`` naming the position: the command stops
there, and no reader folds, streams or feeds a record past a broken link.

Each check costs one sha256 of the record's bytes and a comparison, O(1) per
record: a reader of the whole log carries the previous hash along; a reader of
one stream (whose records are not neighbours in the chain) takes the hash of
each record's predecessor from the store's index (SQLite's ``hash`` column, the
JSONL line before it) in the same read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from hashlib import sha256

import msgspec

from ledger.codec import HASH_MEMBER, HASH_SUFFIX_LEN, decode_stored, stored_hash
from ledger.errors import CorruptLog
from ledger.records import GENESIS_HASH, Record

_decode = msgspec.json.Decoder(Record).decode

Where = Callable[[int], str]
"""Names the place of a position in a store (``row with position 7``)."""


def corrupt(position: int, where: Where, message: str) -> CorruptLog:
    """A ``CorruptLog`` for the record at ``position``, named where it sits."""
    place = where(position)
    return CorruptLog(
        f"the record at {place} {message}; run `claims verify`", position=position, where=place
    )


def checked_record(
    raw: object,
    *,
    position: int,
    where: Where,
    prev_hash: str | None = None,
    hash_column: object = None,
) -> Record:
    """Decode the stored bytes of the record at ``position`` and check them.

    ``prev_hash`` (when known) is the hash of the record before it in the chain;
    ``hash_column`` (when the backend keeps one) is the hash stored beside the body.
    """
    if not isinstance(raw, bytes):
        raise corrupt(position, where, f"is stored as {type(raw).__name__}, not as bytes")
    record = decode_stored(raw, position=position, where=where)
    if record.position != position:
        raise corrupt(position, where, f"holds position {record.position} (moved)")
    if stored_hash(raw) != record.hash:
        raise corrupt(position, where, "does not match its hash (edited after it was written)")
    if hash_column is not None and hash_column != record.hash:
        raise corrupt(position, where, "has an indexed hash that disagrees with its body")
    if prev_hash is not None and record.prev_hash != prev_hash:
        raise corrupt(
            position,
            where,
            "does not chain to the record before it (a record was removed, moved or edited)",
        )
    return record


def sound_record(
    raw: object, position: int, prev_hash: str | None, hash_column: object
) -> Record | None:
    """The record in ``raw`` if it passes every check ``checked_record`` makes, else
    ``None`` (and ``checked_record`` says what is wrong): the same checks in one call,
    for a walk of the whole log, with no error text built unless one fails."""
    if type(raw) is not bytes:
        return None
    start = len(raw) - HASH_SUFFIX_LEN
    if start < 0 or not (raw.startswith(HASH_MEMBER, start) and raw.endswith(b'"}')):
        return None
    try:
        record = _decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None
    digest = sha256(raw[:start])
    digest.update(b"}")
    if (
        record.position == position
        and digest.hexdigest() == record.hash
        and (hash_column is None or hash_column == record.hash)
        and record.prev_hash == prev_hash
    ):
        return record
    return None


def link_before(position: int, prev_hash: object) -> str | None:
    """The hash the record at ``position`` must chain to, given the hash found at
    ``position - 1`` (``None``: no record there). Position 1 chains to 64 zeros."""
    if position == 1:
        return GENESIS_HASH
    return prev_hash if isinstance(prev_hash, str) else None


def checked_chain(
    rows: Iterable[Sequence[object]], *, after: int, where: Where
) -> Iterator[Record]:
    """Records of a walk by position: ``rows`` answers ``(position, hash column,
    body)`` from position ``after`` on (the anchor, whose hash the first record must
    chain to; absent when ``after`` is 0) to the end of the walk, in order."""
    expected = after + 1
    prev: str | None = GENESIS_HASH if after == 0 else None
    for position, hash_column, body in rows:
        if prev is None:
            if position != after:
                raise corrupt(after, where, "is missing (the log has a gap)")
            prev = hash_column if isinstance(hash_column, str) else ""
            continue
        if position != expected:
            raise corrupt(expected, where, f"is missing (the next row holds {position})")
        record = sound_record(body, expected, prev, hash_column) or checked_record(
            body, position=expected, where=where, prev_hash=prev, hash_column=hash_column
        )
        prev = record.hash
        expected += 1
        yield record


def checked_stream(
    rows: Iterable[tuple[object, object, object, object]],
    *,
    stream: str,
    after_version: int,
    where: Where,
) -> list[Record]:
    """A stream's records from ``(position, hash column, body, hash of the record
    before in the log)`` rows in version order: each checked, chained to its
    predecessor in the log, and the versions without a gap (S2)."""
    records: list[Record] = []
    version = max(after_version, 0)
    for position, hash_column, body, before in rows:
        if not isinstance(position, int):
            raise corrupt(0, where, f"holds a position that is not a number ({position!r})")
        record = checked_record(
            body,
            position=position,
            where=where,
            prev_hash=link_before(position, before) or "",
            hash_column=hash_column,
        )
        version += 1
        if record.stream != stream or record.version != version:
            raise corrupt(
                position,
                where,
                f"holds {record.stream!r} v{record.version} where {stream!r} v{version} belongs",
            )
        records.append(record)
    return records
