"""Timelines: the records of a task, a session or the log with the state after each,
and the claim intervals behind them (who held what, from when to when, and how it ended).

``replay`` is the fold behind ``claims replay`` and ``GET /api/replay`` (their bodies:
``application.replay``);
``claim_intervals`` is the fold the dashboard's timeline draws (``GET /api/timeline``)
and the cost import attributes tokens with. Both are pure reads of the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Literal

import msgspec

from ledger.codec import to_builtins
from ledger.events import (
    SESSION_STREAM_PREFIX,
    TASK_STREAM_PREFIX,
    Claimed,
    Expired,
    Heartbeat,
    Orphaned,
    Released,
    TakenOver,
    task_of,
)
from ledger.records import Record
from ledger.state import SessionState, TaskState, evolve_session, evolve_task
from ledger.store.protocol import EventStore

Outcome = Literal["held", "completed", "released", "expired", "orphaned", "taken_over"]


# --- replay ------------------------------------------------------------------------


def replay(
    store: EventStore,
    *,
    first: int | None = None,
    last: int | None = None,
    task_id: str | None = None,
    session_id: str | None = None,
) -> Iterator[tuple[Record, TaskState | SessionState | None]]:
    """Each record from ``first`` to ``last`` (inclusive) with the state after it: the
    task or session it belongs to, folded from the start of the log."""
    tasks: dict[str, TaskState] = {}
    sessions: dict[str, SessionState] = {}
    records = (
        store.read_stream(TASK_STREAM_PREFIX + task_id)
        if task_id is not None
        else store.read_all(until=last)
    )
    for record in records:
        state = _fold(record, tasks, sessions)
        if first is not None and record.position < first:
            continue
        if last is not None and record.position > last:
            return
        if session_id is not None and not involves(record, session_id):
            continue
        yield record, state


def involves(record: Record, session_id: str) -> bool:
    """Whether the record is about the session, or the session wrote it."""
    data = to_builtins(record.data)
    return (
        session_id
        in (
            data.get("session_id"),
            data.get("from_session"),
            data.get("to_session"),
        )
        or record.actor == session_id
    )


def _fold(
    record: Record, tasks: dict[str, TaskState], sessions: dict[str, SessionState]
) -> TaskState | SessionState | None:
    task_id = task_of(record.data)
    if record.stream.startswith(TASK_STREAM_PREFIX) and task_id is not None:
        tasks[task_id] = evolve_task(tasks.get(task_id) or TaskState(task_id=task_id), record)
        return tasks[task_id]
    if record.stream.startswith(SESSION_STREAM_PREFIX):
        name = record.stream.removeprefix(SESSION_STREAM_PREFIX)
        sessions[name] = evolve_session(sessions.get(name) or SessionState(session_id=name), record)
        return sessions[name]
    return None


# --- claim intervals -------------------------------------------------------------------


class Interval(msgspec.Struct, kw_only=True, rename="camel"):
    """One claim, from the record that started it to the one that ended it."""

    task_id: str
    session_id: str
    agent_type: str
    fencing_token: int
    start: datetime
    start_position: int
    expires_at: datetime
    end: datetime | None = None
    """``None`` while held (as of the last record read)."""
    end_position: int | None = None
    outcome: Outcome = "held"
    reason: str | None = None
    """The release reason, the orphaning reason, or the takeover's handoff reason."""
    by: str | None = None
    """Who ended it: the releasing session, the sweeper, the one who forced a takeover."""
    to_session: str | None = None
    forced: bool = False
    heartbeats: list[datetime] = []

    def active_at(self, when: datetime) -> bool:
        """Whether the claim was held at ``when`` (start inclusive, end exclusive)."""
        if when < self.start:
            return False
        end = self.end if self.end is not None else self.expires_at
        return when < end


def claim_intervals(records: Iterable[Record]) -> list[Interval]:
    """Every claim interval in ``records`` (one log, in position order), by start."""
    open_: dict[str, Interval] = {}
    done: list[Interval] = []
    for record in records:
        if record.stream.startswith(TASK_STREAM_PREFIX):
            _interval_step(record, open_, done)
    done.extend(open_.values())
    done.sort(key=lambda interval: interval.start_position)
    return done


def _interval_step(record: Record, open_: dict[str, Interval], done: list[Interval]) -> None:
    event = record.data
    match event:
        case Heartbeat():
            current = open_.get(event.task_id)
            if current is not None:
                current.heartbeats.append(record.occurred_at)
                current.expires_at = event.expires_at
        case Claimed():
            open_[event.task_id] = _opened(record, event, event.session_id)
        case TakenOver():
            current = open_.pop(event.task_id, None)
            if current is not None:
                _close(current, record, "taken_over", event.handoff_reason, event.forced_by)
                current.to_session = event.to_session
                current.forced = event.forced
                done.append(current)
            open_[event.task_id] = _opened(record, event, event.to_session)
        case Released() | Expired() | Orphaned():
            current = open_.pop(event.task_id, None)
            if current is not None:
                _ended(current, record, event)
                done.append(current)
        case _:
            pass


def _opened(record: Record, event: Claimed | TakenOver, session_id: str) -> Interval:
    return Interval(
        task_id=event.task_id,
        session_id=session_id,
        agent_type=event.agent_type,
        fencing_token=event.fencing_token,
        start=record.occurred_at,
        start_position=record.position,
        expires_at=event.expires_at,
    )


def _ended(current: Interval, record: Record, event: Released | Expired | Orphaned) -> None:
    match event:
        case Released():
            outcome: Outcome = "completed" if event.reason == "completed" else "released"
            _close(current, record, outcome, event.reason, record.actor)
        case Expired():
            _close(current, record, "expired", None, record.actor)
            current.end = min(event.expired_at, record.occurred_at)
        case Orphaned():
            _close(current, record, "orphaned", event.reason, record.actor)


