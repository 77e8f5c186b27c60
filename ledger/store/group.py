"""Group commit: appends that arrive together share one transaction and one commit.

A ``GroupCommit`` sits in front of a backend's write. The first caller to arrive
when nobody is writing becomes the leader and commits its own append at once: a
lone writer waits for no one. Callers that arrive while a leader is committing
queue up; when the leader's commit is durable it answers its batch and hands the
lead to the first queued caller, which takes everything queued so far as its
batch. So batches grow as fast as the commits are slow, and no caller is answered
before the commit that holds its append returned.

A leader gathers before it commits: when the last commit's members and those queued
behind it were more than are queued now, those members are most likely deciding their
next command, and the leader waits for them, at most ``GATHER_S``, so that writers
taking turns at the commit share one instead of alternating between two part batches
(the pattern of threads in a loop, and of an event loop whose clients answer
promptly). A lone writer never waits: the last commit held only its own append. A
waiting thread that gathers waits on its own lock, and the thread whose append completes
the gather takes the lead from it and commits at once, instead of waking it to commit.

A caller that must not block (the API's event loop) ``submit``s instead: its append
joins the same queue and its answer is handed to a callback of the caller's. A batch
that starts with a submitted append is led by the group's committer thread, so the
event loop goes on deciding the next commands while the disk flushes, and its
appends join the batch behind (ADR 0016).

The backend's ``commit`` runs the batch in one transaction: each member on the state
that includes the members before it, a member that is refused (``ConcurrencyConflict``,
``DuplicateEventId``, ``InvalidInput``) refusing only itself, one commit for the rest.
An error of the transaction itself (the disk, the connection) is every member's
answer: none of them was stored.

A waiting thread that is interrupted (``KeyboardInterrupt`` from Ctrl-C in the main
thread, or any exception raised while it waits) withdraws its append if no batch took
it yet, and passes on the lead it held or was handed, so the other writers are not
left waiting for it. A leader interrupted during its commit answers the batch with a
``StoreError`` (whether the commit landed is unknown), passes the lead on, and raises
the interrupt.
"""

from __future__ import annotations

import contextlib
import enum
import threading
from collections.abc import Callable, Sequence

import msgspec

from ledger.errors import ConcurrencyConflict, DuplicateEventId, InvalidInput, StoreError
from ledger.records import NewEvent, Record

MAX_BATCH = 128
"""Appends one leader commits at most; the rest wait for the next leader."""

GATHER_S = 0.001
"""How long a leader waits at most for the writers of the commit before to queue again
(a few threads deciding their next command take a few hundred microseconds, an event
loop answering and reading its clients' next requests about a millisecond); 0 turns
gathering off."""

GATHER_MOST = 16
"""The most writers a leader gathers: from about this many on, those that queue during
one commit already make a batch that pays for its fsync, and waiting for the rest only
holds the early ones back (64 threads on PostgreSQL: cycle p99 36 to 45 ms without
gathering, 78 to 81 ms gathering all of them)."""

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


Answer = Callable[[Outcome], None]
"""Told a submitted append's outcome, on the committer's thread; must not raise."""


class _Waiter:
    """A queued append, its answer, and what wakes its caller: a lock the waiting
    thread sleeps on (taken when queued, released by the thread that answers it: a
    one-shot signal cheaper than a ``threading.Event``, which is a ``Condition`` over
    a lock), or the ``Answer`` of a caller that did not wait (``submit``). ``lead``
    (read and written under the group's mutex, or by its own thread once handed) is
    set while the waiting thread holds the lead or has been handed it, until its
    batch is taken."""

    __slots__ = ("lead", "outcome", "request", "told", "woken")

    def __init__(
        self,
        request: AppendRequest,
        woken: threading.Lock | None,
        told: Answer | None = None,
    ) -> None:
        self.request = request
        self.outcome: Outcome | None = None
        self.woken = woken
        self.told = told
        self.lead = False

    def answer(self) -> list[Record]:
        outcome = self.outcome
        if isinstance(outcome, BaseException):
            raise outcome
        assert outcome is not None
        return outcome


