"""Load, decide, append, retry: the one write path of every command.

A ``Streams`` keeps the folded state of the task and session streams it has seen
(an in-process cache that reads only what is new), decides a command with a pure
rule against the state it read, appends the events at the version it read, and on a
lost race (``ConcurrencyConflict``) reads again and decides again. No lock outlives
one append.

A stream in the cache is not read before its first decision: the append at the
cached version is the check that the cache is current (ADR 0016). A conflict, a
refusal or a decision that writes nothing on a cached state is made again after
reading the stream, so no caller is ever answered from a state that was not current.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from application.steps import Append, Pause, Steps, appended, run
from application.stream_cache import SESSIONS, TASKS, Kind, SnapshotLoader
from ledger.clock import Clock
from ledger.commands import Trace
from ledger.errors import ConcurrencyConflict, LedgerError
from ledger.events import Event, session_stream, task_stream
from ledger.identifiers import check_id
from ledger.records import NewEvent, Record, new_event_id
from ledger.state import SessionState, TaskState
from ledger.store.protocol import EventStore
from ledger.store.stream_snapshots import StreamSnapshots, stream_snapshots_for

MAX_ATTEMPTS = 64
StateT = TypeVar("StateT", TaskState, SessionState)
Decision = Callable[[StateT, datetime], list[Event]]
Decided = tuple[StateT, StateT, list[Record]]
"""The state a decision was made on, the state after its append, and the records."""
Prepare = Callable[[], Steps[object]]
"""Steps run once before a decision's first append (a claim's session start)."""


class Streams:
    """Task and session streams over one store, read through a cache of folded states."""

    def __init__(
        self, store: EventStore, clock: Clock, snapshots: StreamSnapshots | None = None
    ) -> None:
        self.store = store
        self.clock = clock
        self._tasks: dict[str, TaskState] = {}
        self._sessions: dict[str, SessionState] = {}
        chosen = snapshots if snapshots is not None else stream_snapshots_for(store)
        self.loader = SnapshotLoader(store, chosen)

    # --- loading ---------------------------------------------------------------

    def task(self, task_id: str) -> TaskState:
        """The task's state, with whatever its stream gained since the last read (in a
        process new to the stream: from its snapshot, ``application.stream_cache``)."""
        cached = self._tasks.get(task_id)
        state = self.loader.load(task_stream(task_id), task_id, cached, TASKS)
        self._tasks[task_id] = state
        return state

    def session(self, session_id: str) -> SessionState:
        """The session's state, with whatever its stream gained since the last read."""
        cached = self._sessions.get(session_id)
        state = self.loader.load(session_stream(session_id), session_id, cached, SESSIONS)
        self._sessions[session_id] = state
        return state

    # --- deciding and appending ----------------------------------------------------

    def on_task(
        self,
        task_id: str,
        decision: Decision[TaskState],
        actor: str,
        trace: Trace | None = None,
    ) -> Decided[TaskState]:
        """Decide on the task's state and append, waiting on the store."""
        return run(self.task_steps(task_id, decision, actor, trace), self.store)

    def task_steps(
        self,
        task_id: str,
        decision: Decision[TaskState],
        actor: str,
        trace: Trace | None = None,
        *,
        before_append: Prepare | None = None,
    ) -> Steps[Decided[TaskState]]:
        """``on_task`` as steps (``application.steps``); ``before_append``'s steps run
        once, before the first append of a decision that writes (a claim starts its
        session there)."""
        check_id(task_id, kind="task")
        return self._decide_and_append(
            task_stream(task_id),
            task_id,
            self._tasks,
            self.task,
            TASKS,
            decision,
            actor,
            trace,
            before_append,
            lambda: ConcurrencyConflict(
                f"gave up on task {task_id!r} after {MAX_ATTEMPTS} lost races", taskId=task_id
            ),
        )

    def on_session(
        self, session_id: str, decision: Decision[SessionState]
    ) -> Decided[SessionState]:
        """Decide on the session's state and append, retrying lost races."""
        return run(self.session_steps(session_id, decision), self.store)

    def session_steps(
        self, session_id: str, decision: Decision[SessionState]
    ) -> Steps[Decided[SessionState]]:
        """``on_session`` as steps."""
        check_id(session_id, kind="session")
        return self._decide_and_append(
            session_stream(session_id),
            session_id,
            self._sessions,
            self.session,
            SESSIONS,
            decision,
            session_id,
            None,
            None,
            lambda: ConcurrencyConflict(f"gave up on session {session_id!r} after lost races"),
        )

    def _decide_and_append(
        self,
        stream: str,
        key: str,
        cache: dict[str, StateT],
        load: Callable[[str], StateT],
        kind: Kind[StateT],
        decision: Decision[StateT],
        actor: str,
        trace: Trace | None,
        prepare: Prepare | None,
        gave_up: Callable[[], ConcurrencyConflict],
    ) -> Steps[Decided[StateT]]:
        """The one loop of every command: decide on the cached state (the append's
        version check proves it current) or the stored one, append, and after a lost
        race or a refusal on a stale cache read and decide again."""
        cached = cache.get(key)
        for attempt in range(MAX_ATTEMPTS):
            before = cached or load(key)
            now = self.clock.now()
            events = _decided(decision, before, now, optimistic=cached is not None)
            if events is None:
                cached = None
                continue
            if not events:
                return before, before, []
            if prepare is not None:
                yield from prepare()
                prepare = None
            new = self.envelope(events, actor, trace, now)
            try:
                records = appended((yield Append(stream, new, before.version)))
            except ConcurrencyConflict:
                if cached is None:
                    yield Pause(backoff_seconds(attempt))
                cached = None
                continue
            after = kind.fold(key, records, before)
            cache[key] = after
            self.loader.offer(stream, after, records[-1], kind)
            return before, after, records
        raise gave_up()

    def append(
        self,
        stream: str,
        events: Sequence[Event],
        expected: int,
        actor: str,
        trace: Trace | None = None,
        now: datetime | None = None,
    ) -> list[Record]:
        """Append ``events`` at ``expected`` with one envelope: time, actor, trace ids."""
        new = self.envelope(events, actor, trace, now)
        return self.store.append(stream, new, expected_version=expected)

    def envelope(
        self,
        events: Sequence[Event],
        actor: str,
        trace: Trace | None = None,
        now: datetime | None = None,
    ) -> list[NewEvent]:
        """``events`` as one append's new events: its time, actor and trace ids."""
        at = now or self.clock.now()
        correlation_id = (trace and trace.correlation_id) or new_event_id()
        causation_id = trace.causation_id if trace else None
        return [
            NewEvent(
                data=event,
                occurred_at=at,
                actor=actor,
                correlation_id=correlation_id,
                causation_id=causation_id,
            )
            for event in events
        ]


def _decided(
    decision: Decision[StateT], state: StateT, now: datetime, *, optimistic: bool
) -> list[Event] | None:
    """The decision's events; ``None`` when a decision on a cached state wrote nothing
    or was refused, so that it is made again on the stream as stored: only an append
    (checked against the cached version) may rest on a state that was not read."""
    if not optimistic:
        return decision(state, now)
    try:
        events = decision(state, now)
    except LedgerError:
        return None
    return events or None


def backoff(attempt: int) -> None:
    """A short random pause after a lost race, growing with the attempts."""
    time.sleep(backoff_seconds(attempt))


def backoff_seconds(attempt: int) -> float:
    """How long ``backoff`` pauses after the ``attempt``-th lost race: at random,
    growing with the attempts."""
    import random  # only after a lost race: a fresh process's command seldom needs it

    return random.uniform(0, 0.0005 * min(attempt + 1, 20))
