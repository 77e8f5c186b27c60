"""The envelope: what a caller appends (``NewEvent``) and what the store keeps (``Record``)."""

from __future__ import annotations

import os
from datetime import datetime

import msgspec

from ledger.events import Event

IDS_A_DRAW = 256
"""Event ids drawn from ``os.urandom`` in one call."""
_drawn: list[str] = []


def new_event_id() -> str:
    """A fresh, unique event id: 128 random bits from ``os.urandom`` as 32 hex digits.

    The bits are drawn for 256 ids at a time: one system call where there was one an
    id, each releasing the GIL (a hand-over between threads when several write). A
    forked child empties the pool it inherited, so it never hands out its parent's ids;
    ``list.pop`` gives each id to one caller only."""
    try:
        return _drawn.pop()
    except IndexError:
        return _draw()


def _draw() -> str:
    digits = os.urandom(16 * IDS_A_DRAW).hex()
    _drawn.extend(digits[start : start + 32] for start in range(32, len(digits), 32))
    return digits[:32]


if hasattr(os, "register_at_fork"):  # POSIX; a platform without fork has no child to empty
    os.register_at_fork(after_in_child=_drawn.clear)


class NewEvent(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """An event on its way into a stream; the store adds position, version and hashes."""

    data: Event
    occurred_at: datetime
    actor: str
    event_id: str = msgspec.field(default_factory=new_event_id)
    correlation_id: str = ""
    causation_id: str | None = None


class Record(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One stored event. Field order is the canonical encoding order; ``hash`` is last.

    ``hash`` is the sha256 (hex) of the canonical JSON encoding of every other field,
    ``prev_hash`` the ``hash`` of the record at ``position - 1`` (64 zeros for the first).
    """

    position: int
    stream: str
    version: int
    event_id: str
    type: str
    schema_version: int
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    correlation_id: str
    causation_id: str | None
    data: Event
    more: int = 0
    """How many records of the same append follow this one (0 for the last), so a
    reader can tell a whole batch from the start of one (S1)."""
    prev_hash: str
    hash: str


class UnhashedRecord(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A ``Record`` without its own hash: the bytes that hash covers."""

    position: int
    stream: str
    version: int
    event_id: str
    type: str
    schema_version: int
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    correlation_id: str
    causation_id: str | None
    data: Event
    more: int = 0
    prev_hash: str


GENESIS_HASH = "0" * 64