class GroupCommit:
    """Leader/follower batching of appends from the threads of one process."""

    def __init__(
        self, commit: BatchCommit, *, max_batch: int = MAX_BATCH, gather_s: float = GATHER_S
    ) -> None:
        self._commit = commit
        self._max_batch = max_batch
        self._gather_s = gather_s
        self._expected = 1
        """Writers the last commit showed: its members and those queued behind it."""
        self._gathering = 0
        """While a leader gathers: the queue's length that ends its wait (else 0)."""
        self._gathered = threading.Event()
        self._gatherer: _Waiter | None = None
        """The waiting thread that leads and gathers, while one does: the append that
        completes its gather takes the lead from it instead of waking it."""
        self._mutex = threading.Lock()
        self._queue: list[_Waiter] = []
        self._leading = False
        self._committer: threading.Thread | None = None
        self._committer_turn = threading.Event()
        self._committer_leads = False
        """The lead was handed to the committer thread (set and cleared under the mutex)."""
        self._closed = False
        self.commits = 0
        """Transactions committed (or failed) so far; below the appends when batches formed."""
        self.appends = 0
        """Appends answered so far."""

    @property
    def waiting(self) -> int:
        """Appends queued for the next commit (the leader's batch excluded)."""
        with self._mutex:
            return len(self._queue)

    @property
    def gathering(self) -> bool:
        """A leader is waiting for the writers of the commit before to queue."""
        with self._mutex:
            return bool(self._gathering)

    def append(self, request: AppendRequest) -> list[Record]:
        """Commit ``request`` alone or with whoever is waiting; its records or its error."""
        woken = _taken_lock()
        waiter = _Waiter(request, woken)
        try:
            with self._mutex:
                waiter.lead = not self._leading
                self._queue.append(waiter)
                self._leading = True
                self._note_queued(waiter)
                leads = waiter.lead
            # ``leads`` is read under the mutex: a follower handed the lead before it got
            # here still takes its wake-up first (its lock was released for it)
            while True:
                turn = self._gathered_for(waiter) if leads else _Turn.WAIT
                if turn is _Turn.LEAD:
                    self._lead(waiter)
                    break
                if turn is _Turn.WAIT:
                    woken.acquire()
                if not waiter.lead:
                    break
                leads = True
        except BaseException:
            self._abandon(waiter)
            raise
        return waiter.answer()  # a refused member raises here, with nothing to abandon

    def submit(self, request: AppendRequest, told: Answer) -> None:
        """Queue ``request`` without waiting: ``told`` is called with its records (or
        its error) once the commit that holds it is durable, on the committer's
        thread. The caller's thread is free meanwhile (an event loop deciding the next
        command); a committer thread of this group leads the batches that start with
        a submitted append."""
        with self._mutex:
            if self._closed:
                raise RuntimeError("the group commit is closed")
            self._queue.append(_Waiter(request, None, told))
            self._note_queued()
            lead = not self._leading
            self._leading = True
            self._committer_leads = self._committer_leads or lead
            if self._committer is None:
                self._committer = threading.Thread(
                    target=self._commit_turns, name="ledger-committer", daemon=True
                )
                self._committer.start()
        if lead:
            self._committer_turn.set()

    def close(self) -> None:
        """Stop the committer thread once the batches queued before are answered."""
        with self._mutex:
            self._closed = True
            committer = self._committer
        if committer is not None:
            self._committer_turn.set()
            committer.join()

    def _commit_turns(self) -> None:
        """The committer thread: lead whenever the lead is handed to it."""
        turn = self._committer_turn
        while True:
            turn.wait()
            turn.clear()
            with self._mutex:
                mine, self._committer_leads = self._committer_leads, False
                done = self._closed and not self._leading
            if mine:
                self._gather()
                with contextlib.suppress(BaseException):  # answered and passed on already:
                    self._lead(None)  # an interrupt of the commit has nobody to tell here
            elif done:
                return

    def _note_queued(self, newcomer: _Waiter | None = None) -> None:
        """End a leader's gather once the queue is as long as it waits for (call with the
        mutex held, after queueing). A thread's append that completes a gathering
        thread's wait takes the lead from it (its ``lead`` is set): it is
        running already, where the gatherer would have to be woken and scheduled first.
        A submitted append hands the lead back to the gathering thread; the committer
        thread is woken."""
        if not self._gathering or len(self._queue) < self._gathering:
            return
        gatherer = self._gatherer
        if gatherer is not None and newcomer is not None:
            newcomer.lead = True  # both flags before the gather ends: an interrupt between
            gatherer.lead = False  # them leaves a state ``_abandon`` can mend
        self._gathering = 0
        self._gatherer = None
        if gatherer is None:
            self._gathered.set()
            return
        if newcomer is not None:
            return
        assert gatherer.woken is not None
        gatherer.woken.release()

    def _wanted(self) -> int:
        """The appends a leader gathers: as many as the last commit showed writers, at
        most ``GATHER_MOST``; 0 when as many are queued already or gathering is off (a
        racy read first, so a lone writer's path takes no lock for it)."""
        if not self._gather_s or len(self._queue) >= self._expected:
            return 0
        wanted = min(self._expected, self._max_batch, GATHER_MOST)
        return 0 if len(self._queue) >= wanted else wanted

    def _gathers(self, gatherer: _Waiter | None) -> bool:
        """Whether a leader must gather; if so, its gather is begun: the queue's length
        that ends it, and the waiting thread that gathers (``None``: the committer
        thread, which waits on ``_gathered``)."""
        if not self._wanted():
            return False
        with self._mutex:
            wanted = self._wanted()
            if not wanted:
                return False
            if gatherer is None:
                self._gathered.clear()
            self._gathering = wanted
            self._gatherer = gatherer
        return True

    def _gather(self) -> None:
        """The committer thread's gather: wait, at most ``gather_s``, until as many
        appends are queued as the last commit showed writers (its members, who are
        likely deciding their next command, and those queued behind it)."""
        if not self._gathers(None):
            return
        self._gathered.wait(self._gather_s)
        with self._mutex:
            self._gathering = 0

    def _gathered_for(self, waiter: _Waiter) -> _Turn:
        """A waiting thread's gather before it leads, on its own lock: ``LEAD`` when it
        leads now (nothing to wait for, or its wait ran out); ``WOKEN`` when its lock was
        released meanwhile (answered by the append that took the lead from it, or handed
        the lead back); ``WAIT`` when the lead was taken and the answer is still to come."""
        if not self._gathers(waiter):
            return _Turn.LEAD
        assert waiter.woken is not None
        woken = waiter.woken.acquire(timeout=self._gather_s)
        with self._mutex:
            if self._gatherer is waiter:
                self._gatherer = None
                self._gathering = 0
                return _Turn.LEAD
        return _Turn.WOKEN if woken else _Turn.WAIT

    def _lead(self, leader: _Waiter | None) -> None:
        """Commit one batch, answer it, and pass the lead on (or give it up); ``leader``
        is the waiting thread's append that leads (``None``: the committer thread), the
        only one in the batch that holds the lead."""
        with self._mutex:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
            if leader is not None:
                leader.lead = False
        interrupt: BaseException | None = None
        try:
            outcomes = self._commit([waiter.request for waiter in batch])
        except Exception as exc:
            outcomes = [exc] * len(batch)
        except BaseException as exc:
            interrupt = exc
            unknown = StoreError(
                f"the commit was interrupted ({type(exc).__name__}); whether it is stored"
                " is unknown: read the stream before trying again"
            )
            outcomes = [unknown] * len(batch)
        with self._mutex:
            self.commits += 1
            self.appends += len(batch)
            self._expected = len(batch) + len(self._queue)
            successor, closing = self._pass_lead()
        for waiter, outcome in zip(batch, outcomes, strict=True):
            waiter.outcome = outcome
            if waiter.woken is not None:
                waiter.woken.release()
            elif waiter.told is not None:
                waiter.told(outcome)
        self._wake(successor, closing)
        if interrupt is not None:
            raise interrupt

    def _pass_lead(self) -> tuple[_Waiter | None, bool]:
        """Hand the lead to the first queued append, or give it up (call with the mutex
        held); returns the successor to wake, and whether the group is closing."""
        if self._queue:
            successor = self._queue[0]
            successor.lead = True
            self._committer_leads = successor.told is not None
            return successor, False
        self._leading = False
        return None, self._closed

    def _wake(self, successor: _Waiter | None, closing: bool) -> None:
        """Wake whoever leads next: the successor's thread, or the committer thread for
        a submitted successor (or to end it when the group closes)."""
        if successor is None:
            if closing:
                self._committer_turn.set()
            return
        if successor.told is not None:
            self._committer_turn.set()
        else:
            assert successor.woken is not None
            successor.woken.release()

    def _abandon(self, waiter: _Waiter) -> None:
        """A waiting thread was interrupted: withdraw its append if no batch took it
        yet, and pass on the lead it held or was handed (ending its gather), so that
        nobody waits for it."""
        with self._mutex:
            if waiter in self._queue:
                self._queue.remove(waiter)
            if not waiter.lead:
                return
            waiter.lead = False
            if self._gatherer is waiter:
                self._gatherer = None
                self._gathering = 0
            successor, closing = self._pass_lead()
        self._wake(successor, closing)


class _Turn(enum.Enum):
    """What a thread that led or was handed the lead does after its gather."""

    LEAD = "lead"
    WOKEN = "woken"
    WAIT = "wait"


def _taken_lock() -> threading.Lock:
    """A lock already held: ``acquire`` sleeps until another thread ``release``s it."""
    lock = threading.Lock()
    lock.acquire()
    return lock
