"""The leader/follower batcher of ``ledger.store.group``, over a fake commit."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from ledger.errors import ConcurrencyConflict, StoreError
from ledger.events import TaskRegistered
from ledger.records import NewEvent, Record
from ledger.store.group import GATHER_MOST, AppendRequest, GroupCommit, Outcome

GUARD_SECONDS = 60.0
"""How long a test waits for a thread before calling it hung; never a speed check."""


def _request(stream: str) -> AppendRequest:
    event = NewEvent(
        data=TaskRegistered(task_id=stream, title=stream),
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        actor="tester",
    )
    return AppendRequest(stream, [event], 0)


class _Recorder:
    """A commit that records its batches and, when told to, holds the first one."""

    def __init__(self, *, hold_first: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        if not hold_first:
            self.release.set()

    def __call__(self, requests: Sequence[AppendRequest]) -> list[Outcome]:
        self.batches.append([request.stream for request in requests])
        self.entered.set()
        assert self.release.wait(GUARD_SECONDS)
        return [self.answer(request) for request in requests]

    def answer(self, request: AppendRequest) -> Outcome:
        if request.stream.startswith("refused"):
            return ConcurrencyConflict("moved", stream=request.stream, expected=0, actual=1)
        return []


def _wait_until(condition: Callable[[], bool]) -> None:
    guard = threading.Event()
    for _ in range(int(GUARD_SECONDS * 1000)):
        if condition():
            return
        guard.wait(0.001)
    raise AssertionError("the group never got there")


def _wait_for_queue(group: GroupCommit, count: int) -> None:
    _wait_until(lambda: group.waiting >= count)


def _queued_behind_a_held_commit(
    recorder: _Recorder, streams: list[str]
) -> list[list[Record] | BaseException]:
    """Hold a first append in its commit, queue ``streams`` behind it, then let go."""
    group = GroupCommit(recorder)

    def run(stream: str) -> list[Record] | BaseException:
        try:
            return group.append(_request(stream))
        except Exception as exc:  # the answer of a refused member
            return exc

    with ThreadPoolExecutor(len(streams) + 1) as pool:
        first = pool.submit(run, "first")
        assert recorder.entered.wait(GUARD_SECONDS)
        rest = [pool.submit(run, stream) for stream in streams]
        _wait_for_queue(group, len(streams))
        recorder.release.set()
        first.result(GUARD_SECONDS)
        return [future.result(GUARD_SECONDS) for future in rest]


def test_a_lone_append_commits_at_once_in_a_batch_of_its_own() -> None:
    """Nobody else writing: the caller leads and commits only its own append."""
    recorder = _Recorder()
    group = GroupCommit(recorder)
    group.append(_request("alone"))
    assert recorder.batches == [["alone"]]


def test_appends_arriving_during_a_commit_share_the_next_one() -> None:
    """Appends queued while a commit runs are committed together, in arrival order."""
    recorder = _Recorder(hold_first=True)
    _queued_behind_a_held_commit(recorder, ["a", "b", "c"])
    assert recorder.batches[0] == ["first"]
    assert sorted(recorder.batches[1]) == ["a", "b", "c"]
    assert len(recorder.batches) == 2


def test_a_refused_member_refuses_only_itself() -> None:
    """A member's refusal is raised to that caller; the others get their records."""
    recorder = _Recorder(hold_first=True)
    answers = _queued_behind_a_held_commit(recorder, ["a", "refused", "b"])
    kinds = sorted(type(answer).__name__ for answer in answers)
    assert kinds == ["ConcurrencyConflict", "list", "list"]


def test_a_failed_commit_is_every_members_answer() -> None:
    """An error of the shared transaction itself reaches every caller of the batch."""

    def broken(requests: Sequence[AppendRequest]) -> list[Outcome]:
        raise StoreError("disk full")

    group = GroupCommit(broken)
    with pytest.raises(StoreError, match="disk full"):
        group.append(_request("a"))


