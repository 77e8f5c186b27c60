"""``claims verify``: check a stored log record by record, and name the first bad one.

Checks, for every record in storage order: it decodes; its position is the one
before it plus one (S3); its stream version is its stream's previous plus one
(S2); its ``prev_hash`` is the previous record's hash and its ``hash`` matches
its stored bytes (S6); its ``recorded_at`` does not go back (S7); it continues
the append before it when that one said more records follow (S1); its
indexed columns (SQLite) agree with its body and hold the right types. With a
witness (``claims checkpoint``'s line), the log must reach the witnessed position
and hold the witnessed record there, which catches records cut from its end.
A torn last line of a JSONL file, or the first records of an append whose last
never arrived, is an unacknowledged append and is reported as a notice, not a
failure.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import msgspec

from ledger.codec import decode_record, stored_hash
from ledger.errors import CorruptLog
from ledger.events import event_type
from ledger.records import GENESIS_HASH, Record
from ledger.store.protocol import EventStore, RawEntry
from ledger.witness import Witness, witness_problem

_INDEXED_FIELDS = ("event_id", "type", "hash", "recorded_at")
"""Body fields a backend may also keep beside the body, and read without it."""


class Problem(msgspec.Struct, frozen=True):
    position: int
    where: str
    message: str


class VerifyReport(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    checked: int
    head_position: int
    head_hash: str
    problem: Problem | None = None
    notices: list[str] = []


def verify_store(
    store: EventStore,
    *,
    progress: Callable[[int], None] | None = None,
    witness: Witness | None = None,
) -> VerifyReport:
    """Walk every stored record; stop at the first that breaks an invariant. With a
    ``witness``, the log must also reach its position and hold its record there.

    It never crashes on a damaged store: whatever the store cannot even read (a
    dropped table, a malformed database file) is a problem at the position reached.
    """
    checker = _Checker(witness)
    try:
        return _walk(store, checker, progress)
    except CorruptLog as error:
        where = str(error.context.get("where", "the store"))
        return checker.failed_at(where, error.detail)


def _walk(
    store: EventStore, checker: _Checker, progress: Callable[[int], None] | None
) -> VerifyReport:
    notices: list[str] = []
    entries = store.raw_entries()
    for entry in entries:
        if entry.torn:
            if next(entries, None) is None:
                notices.append(
                    f"{entry.where}: an append that never completed ({len(entry.body)} bytes);"
                    " it was never acknowledged and the next append cuts it away"
                )
                break
            return checker.failed(entry, "a line without its newline inside the log")
        problem = checker.check(entry)
        if problem is not None:
            return checker.report(problem, notices)
        if progress is not None and checker.checked % 65536 == 0:
            progress(checker.checked)
    if checker.batch_open:
        notices.append(
            f"positions {checker.head_position + 1} to {checker.position}: the first records"
            " of an append whose last record never arrived; it was never acknowledged and"
            " the next append cuts it away"
        )
    return checker.report(checker.witness_problem(), notices)


class _Checker:
    def __init__(self, witness: Witness | None = None) -> None:
        self.witness = witness
        self.witnessed_hash: str | None = None
        self.checked = 0
        self.position = 0
        self.hash = GENESIS_HASH
        self.recorded_at: datetime | None = None
        self.versions: dict[str, int] = {}
        self.previous: Record | None = None
        self.head_position = 0
        self.head_hash = GENESIS_HASH

    @property
    def batch_open(self) -> bool:
        """The last record checked says more records of its append follow."""
        return self.previous is not None and self.previous.more > 0

    def check(self, entry: RawEntry) -> Problem | None:
        expected_position = self.position + 1
        if entry.fault is not None:
            return Problem(expected_position, entry.where, entry.fault)
        try:
            record = decode_record(entry.body)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
            return Problem(expected_position, entry.where, f"does not decode: {exc}")
        message = self._first_fault(entry, record, expected_position)
        if message is not None:
            return Problem(expected_position, entry.where, message)
        self.checked += 1
        self.position = record.position
        self.hash = record.hash
        self.recorded_at = record.recorded_at
        self.versions[record.stream] = record.version
        self.previous = record
        if self.witness is not None and record.position == self.witness.position:
            self.witnessed_hash = record.hash
        if record.more == 0:
            self.head_position = record.position
            self.head_hash = record.hash
        return None

    def _first_fault(self, entry: RawEntry, record: Record, position: int) -> str | None:
        expected_version = self.versions.get(record.stream, 0) + 1
        if record.position != position:
            return f"holds position {record.position}; expected {position} (missing or moved)"
        if entry.position is not None and entry.position != record.position:
            return f"is indexed at position {entry.position} but holds {record.position}"
        if record.version != expected_version:
            return (
                f"holds version {record.version} of stream {record.stream!r};"
                f" expected {expected_version}"
            )
        if (entry.stream, entry.version) not in ((None, None), (record.stream, record.version)):
            return f"is indexed as {entry.stream!r} v{entry.version} but holds another record"
        for name in _INDEXED_FIELDS:
            indexed = getattr(entry, name)
            if indexed is not None and indexed != getattr(record, name):
                return f"its indexed {name} ({indexed}) disagrees with its body"
        if (
            self.batch_open
            and self.previous is not None
            and (record.stream != self.previous.stream or record.more != self.previous.more - 1)
        ):
            return "breaks off the append before it, whose last record never arrived"
        if record.prev_hash != self.hash:
            return "prev_hash does not match the hash of the record before it"
        if stored_hash(entry.body) != record.hash:
            return "hash does not match its content (edited after it was written)"
        if record.type != event_type(record.data):
            return f"type {record.type!r} does not match its data"
        if self.recorded_at is not None and record.recorded_at < self.recorded_at:
            return "recorded_at goes back in time"
        return None

    def failed(self, entry: RawEntry, message: str) -> VerifyReport:
        return self.report(Problem(self.position + 1, entry.where, message), [])

    def failed_at(self, where: str, message: str) -> VerifyReport:
        return self.report(Problem(self.position + 1, where, message), [])

    def witness_problem(self) -> Problem | None:
        """Where the log falls short of the witness, if one was given."""
        if self.witness is None:
            return None
        message = witness_problem(self.witness, self.position, self.witnessed_hash)
        if message is None:
            return None
        position = min(self.position + 1, self.witness.position)
        return Problem(position, f"position {position}", message)

    def report(self, problem: Problem | None, notices: list[str]) -> VerifyReport:
        return VerifyReport(
            ok=problem is None,
            checked=self.checked,
            head_position=self.head_position,
            head_hash=self.head_hash,
            problem=problem,
            notices=notices,
        )
