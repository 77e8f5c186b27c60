"""Canonical encoding and hashing of records. Encoders and decoders are built once.

The canonical encoding is msgspec's JSON with ``order="deterministic"``: struct
fields in declaration order, dict keys sorted, no whitespace. A stored record is
exactly ``canonical(Record)``; its ``hash`` covers ``canonical(UnhashedRecord)``,
which is the same bytes with the trailing ``,"hash":"…"`` member removed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec

from ledger.errors import CorruptLog
from ledger.events import EventBase, event_type
from ledger.records import NewEvent, Record, UnhashedRecord

_canonical = msgspec.json.Encoder(order="deterministic")
_record_decoder = msgspec.json.Decoder(Record)
HASH_MEMBER = b',"hash":"'
HASH_SUFFIX_LEN = len(HASH_MEMBER) + 64 + len(b'"}')
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def seal(
    new: NewEvent,
    *,
    position: int,
    stream: str,
    version: int,
    recorded_at: datetime,
    prev_hash: str,
    more: int = 0,
) -> tuple[Record, bytes]:
    """Give a new event its place in the log; return the record and its stored bytes."""
    body = unhashed_body(
        new,
        position=position,
        stream=stream,
        version=version,
        recorded_at=recorded_at,
        prev_hash=prev_hash,
        more=more,
    )
    digest = hashlib.sha256(body).hexdigest()
    stored = body[:-1] + b',"hash":"' + digest.encode("ascii") + b'"}'
    data = new.data
    record = Record(
        position=position,
        stream=stream,
        version=version,
        event_id=new.event_id,
        type=event_type(data),
        schema_version=type(data).SCHEMA_VERSION,
        occurred_at=new.occurred_at,
        recorded_at=recorded_at,
        actor=new.actor,
        correlation_id=new.correlation_id,
        causation_id=new.causation_id,
        data=data,
        more=more,
        prev_hash=prev_hash,
        hash=digest,
    )
    return record, stored


def unhashed_body(
    new: NewEvent,
    *,
    position: int,
    stream: str,
    version: int,
    recorded_at: datetime,
    prev_hash: str,
    more: int = 0,
) -> bytes:
    """The canonical bytes a record's hash covers: the record without its hash."""
    data = new.data
    unhashed = UnhashedRecord(
        position=position,
        stream=stream,
        version=version,
        event_id=new.event_id,
        type=event_type(data),
        schema_version=type(data).SCHEMA_VERSION,
        occurred_at=new.occurred_at,
        recorded_at=recorded_at,
        actor=new.actor,
        correlation_id=new.correlation_id,
        causation_id=new.causation_id,
        data=data,
        more=more,
        prev_hash=prev_hash,
    )
    return _canonical.encode(unhashed)


def encode_record(record: Record) -> bytes:
    """The canonical stored bytes of a record."""
    return _canonical.encode(record)


def decode_record(raw: bytes | str) -> Record:
    """Decode stored bytes; raises ``msgspec.DecodeError``, ``ValidationError`` or
    ``RecursionError`` (nested past msgspec's depth limit)."""
    return _record_decoder.decode(raw)


def decode_stored(raw: bytes, *, position: int, where: Callable[[int], str]) -> Record:
    """Decode a record read back from a store; bytes that do not decode are a
    ``CorruptLog`` naming where they sit (``where(position)``, built only then),
    never an unexpected crash."""
    try:
        return _record_decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
        place = where(position)
        raise CorruptLog(
            f"the record at {place} does not decode: {exc}", position=position, where=place
        ) from exc


def record_hash(record: Record) -> str:
    """Recompute the hash a record should carry, from its canonical encoding.

    Only records written under today's event schemas re-encode to their stored
    bytes; to check a stored record, use ``stored_hash`` on the bytes themselves.
    """
    encoded = _canonical.encode(record)
    body = encoded[:-HASH_SUFFIX_LEN] + b"}"
    return hashlib.sha256(body).hexdigest()


def stored_hash(raw: bytes) -> str | None:
    """The hash stored bytes should carry: the sha256 of them less their trailing
    ``,"hash":"…"`` member, exactly what ``seal`` hashed; ``None`` without that member.

    It covers every stored byte, so an edit that still decodes to an equal record
    (a renamed member with a default, another spelling of a time) is caught, and a
    record stored before a field was added still checks out after it was.
    """
    start = len(raw) - HASH_SUFFIX_LEN
    if start < 0 or not (raw.startswith(HASH_MEMBER, start) and raw.endswith(b'"}')):
        return None
    digest = hashlib.sha256(raw[:start])
    digest.update(b"}")
    return digest.hexdigest()


def encode_event(event: EventBase) -> bytes:
    return _canonical.encode(event)


def to_builtins(value: Any) -> Any:
    """Plain JSON-ready Python values (datetimes as RFC 3339 strings)."""
    return msgspec.to_builtins(value)


def micros(when: datetime) -> int:
    """Microseconds since the epoch, for indexed time columns."""
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
