"""A SQLite append in one guarded statement (ADR 0016): the plan for a group written
on the head this connection left, and the statement that stores it only if the log is
still as assumed.

While the last row a connection committed may still be the head (its ``Tail``), the
next group is sealed here on that head, each member at the version it expects, and one
``INSERT ... SELECT`` in autocommit stores every row or none: only if the log's last
position is the tail's, the row there has the tail's hash and bytes, the row before it
has the hash the tail chains to (what ``checked_head`` checks of a head), and each
stream is at the version its first member expects. Whatever the guard does not hold,
the store commits the group the old way, so refusals and ``LOG_CORRUPT`` come from the
same code as before.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from ledger.records import Record
from ledger.store.batch import seal_batch
from ledger.store.group import MEMBER_ERRORS, AppendRequest, Outcome
from ledger.store.protocol import ANY, Head, head_at
from ledger.store.rows import COLUMNS, EventRow, event_row

GUARDED_ROWS = 256
"""Rows a guarded append writes at most (8 parameters each, under SQLite's limit);
a larger group is committed probe first."""


class Tail(NamedTuple):
    """A row this connection committed: its head, its stored bytes, and the hash of
    the row before it (what ``checked_head`` checks of a head row)."""

    head: Head
    body: bytes
    prev_hash: str

    @classmethod
    def of(cls, record: Record, raw: bytes) -> Tail:
        """The tail that ``record``, stored as ``raw``, makes."""
        return cls(head_at(record), raw, record.prev_hash)


class GuardedPlan(NamedTuple):
    """A group sealed on a tail: the statement and its parameters, the rows it stores,
    each member's records, and the tail once it is stored."""

    sql: str
    parameters: tuple[object, ...]
    rows: int
    outcomes: list[Outcome]
    tail: Tail


def plan_guarded(
    tail: Tail, requests: Sequence[AppendRequest], now: datetime
) -> GuardedPlan | None:
    """``requests`` sealed in order on ``tail``, each at the version it expects; ``None``
    when the group cannot be written this way: a member expects ``ANY`` or a version
    other than the one an earlier member of its stream left, a member is refused while
    sealing, or the group has more than ``GUARDED_ROWS`` rows."""
    versions: dict[str, int] = {}
    guards: list[object] = []
    head = tail.head
    rows: list[EventRow] = []
    outcomes: list[Outcome] = []
    last: Record | None = None
    for request in requests:
        stream, expected = request.stream, request.expected_version
        if expected == ANY:
            return None
        current = versions.get(stream)
        if current is None:
            guards.extend((stream, expected))
        elif current != expected:
            return None
        try:
            sealed = seal_batch(
                stream, request.events, current_version=expected, head=head, now=now
            )
        except MEMBER_ERRORS:
            return None
        rows.extend(event_row(record, raw) for record, raw in sealed)
        if len(rows) > GUARDED_ROWS:
            return None
        records = [record for record, _ in sealed]
        last = records[-1]
        versions[stream] = last.version
        head = head_at(last)
        outcomes.append(records)
    if last is None:
        return None
    parameters = (
        *itertools.chain.from_iterable(rows),
        tail.head.position,
        tail.head.position,
        tail.head.hash,
        tail.body,
        tail.head.position - 1,
        tail.prev_hash,
        *guards,
    )
    sql = guarded_sql(len(rows), len(guards) // 2)
    return GuardedPlan(sql, parameters, len(rows), outcomes, Tail.of(last, rows[-1][-1]))


@functools.lru_cache(maxsize=256)
def guarded_sql(rows: int, streams: int) -> str:
    """``rows`` new rows inserted only if the log's last row is at the given position
    with the given hash and body, the row before it has the given hash, and each of
    ``streams`` streams is at the given version (0: no record). Parameters: the rows'
    columns, the head's position twice, its hash and body, the position before it and
    its hash, then each stream's name and version."""
    values = ",".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * rows)
    versions = "".join(
        " AND coalesce((SELECT version FROM events WHERE stream = ?"
        " ORDER BY version DESC LIMIT 1), 0) = ?"
        for _ in range(streams)
    )
    return (
        f"INSERT INTO events ({COLUMNS}) SELECT * FROM (VALUES {values})"
        " WHERE (SELECT max(position) FROM events) = ?"
        " AND EXISTS (SELECT 1 FROM events WHERE position = ? AND hash = ? AND body = ?)"
        " AND EXISTS (SELECT 1 FROM events WHERE position = ? AND hash = ?)"
        f"{versions}"
    )
