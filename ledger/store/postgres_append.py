"""The PostgreSQL append in one round trip: the client's half of ``append_events``.

A record's hash covers its position, version, recorded-at time and the hash before
it, and those are only known under the ledger's lock, on the server. So the client
encodes each event canonically with placeholders for those four values and cuts
the bytes into three constant parts around them (``Template``); the server function
(``sql/postgres/0004_append_in_one_statement.sql``) checks the record it links to
and each member's decision times, joins the parts with the real values under the
lock, hashes, links, inserts and notifies, all in one statement run on its own: the
transaction is the statement. The client then seals the same records itself from the
values the server returns and checks that every hash agrees, so a body that differs
from ``codec.seal``'s is reported, never taken silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from ledger.codec import unhashed_body
from ledger.errors import ClockAhead, StoreError
from ledger.events import event_type
from ledger.records import GENESIS_HASH, NewEvent, Record
from ledger.store.batch import check_expected, replayed_batch, seal_batch
from ledger.store.group import MEMBER_ERRORS, AppendRequest, Outcome
from ledger.store.postgres_arrays import ByteaArray, Int4Array, Int8Array, TextArray
from ledger.store.postgres_prepared import Param
from ledger.store.protocol import Head
from ledger.store.rows import decode_row, from_micros
from ledger.store.server_clock import check_decided, decision_bounds

if TYPE_CHECKING:
    from psycopg import Connection

APPEND_SQL = (
    "SELECT o_status, o_version, o_first_position, o_prev_hash, o_recorded_us, o_hashes"
    " FROM append_events(%s::text[], %s::bigint[], %s::int[], %s::text[], %s::text[],"
    " %s::bytea[], %s::bytea[], %s::bytea[], %s, %s, %s, %s::bigint, %s::bigint[],"
    " %s::bigint[])"
)
_PLACEHOLDER_TIME = datetime(2000, 1, 1, tzinfo=UTC)
_PREFIX = b'{"position":0'
_VERSION = b',"version":'
_RECORDED = b',"recorded_at":"'
_TAIL = 66
"""The last 66 bytes of an unhashed body: the 64 digits of ``prev_hash`` and ``"}``."""


class Template(msgspec.Struct, frozen=True, gc=False):
    """An event's canonical body less its position, version, time and previous hash."""

    part_a: bytes
    """``,"stream":…,"version":`` between the position and the version."""
    part_b: bytes
    """From after the version to the opening quote of ``recorded_at``'s value."""
    part_c: bytes
    """From the closing quote of ``recorded_at``'s value to ``"prev_hash":"``."""


def template(stream: str, new: NewEvent, more: int) -> Template:
    """Cut ``new``'s canonical body around the values the server fills in.

    The cuts are found by bytes no JSON string value can hold (a bare ``"`` is
    always escaped inside one), and the members before ``recorded_at`` are an id,
    a type, a number and a time, so the first match is the member itself.
    """
    body = unhashed_body(
        new,
        position=0,
        stream=stream,
        version=0,
        recorded_at=_PLACEHOLDER_TIME,
        prev_hash=GENESIS_HASH,
        more=more,
    )
    start = len(_PREFIX)
    version_at = body.index(_VERSION + b"0,", start) + len(_VERSION)
    recorded_at = body.index(_RECORDED, version_at) + len(_RECORDED)
    recorded_end = body.index(b'"', recorded_at)
    return Template(
        part_a=body[start:version_at],
        part_b=body[version_at + 1 : recorded_at],
        part_c=body[recorded_end:-_TAIL],
    )


