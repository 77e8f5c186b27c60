"""The append of a store whose writes go through a group commit (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence

from ledger.records import NewEvent, Record
from ledger.store.batch import validate_batch
from ledger.store.group import Answer, AppendRequest, GroupCommit


class GroupedAppends:
    """``append`` and ``submit`` over ``self.group``: a malformed append is refused
    before it queues, a well-formed one is committed with whoever else is waiting."""

    group: GroupCommit

    def append(
        self, stream: str, events: Sequence[NewEvent], *, expected_version: int
    ) -> list[Record]:
        validate_batch(stream, events, expected_version)
        return self.group.append(AppendRequest(stream, events, expected_version))

    def submit(
        self, stream: str, events: Sequence[NewEvent], *, expected_version: int, told: Answer
    ) -> None:
        """``append`` without waiting: ``told`` has the records (or the refusal) once
        the commit is durable (``GroupCommit.submit``); a malformed append is refused
        here, before it queues."""
        validate_batch(stream, events, expected_version)
        self.group.submit(AppendRequest(stream, events, expected_version), told)
