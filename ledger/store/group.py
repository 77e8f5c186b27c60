"""Group commit: appends that arrive together share one transaction and one commit.

A ``GroupCommit`` sits in front of a backend's write. The first caller to arrive
when nobody is writing becomes the leader and commits its own append at once: a
lone writer waits for no one. Callers that arrive while a leader is committing
queue up; when the leader's commit is durable it answers its batch and hands the
lead to the first queued caller, which takes everything queued so far as its
batch. So batches grow exactly as fast as the commits are slow, and no caller is
answered before the commit that holds its append returned.

The backend's ``commit`` runs the batch in one transaction: each member on the
state that includes the members before it (a savepoint each), a member that is
refused (``ConcurrencyConflict``, ``DuplicateEventId``, ``InvalidInput``) refusing
only itself, one commit for the rest. An error of the transaction itself (the
disk, the connection) is every member's answer: none of them was stored.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import msgspec

from ledger.errors import ConcurrencyConflict, DuplicateEventId, InvalidInput
from ledger.records import NewEvent, Record

MAX_BATCH = 128
"""Appends one leader commits at most; the rest wait for the next leader."""

MEMBER_ERRORS = (ConcurrencyConflict, DuplicateEventId, InvalidInput)
"""Refusals of one member: that member's answer, not the batch's."""


class AppendRequest(msgspec.Struct, frozen=True, gc=False):
    """One caller's append, as the batch's commit receives it."""

    stream: str
    events: Sequence[NewEvent]
    expected_version: int


Outcome = list[Record] | BaseException
"""What a member's append came to: its records, or the error that is its answer."""
BatchCommit = Callable[[Sequence[AppendRequest]], list[Outcome]]


class _Waiter:
    """A queued append, its answer, and the event that wakes its caller."""

    __slots__ = ("lead", "outcome", "request", "woken")

    def __init__(self, request: AppendRequest, woken: threading.Event | None) -> None:
        self.request = request
        self.outcome: Outcome | None = None
        self.woken = woken
        self.lead = False

    def answer(self) -> list[Record]:
        outcome = self.outcome
        if isinstance(outcome, BaseException):
            raise outcome
        assert outcome is not None
        return outcome


class GroupCommit:
    """Leader/follower batching of appends from the threads of one process."""

    def __init__(self, commit: BatchCommit, *, max_batch: int = MAX_BATCH) -> None:
        self._commit = commit
        self._max_batch = max_batch
        self._mutex = threading.Lock()
        self._queue: list[_Waiter] = []
        self._leading = False
        self.commits = 0
        """Transactions committed (or failed) so far; below the appends when batches formed."""
        self.appends = 0
        """Appends answered so far."""

    @property
    def waiting(self) -> int:
        """Appends queued for the next commit (the leader's batch excluded)."""
        with self._mutex:
            return len(self._queue)

    def append(self, request: AppendRequest) -> list[Record]:
        """Commit ``request`` alone or with whoever is waiting; its records or its error."""
        with self._mutex:
            follow = self._leading
            waiter = _Waiter(request, threading.Event() if follow else None)
            self._queue.append(waiter)
            self._leading = True
        if follow:
            assert waiter.woken is not None
            waiter.woken.wait()
            if not waiter.lead:
                return waiter.answer()
        self._lead()
        return waiter.answer()

    def _lead(self) -> None:
        """Commit one batch, answer it, and pass the lead on (or give it up)."""
        with self._mutex:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
        try:
            outcomes = self._commit([waiter.request for waiter in batch])
        except BaseException as exc:
            outcomes = [exc] * len(batch)
        successor: _Waiter | None = None
        with self._mutex:
            self.commits += 1
            self.appends += len(batch)
            if self._queue:
                successor = self._queue[0]
                successor.lead = True
            else:
                self._leading = False
        for waiter, outcome in zip(batch, outcomes, strict=True):
            waiter.outcome = outcome
            if waiter.woken is not None:
                waiter.woken.set()
        if successor is not None:
            assert successor.woken is not None
            successor.woken.set()