def test_a_batch_is_capped_and_the_rest_waits_for_the_next_leader() -> None:
    """No batch holds more than ``max_batch`` appends; none is left behind."""
    recorder = _Recorder(hold_first=True)
    group = GroupCommit(recorder, max_batch=2)

    def run(stream: str) -> list[Record]:
        return group.append(_request(stream))

    with ThreadPoolExecutor(6) as pool:
        first = pool.submit(run, "first")
        assert recorder.entered.wait(GUARD_SECONDS)
        rest = [pool.submit(run, name) for name in ("a", "b", "c", "d", "e")]
        _wait_for_queue(group, 5)
        recorder.release.set()
        for future in (first, *rest):
            future.result(GUARD_SECONDS)
    assert [len(batch) for batch in recorder.batches] == [1, 2, 2, 1]


def test_threads_taking_turns_are_gathered_into_one_commit() -> None:
    """Three writers appending one after another: while the first commit is held, the
    two others queue behind it, so that commit shows three writers. Every later leader
    waits for all three instead of committing whoever happened to queue, until a writer
    is done and the last leader's wait runs out. (With gathering off, the writers
    answered by one commit miss the next: part batches alternate.)"""
    recorder = _Recorder(hold_first=True)
    group = GroupCommit(recorder, gather_s=1.0)

    def run(writer: int) -> None:
        for n in range(6):
            group.append(_request(f"w{writer}-{n}"))

    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(run, 0)
        assert recorder.entered.wait(GUARD_SECONDS)
        rest = [pool.submit(run, writer) for writer in (1, 2)]
        _wait_for_queue(group, 2)
        recorder.release.set()
        for future in (first, *rest):
            future.result(GUARD_SECONDS)
    assert [len(batch) for batch in recorder.batches] == [1, 3, 3, 3, 3, 3, 2]


class _ThreadRecorder(_Recorder):
    """A recorder that also notes the thread each batch was committed on."""

    def __init__(self, *, hold_first: bool = False) -> None:
        super().__init__(hold_first=hold_first)
        self.threads: list[str] = []

    def __call__(self, requests: Sequence[AppendRequest]) -> list[Outcome]:
        self.threads.append(threading.current_thread().name)
        return super().__call__(requests)


def test_the_append_that_completes_a_gather_takes_the_lead() -> None:
    """While the first commit is held, ``b`` queues behind it, so that commit shows two
    writers. ``b`` then leads and gathers; the first writer's next append completes the
    gather and commits the batch on its own thread, instead of waking ``b`` to do it."""
    recorder = _ThreadRecorder(hold_first=True)
    group = GroupCommit(recorder, gather_s=GUARD_SECONDS)

    def first() -> None:
        group.append(_request("first"))
        _wait_until(lambda: group.gathering)
        group.append(_request("again"))

    one = threading.Thread(target=first, name="writer-one")
    two = threading.Thread(target=lambda: group.append(_request("b")), name="writer-two")
    one.start()
    assert recorder.entered.wait(GUARD_SECONDS)
    two.start()
    _wait_for_queue(group, 1)
    recorder.release.set()
    for thread in (one, two):
        thread.join(GUARD_SECONDS)
        assert not thread.is_alive()
    assert recorder.batches == [["first"], ["b", "again"]]
    assert recorder.threads == ["writer-one", "writer-one"]


def test_a_submitted_append_completing_a_gather_hands_the_lead_back() -> None:
    """A submitted append cannot lead (its caller must not block): when it completes a
    waiting thread's gather, that thread leads the batch with it, on its own thread."""
    recorder = _ThreadRecorder(hold_first=True)
    group = GroupCommit(recorder, gather_s=GUARD_SECONDS)
    with ThreadPoolExecutor(2, thread_name_prefix="waiting") as pool:
        first = pool.submit(group.append, _request("first"))
        assert recorder.entered.wait(GUARD_SECONDS)
        second = pool.submit(group.append, _request("a"))
        _wait_for_queue(group, 1)
        recorder.release.set()
        first.result(GUARD_SECONDS)
        submitted = _submitted(group, _request("s"))
        second.result(GUARD_SECONDS)
        submitted.result(GUARD_SECONDS)
    assert recorder.batches == [["first"], ["a", "s"]]
    assert all(name.startswith("waiting") for name in recorder.threads)


def test_a_lone_writer_never_waits_to_gather() -> None:
    """A writer alone, appending again and again, commits each append at once: the last
    commit showed only it, so the leader waits for no one (a gather of an hour would
    hang this test)."""
    recorder = _Recorder()
    group = GroupCommit(recorder, gather_s=3600.0)
    done = threading.Event()

    def run() -> None:
        for n in range(20):
            group.append(_request(f"alone-{n}"))
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(GUARD_SECONDS)
    assert [len(batch) for batch in recorder.batches] == [1] * 20