def _close(
    current: Interval, record: Record, outcome: Outcome, reason: str | None, by: str | None
) -> None:
    current.end = record.occurred_at
    current.end_position = record.position
    current.outcome = outcome
    current.reason = reason
    current.by = by


# --- the dashboard's timeline ------------------------------------------------------------

LaneBy = Literal["session", "task"]


class Lane(msgspec.Struct, kw_only=True, rename="camel"):
    """One row of the timeline: a session's claims, or a task's."""

    key: str
    count: int = 0
    held_ms: int = 0
    outcomes: dict[str, int] = {}
    busy: list[float] = []
    """With ``aggregated``: per bucket, the share of it covered by claims (at most 1)."""
    ended: list[str | None] = []
    """With ``aggregated``: per bucket, the most frequent way the claims ending in it ended."""


class Timeline(msgspec.Struct, kw_only=True, rename="camel"):
    """Claim intervals over a window, or per-lane buckets when there are too many."""

    position: int
    hash: str | None
    as_of: datetime
    """Where a claim still held ends on the picture."""
    start: datetime | None
    """The first claim's start."""
    end: datetime
    """The last claim's end (``as_of`` while one is held)."""
    lane_by: LaneBy
    total: int
    aggregated: bool
    buckets: int
    lanes: list[Lane]
    intervals: list[Interval]


def timeline(
    store: EventStore,
    *,
    now: datetime,
    first: int | None = None,
    last: int | None = None,
    task_id: str | None = None,
    session_id: str | None = None,
    lane_by: LaneBy | None = None,
    limit: int = 2000,
    buckets: int = 120,
) -> Timeline:
    """The claims of a task, a session or the log that overlap positions ``first`` to
    ``last``, as bars (up to ``limit``) or as ``buckets`` per lane beyond that.

    ``now`` is where a claim still held ends on the picture: the ledger time of the
    last record read when ``last`` is given, else the clock's time.
    """
    read = (
        store.read_stream(TASK_STREAM_PREFIX + task_id)
        if task_id is not None
        else store.read_all(until=last)
    )
    tail: list[Record] = []
    records = _until(read, last, tail)
    intervals = [
        interval
        for interval in claim_intervals(records)
        if (session_id is None or session_id in (interval.session_id, interval.to_session))
        and (first is None or interval.end_position is None or interval.end_position >= first)
    ]
    head = tail[-1] if tail else None
    as_of = head.recorded_at if last is not None and head is not None else now
    by: LaneBy = lane_by or ("task" if session_id is not None else "session")
    lanes = _lanes(intervals, by, as_of)
    start = min((interval.start for interval in intervals), default=None)
    end = max((_end_of(interval, as_of) for interval in intervals), default=as_of)
    aggregated = len(intervals) > limit
    if aggregated and start is not None:
        _bucket(lanes, intervals, by, start, end, buckets)
    return Timeline(
        position=head.position if head else 0,
        hash=head.hash if head else None,
        as_of=as_of,
        start=start,
        end=end,
        lane_by=by,
        total=len(intervals),
        aggregated=aggregated,
        buckets=buckets if aggregated else 0,
        lanes=list(lanes.values()),
        intervals=[] if aggregated else intervals,
    )


def _until(records: Iterable[Record], last: int | None, seen: list[Record]) -> Iterator[Record]:
    """``records`` up to position ``last``, remembering the last one passed on."""
    for record in records:
        if last is not None and record.position > last:
            return
        if seen:
            seen[0] = record
        else:
            seen.append(record)
        yield record


def _lane_key(interval: Interval, by: LaneBy) -> str:
    return interval.session_id if by == "session" else interval.task_id


def _end_of(interval: Interval, as_of: datetime) -> datetime:
    return interval.end if interval.end is not None else max(interval.start, as_of)


def _lanes(intervals: list[Interval], by: LaneBy, as_of: datetime) -> dict[str, Lane]:
    lanes: dict[str, Lane] = {}
    for interval in intervals:
        key = _lane_key(interval, by)
        lane = lanes.get(key)
        if lane is None:
            lane = lanes[key] = Lane(key=key, outcomes={})
        lane.count += 1
        lane.held_ms += _ms(_end_of(interval, as_of) - interval.start)
        lane.outcomes[interval.outcome] = lane.outcomes.get(interval.outcome, 0) + 1
    return lanes


def _bucket(
    lanes: dict[str, Lane],
    intervals: list[Interval],
    by: LaneBy,
    start: datetime,
    end: datetime,
    count: int,
) -> None:
    """Fill each lane's ``busy`` and ``ended`` over ``count`` equal buckets."""
    span = max(_ms(end - start), count)
    width = span / count
    busy = {key: [0.0] * count for key in lanes}
    ended: dict[str, list[dict[str, int]]] = {key: [{} for _ in range(count)] for key in lanes}
    for interval in intervals:
        key = _lane_key(interval, by)
        left = _ms(interval.start - start)
        right = _ms(_end_of(interval, end) - start)
        for index in range(int(left // width), min(count, int(right // width) + 1)):
            low, high = index * width, (index + 1) * width
            busy[key][index] += max(0.0, min(right, high) - max(left, low)) / width
        if interval.end is not None:
            slot = ended[key][min(count - 1, int(right // width))]
            slot[interval.outcome] = slot.get(interval.outcome, 0) + 1
    for key, lane in lanes.items():
        lane.busy = [round(min(1.0, share), 3) for share in busy[key]]
        lane.ended = [max(slot, key=slot.__getitem__) if slot else None for slot in ended[key]]


def _ms(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)