def call_arguments(
    requests: Sequence[AppendRequest],
    lock: tuple[int, int],
    channel: str,
    now_us: int | None,
    *,
    decisions: bool,
) -> tuple[Param, ...]:
    """The parameters of ``APPEND_SQL`` for a group of appends, in order; ``now_us``
    ``None`` stamps the records with the server's clock; ``decisions`` has the server
    refuse a member whose lease decisions its stamp no longer bears out (ADR 0017)."""
    streams: list[str] = []
    expected: list[int] = []
    counts: list[int] = []
    ids: list[str] = []
    types: list[str] = []
    parts: tuple[list[bytes], list[bytes], list[bytes]] = ([], [], [])
    ahead: list[int | None] = []
    deadline: list[int | None] = []
    for request in requests:
        if decisions:
            bounds = decision_bounds(request.events)
            ahead.append(bounds[0])
            deadline.append(bounds[1])
        streams.append(request.stream)
        expected.append(request.expected_version)
        counts.append(len(request.events))
        for offset, new in enumerate(request.events, start=1):
            cut = template(request.stream, new, len(request.events) - offset)
            ids.append(new.event_id)
            types.append(event_type(new.data))
            parts[0].append(cut.part_a)
            parts[1].append(cut.part_b)
            parts[2].append(cut.part_c)
    timed = decisions and any(bound is not None for bound in ahead)
    return (
        TextArray.of(streams),
        Int8Array.of(expected),
        Int4Array.of(counts),
        TextArray.of(ids),
        TextArray.of(types),
        *(ByteaArray.of(part) for part in parts),
        *lock,
        channel,
        now_us,
        Int8Array.of(ahead) if timed else None,
        Int8Array.of(deadline) if timed else None,
    )


def outcomes(
    conn: Connection, requests: Sequence[AppendRequest], rows: Sequence[Sequence[Any]]
) -> list[Outcome]:
    """Each member's answer from the function's rows (one a member, in order)."""
    if len(rows) != len(requests):
        raise StoreError(f"append_events answered {len(rows)} rows for {len(requests)} appends")
    return [_outcome(conn, request, row) for request, row in zip(requests, rows, strict=True)]


def _outcome(conn: Connection, request: AppendRequest, row: Sequence[Any]) -> Outcome:
    status, version, first_position, prev_hash, recorded_us, hashes = row[:6]
    try:
        if status == "stored":
            return _replay(conn, request)
        if status in ("ahead", "late"):
            return _undecided(request, recorded_us)
        current = int(version)
        check_expected(request.stream, request.expected_version, current)
    except (*MEMBER_ERRORS, ClockAhead) as refused:
        return refused
    head = Head(position=first_position - 1, hash=prev_hash, recorded_at=None)
    sealed = seal_batch(
        request.stream,
        request.events,
        current_version=current,
        head=head,
        now=from_micros(recorded_us),
    )
    records = [record for record, _ in sealed]
    if [record.hash for record in records] != list(hashes):
        raise StoreError(
            f"the server sealed stream {request.stream!r} at position {first_position}"
            " differently from ledger.codec.seal"
        )
    return records


def _replay(conn: Connection, request: AppendRequest) -> list[Record]:
    """The stored records of a re-appended batch (S5), or ``DuplicateEventId``."""
    ids = [event.event_id for event in request.events]
    rows = conn.execute(
        "SELECT position, event_id, body FROM events WHERE event_id = ANY(%s)", (ids,)
    ).fetchall()
    found = {event_id: decode_row(position, body) for position, event_id, body in rows}
    stored = [found.get(event_id) for event_id in ids]
    replay = replayed_batch(request.stream, request.events, stored)
    if replay is None:
        raise StoreError(f"event ids of stream {request.stream!r} vanished during an append")
    return replay


def _undecided(request: AppendRequest, recorded_us: int) -> Outcome:
    """The refusal of a member the server found ``ahead`` or ``late`` at its stamp:
    the error ``check_decided`` names at that time (``CLOCK_AHEAD``, or a conflict the
    writer decides again)."""
    now = from_micros(int(recorded_us))
    for event in request.events:
        check_decided(event, now)
    return StoreError(
        f"the server refused stream {request.stream!r} for its decision times at"
        f" {recorded_us} us, which the client's check bears out"
    )