def test_a_leader_gathers_no_more_than_gather_most() -> None:
    """Twenty writers, each with one append: the first commit is held while the other
    nineteen queue, so it shows twenty writers. The next leader already has more than
    ``GATHER_MOST`` queued and commits them at once; it does not wait for the twentieth,
    which has nothing more to append (a gather of an hour would hang this test)."""
    recorder = _Recorder(hold_first=True)
    group = GroupCommit(recorder, gather_s=3600.0)
    done = threading.Barrier(20, timeout=GUARD_SECONDS)
    threads = [
        threading.Thread(target=lambda n=n: (group.append(_request(f"w{n}")), done.wait()))
        for n in range(20)
    ]
    for thread in threads:
        thread.daemon = True
    threads[0].start()
    assert recorder.entered.wait(GUARD_SECONDS)
    for thread in threads[1:]:
        thread.start()
    _wait_for_queue(group, 19)
    assert GATHER_MOST < 19
    recorder.release.set()
    for thread in threads:
        thread.join(GUARD_SECONDS)
        assert not thread.is_alive()
    assert [len(batch) for batch in recorder.batches] == [1, 19]


def _submitted(group: GroupCommit, request: AppendRequest) -> Future[list[Record]]:
    """``group.submit(request)`` with its answer handed to a future."""
    future: Future[list[Record]] = Future()

    def told(outcome: Outcome) -> None:
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)

    group.submit(request, told)
    return future


def _submitted_behind_a_held_commit(
    recorder: _Recorder, streams: list[str]
) -> tuple[GroupCommit, list[list[Record] | BaseException]]:
    """Hold a first (waiting) append in its commit, submit ``streams`` behind it, let go."""
    group = GroupCommit(recorder)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(group.append, _request("first"))
        assert recorder.entered.wait(GUARD_SECONDS)
        futures = [_submitted(group, _request(stream)) for stream in streams]
        _wait_for_queue(group, len(streams))
        recorder.release.set()
        first.result(GUARD_SECONDS)
    answers: list[list[Record] | BaseException] = []
    for future in futures:
        error = future.exception(GUARD_SECONDS)
        answers.append(future.result() if error is None else error)
    return group, answers


def test_a_submitted_append_is_answered_through_its_future() -> None:
    """``submit`` returns at once; the committer thread commits and tells the answer."""
    threads: list[str] = []
    recorder = _Recorder()

    def commit(requests: Sequence[AppendRequest]) -> list[Outcome]:
        threads.append(threading.current_thread().name)
        return recorder(requests)

    group = GroupCommit(commit)
    assert _submitted(group, _request("alone")).result(GUARD_SECONDS) == []
    assert recorder.batches == [["alone"]]
    assert threads == ["ledger-committer"]
    group.close()


def test_submitted_appends_share_the_commit_after_a_waiting_one() -> None:
    """Appends submitted while a thread's commit runs are committed together, and a
    refused one is that future's error alone."""
    recorder = _Recorder(hold_first=True)
    group, answers = _submitted_behind_a_held_commit(recorder, ["a", "refused", "b"])
    assert recorder.batches[0] == ["first"]
    assert recorder.batches[1] == ["a", "refused", "b"]
    assert len(recorder.batches) == 2
    assert [type(answer).__name__ for answer in answers] == ["list", "ConcurrencyConflict", "list"]
    group.close()


def test_a_thread_queued_behind_a_submitted_batch_is_answered() -> None:
    """The committer leads a submitted batch and hands the lead back to a waiting thread."""
    recorder = _Recorder(hold_first=True)
    group = GroupCommit(recorder)
    first = _submitted(group, _request("first"))
    assert recorder.entered.wait(GUARD_SECONDS)
    with ThreadPoolExecutor(2) as pool:
        waiting = [pool.submit(group.append, _request(name)) for name in ("a", "b")]
        _wait_for_queue(group, 2)
        recorder.release.set()
        assert first.result(GUARD_SECONDS) == []
        assert [future.result(GUARD_SECONDS) for future in waiting] == [[], []]
    assert recorder.batches[0] == ["first"]
    assert sorted(name for batch in recorder.batches[1:] for name in batch) == ["a", "b"]
    group.close()


