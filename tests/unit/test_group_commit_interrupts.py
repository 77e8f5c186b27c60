"""An interrupted writer (Ctrl-C's ``KeyboardInterrupt`` in the main thread) never leaves
the other writers of a ``GroupCommit`` waiting: its queued append is withdrawn, the lead it
held or was handed goes on, and a leader interrupted in its commit answers its batch."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

import pytest

from ledger.errors import StoreError
from ledger.store.group import AppendRequest, GroupCommit, Outcome
from tests.unit.test_group_commit import GUARD_SECONDS, _Recorder, _request, _wait_until


class _Interrupt(BaseException):
    """Stands for ``KeyboardInterrupt``: a ``BaseException`` that is not an ``Exception``
    (a real one escaping a test would stop the whole test run)."""


@contextmanager
def _interruptible_main() -> Iterator[Callable[[], None]]:
    """SIGINT raises ``_Interrupt`` in the main thread; yields what sends it."""

    def raise_interrupt(signum: int, frame: FrameType | None) -> None:
        raise _Interrupt

    main = threading.main_thread().ident
    assert main is not None
    assert threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, raise_interrupt)
    try:
        yield lambda: signal.pthread_kill(main, signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, previous)


class _Running:
    """``work`` on a daemon thread, keeping what it returned or raised: a test that fails
    leaves no thread behind that would block the test run."""

    def __init__(self, work: Callable[[], object]) -> None:
        self.answer: object = None
        self.thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self.thread.start()

    def _run(self, work: Callable[[], object]) -> None:
        try:
            self.answer = work()
        except BaseException as exc:  # the answers under test, whatever their class
            self.answer = exc

    def result(self) -> object:
        self.thread.join(GUARD_SECONDS)
        assert not self.thread.is_alive(), "still waiting: the group hangs"
        return self.answer


def _writer(group: GroupCommit, stream: str) -> _Running:
    return _Running(lambda: group.append(_request(stream)))


Choreography = Callable[[GroupCommit, _Recorder, Callable[[], None], list[_Running]], None]
"""What another thread does while the main thread waits: given the group, the held
commit's recorder, what interrupts the main thread, and a list to put later writers in."""


def _main_interrupted_behind_a_held_commit(
    gather_s: float, choreography: Choreography
) -> tuple[_Recorder, GroupCommit, list[_Running]]:
    """A first writer's commit is held; ``choreography`` runs on a thread of its own while
    the main thread appends and must be interrupted. Returns once the first writer is
    answered, with the later writers the choreography started."""
    recorder = _Recorder(hold_first=True)
    group = GroupCommit(recorder, gather_s=gather_s)
    later: list[_Running] = []
    with _interruptible_main() as interrupt:
        first = _writer(group, "first")
        assert recorder.entered.wait(GUARD_SECONDS)
        sender = _Running(lambda: choreography(group, recorder, interrupt, later))
        with pytest.raises(_Interrupt):
            group.append(_request("interrupted"))
        assert sender.result() is None
    assert first.result() == []
    return recorder, group, later


def test_an_interrupted_follower_withdraws_its_append_and_nobody_waits_for_it() -> None:
    """The main thread waits behind a commit in flight and is interrupted: its append is
    not stored, and the writer queued behind it is committed (it was to be handed the
    lead after the interrupted one)."""

    def then_interrupt(
        group: GroupCommit,
        recorder: _Recorder,
        interrupt: Callable[[], None],
        later: list[_Running],
    ) -> None:
        _wait_until(lambda: group.waiting == 1)
        interrupt()
        _wait_until(lambda: group.waiting == 0)
        later.append(_writer(group, "after"))
        _wait_until(lambda: group.waiting == 1)
        recorder.release.set()

    recorder, group, later = _main_interrupted_behind_a_held_commit(0.0, then_interrupt)
    assert [writer.result() for writer in later] == [[]]
    assert recorder.batches == [["first"], ["after"]]
    assert group.waiting == 0


