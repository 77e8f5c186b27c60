"""A witnessed head: the log's position, hash and time written down somewhere else.

The hash chain detects an edited, removed or moved record anywhere before the last
one, but not the removal of the last records themselves: the shorter log still
chains. A witness closes that gap. ``claims checkpoint`` prints the head as one
line a user keeps elsewhere (a git note, a ticket)::

    claims-head position=1234 hash=9f2c…(64 hex digits) time=2026-12-04T16:58:37.123456Z

and ``claims verify --witness LINE|FILE`` refuses a log that is shorter than the
witnessed position or holds another record there. Snapshots and the analytics
checkpoint witness their own position and hash the same way.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import msgspec

from ledger.errors import CorruptLog, InvalidInput
from ledger.store.protocol import Head

PREFIX = "claims-head"
_LINE = re.compile(
    r"claims-head position=(?P<position>\d{1,18}) hash=(?P<hash>[0-9a-f]{64})"
    r"(?: time=(?P<time>\S+))?"
)


class Witness(msgspec.Struct, frozen=True, kw_only=True):
    """A position of the log and the hash of its record there, seen at a time."""

    position: int
    hash: str
    recorded_at: datetime | None = None


def witness_line(head: Head) -> str:
    """The one line ``claims checkpoint`` prints for a head."""
    line = f"{PREFIX} position={head.position} hash={head.hash}"
    if head.recorded_at is not None:
        line += f" time={head.recorded_at.isoformat().replace('+00:00', 'Z')}"
    return line


def parse_witness(text: str) -> Witness:
    """A witness from its line, or from a file holding it (the last such line wins)."""
    source = text.strip()
    if not source.startswith(PREFIX):
        source = _read_file(source)
    found = [match for match in map(_LINE.fullmatch, source.split("\n")) if match]
    if not found:
        raise InvalidInput(
            f"no witness line found; expected `{PREFIX} position=N hash=<64 hex digits>"
            " [time=...]` as printed by `claims checkpoint`"
        )
    match = found[-1]
    recorded_at = None
    if match["time"]:
        try:
            recorded_at = msgspec.convert(match["time"], datetime)
        except msgspec.ValidationError as exc:
            raise InvalidInput(f"the witness's time is not a time: {match['time']!r}") from exc
    return Witness(position=int(match["position"]), hash=match["hash"], recorded_at=recorded_at)


def witness_problem(witness: Witness, position: int, digest: str | None) -> str | None:
    """Why a log whose last position is ``position`` and whose record at the
    witnessed position has hash ``digest`` (``None``: no such record) does not
    hold what was witnessed; ``None`` if it does."""
    if position < witness.position:
        return (
            f"the log ends at position {position}, but position {witness.position} was"
            f" witnessed{_at(witness)}: records were removed from its end"
        )
    if witness.position and digest != witness.hash:
        return (
            f"the record at position {witness.position} is not the one witnessed"
            f"{_at(witness)} (hash {witness.hash[:16]}…): the log was rewritten"
        )
    return None


def refuse_unwitnessed(witness: Witness, position: int, digest: str | None, *, by: str) -> None:
    """Raise ``CorruptLog`` unless the log holds what ``by`` (a snapshot, the analytics
    checkpoint) witnessed."""
    problem = witness_problem(witness, position, digest)
    if problem is not None:
        raise CorruptLog(
            f"{by}: {problem}; run `claims verify`",
            position=min(position + 1, witness.position),
            witnessed=witness.position,
        )


def _at(witness: Witness) -> str:
    return "" if witness.recorded_at is None else f" at {witness.recorded_at.isoformat()}"


def _read_file(name: str) -> str:
    try:
        return Path(name).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InvalidInput(
            f"the witness is neither a `{PREFIX}` line nor a readable file: {exc}"
        ) from exc