def test_a_failed_commit_fails_every_submitted_future() -> None:
    def broken(requests: Sequence[AppendRequest]) -> list[Outcome]:
        raise StoreError("disk full")

    group = GroupCommit(broken)
    future = _submitted(group, _request("a"))
    with pytest.raises(StoreError, match="disk full"):
        future.result(GUARD_SECONDS)
    group.close()


def test_close_answers_what_was_submitted_then_refuses_more() -> None:
    """``close`` returns once the committer answered its queue and stopped."""
    committers: list[threading.Thread] = []
    recorder = _Recorder()

    def commit(requests: Sequence[AppendRequest]) -> list[Outcome]:
        committers.append(threading.current_thread())
        return recorder(requests)

    group = GroupCommit(commit)
    futures = [_submitted(group, _request(name)) for name in ("a", "b", "c")]
    group.close()
    assert all(future.done() for future in futures)
    assert committers
    assert not any(thread.is_alive() for thread in committers)
    with pytest.raises(RuntimeError, match="closed"):
        group.submit(_request("late"), lambda outcome: None)


class _StallingMutex:
    """The group's mutex, with a hook run by a named thread right after it lets go of the
    mutex (to hold that thread between two of its steps)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.after_release: dict[str, Callable[[], object]] = {}

    def __enter__(self) -> _StallingMutex:
        self._lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()
        hook = self.after_release.pop(threading.current_thread().name, None)
        if hook is not None:
            hook()


def test_a_writer_handed_the_lead_before_it_waited_still_takes_its_wake_up() -> None:
    """``follower`` queues behind a commit and stalls right after leaving the mutex; the
    leader's commit ends and hands it the lead (releasing its lock) before it reaches
    its wait. It must take that wake-up and lead ``behind`` with it, not lead at once
    and find its lock released twice (which once hung every later writer)."""
    recorder = _Recorder(hold_first=True)
    group = GroupCommit(recorder, gather_s=0.0)
    mutex = _StallingMutex()
    group._mutex = mutex  # type: ignore[assignment]
    leader_done = threading.Event()
    answers: dict[str, object] = {}

    def run(name: str) -> None:
        try:
            answers[name] = group.append(_request(name))
        except BaseException as exc:  # the answer under test, whatever its class
            answers[name] = exc

    def start(name: str) -> threading.Thread:
        thread = threading.Thread(target=run, args=(name,), name=name, daemon=True)
        thread.start()
        return thread

    first = start("first")
    assert recorder.entered.wait(GUARD_SECONDS)
    mutex.after_release["follower"] = lambda: leader_done.wait(GUARD_SECONDS)
    follower = start("follower")
    _wait_for_queue(group, 1)
    behind = start("behind")
    _wait_for_queue(group, 2)
    recorder.release.set()
    first.join(GUARD_SECONDS)
    leader_done.set()
    for thread in (first, follower, behind):
        thread.join(GUARD_SECONDS)
        assert not thread.is_alive(), f"{thread.name} still waits"
    assert answers == {"first": [], "follower": [], "behind": []}
    assert recorder.batches == [["first"], ["follower", "behind"]]
    start("after").join(GUARD_SECONDS)
    assert answers["after"] == []


@pytest.mark.parametrize("gather_s", [0.0, 0.001])
def test_threads_switching_every_microsecond_are_all_answered(gather_s: float) -> None:
    """Six threads append for a second with the interpreter switching threads as often
    as it can: every append is answered with its records, nobody is left waiting."""
    group = GroupCommit(lambda requests: [[] for _ in requests], gather_s=gather_s)
    stop = threading.Event()
    errors: list[BaseException] = []
    counts = [0] * 6

    def write(index: int) -> None:
        while not stop.is_set():
            try:
                group.append(_request(f"s{index}"))
            except BaseException as exc:  # any error is a finding
                errors.append(exc)
                return
            counts[index] += 1

    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=write, args=(n,), daemon=True) for n in range(6)]
        for thread in threads:
            thread.start()
        stop.wait(1.0)
        stop.set()
        for thread in threads:
            thread.join(GUARD_SECONDS)
    finally:
        sys.setswitchinterval(previous)
    assert errors == []
    assert not any(thread.is_alive() for thread in threads)
    assert all(counts)
    assert group.appends == sum(counts)