def test_an_interrupted_gatherer_passes_the_lead_on() -> None:
    """The main thread is handed the lead after a commit that showed three writers and
    gathers for the third; interrupted, it withdraws its append and the next queued
    writer leads and gathers in its place (here until two more writers queue)."""

    def then_interrupt(
        group: GroupCommit,
        recorder: _Recorder,
        interrupt: Callable[[], None],
        later: list[_Running],
    ) -> None:
        _wait_until(lambda: group.waiting == 1)
        later.append(_writer(group, "second"))
        _wait_until(lambda: group.waiting == 2)
        recorder.release.set()
        _wait_until(lambda: group.gathering)
        interrupt()
        _wait_until(lambda: group.waiting == 1 and group.gathering)
        later.append(_writer(group, "third"))
        _wait_until(lambda: group.waiting == 2)
        later.append(_writer(group, "fourth"))

    recorder, group, later = _main_interrupted_behind_a_held_commit(GUARD_SECONDS, then_interrupt)
    assert [writer.result() for writer in later] == [[], [], []]
    assert recorder.batches == [["first"], ["second", "third", "fourth"]]
    assert not group.gathering


class _InterruptedOnce:
    """A commit whose second call is interrupted (as a leader's fsync is by Ctrl-C); the
    first is held until released."""

    def __init__(self) -> None:
        self.recorder = _Recorder(hold_first=True)
        self.calls = 0

    def __call__(self, requests: Sequence[AppendRequest]) -> list[Outcome]:
        self.calls += 1
        if self.calls == 2:
            self.recorder.batches.append([request.stream for request in requests])
            raise _Interrupt
        return self.recorder(requests)


def test_a_leader_interrupted_in_its_commit_answers_its_batch_and_passes_the_lead() -> None:
    """The leader raises the interrupt; the other member of its batch is told a
    ``StoreError`` (whether the commit landed is unknown), not the interrupt; the
    writer behind them is committed."""
    commit = _InterruptedOnce()
    group = GroupCommit(commit, gather_s=0.0)
    first = _writer(group, "first")
    assert commit.recorder.entered.wait(GUARD_SECONDS)
    leader = _writer(group, "leader")
    _wait_until(lambda: group.waiting == 1)
    member = _writer(group, "member")
    _wait_until(lambda: group.waiting == 2)
    commit.recorder.release.set()
    assert first.result() == []
    assert isinstance(leader.result(), _Interrupt)
    answer = member.result()
    assert isinstance(answer, StoreError)
    assert "interrupted" in str(answer)
    assert _writer(group, "after").result() == []
    assert commit.recorder.batches == [["first"], ["leader", "member"], ["after"]]


def test_a_follower_interrupted_as_it_is_handed_the_lead_passes_it_on() -> None:
    """The leader's commit sends SIGINT to the main thread, queued first behind it, just
    before it hands the main thread the lead: whether the interrupt lands before the
    hand-over, after it, or after the main thread took its wake-up, the lead goes on to
    the writer queued behind it and the interrupted append is not stored."""
    group: GroupCommit
    with _interruptible_main() as interrupt:
        recorder = _Recorder()
        calls = [0]

        def commit(requests: Sequence[AppendRequest]) -> list[Outcome]:
            calls[0] += 1
            if calls[0] == 1:
                _wait_until(lambda: group.waiting == 2)
                interrupt()
            return recorder(requests)

        group = GroupCommit(commit, gather_s=0.0)
        gate = threading.Lock()
        gate.acquire()
        first = _Running(lambda: (gate.acquire(), group.append(_request("first")))[1])
        queued: list[_Running] = []

        def then_queue() -> None:
            _wait_until(lambda: calls[0] == 1)
            _wait_until(lambda: group.waiting == 1)
            queued.append(_writer(group, "behind"))

        helper = _Running(then_queue)
        gate.release()
        _wait_until(lambda: calls[0] == 1)
        with pytest.raises(_Interrupt):
            group.append(_request("interrupted"))
        assert helper.result() is None
    assert first.result() == []
    assert [writer.result() for writer in queued] == [[]]
    assert recorder.batches == [["first"], ["behind"]]


def test_the_committer_thread_outlives_an_interrupted_commit() -> None:
    """A submitted batch whose commit is interrupted is answered with ``StoreError``; the
    committer thread goes on leading the next submitted batch."""
    commit = _InterruptedOnce()
    commit.calls = 1  # the next call is the interrupted one
    commit.recorder.release.set()
    group = GroupCommit(commit)
    answers: list[Outcome] = []
    told = threading.Event()

    def tell(outcome: Outcome) -> None:
        answers.append(outcome)
        told.set()

    group.submit(_request("interrupted"), tell)
    assert told.wait(GUARD_SECONDS)
    told.clear()
    group.submit(_request("after"), tell)
    assert told.wait(GUARD_SECONDS)
    group.close()
    assert isinstance(answers[0], StoreError)
    assert answers[1] == []
    assert commit.recorder.batches == [["interrupted"], ["after"]]
