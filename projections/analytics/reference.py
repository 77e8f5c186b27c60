"""The same figures in plain Python: one pass over the records, no DuckDB.

This is the fold a user would write without the analytics store, kept for two
jobs: the tests check every DuckDB figure against it, and the benchmark runs it
side by side. It is written independently of ``fold`` (it keeps each task's lease
in a dict and derives intervals from it), on the definitions of docs/analytics.md.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec

from ledger.clock import to_ms
from ledger.config import ClaimConfig
from ledger.events import (
    Claimed,
    Expired,
    Heartbeat,
    Orphaned,
    Released,
    TakenOver,
    TaskRegistered,
    TaskStatusChanged,
)
from ledger.records import Record
from projections.analytics.payout import Payout, Share, TaskPayout, Weights, WorkerTotal
from projections.analytics.stats import ALL, Durations, Filter, GroupStats, Overlap, Stats
from projections.analytics.window import Window


@dataclass
class Claim:
    """One claim interval, as the reference sees it."""

    task_id: str
    session_id: str
    agent_type: str | None
    fencing_token: int
    started_at: datetime
    start_position: int
    lease_expires_at: datetime
    last_heartbeat: datetime
    heartbeats: int = 0
    max_silence_ms: int = 0
    ended_at: datetime | None = None
    end_reason: str = "open"
    release_reason: str | None = None
    end_forced: bool | None = None

    @property
    def claimed_ms(self) -> int | None:
        return None if self.ended_at is None else max(0, to_ms(self.ended_at - self.started_at))

    @property
    def active_ms(self) -> int:
        until = self.ended_at if self.end_reason == "released" else self.last_heartbeat
        assert until is not None
        return max(0, to_ms(until - self.started_at))

    def silent_until(self, when: datetime) -> None:
        """A sign of life (or the end) at ``when``; the silence before it counts."""
        self.max_silence_ms = max(self.max_silence_ms, to_ms(when - self.last_heartbeat))


@dataclass
class Task:
    task_id: str
    title: str | None = None
    status: str = "todo"
    finished_at: datetime | None = None
    completed_by: str | None = None


class ReferenceFold:
    """Claims, tasks and the last release, from records in log order."""

    def __init__(self) -> None:
        self.claims: list[Claim] = []
        self.tasks: dict[str, Task] = {}
        self.position = 0
        self._holding: dict[str, Claim] = {}
        self._previous: Record | None = None

    def run(self, records: Iterable[Record]) -> ReferenceFold:
        for record in records:
            self.apply(record)
        return self

    def apply(self, record: Record) -> None:
        event = record.data
        when = record.occurred_at
        match event:
            case Claimed():
                self._open(event.task_id, event.session_id, event, record)
            case TakenOver():
                self._close(event.task_id, when, "taken_over", event.handoff_reason)
                self._mark_forced(event)
                self._open(event.task_id, event.to_session, event, record)
            case Heartbeat():
                self._beat(event.task_id, event, when)
            case Released():
                self._close(event.task_id, when, "released", event.reason)
            case Expired():
                self._close(event.task_id, event.expired_at, "expired", None)
            case Orphaned():
                self._close(event.task_id, when, "orphaned", event.reason)
        self._task(record)
        self._previous = record
        self.position = record.position

    def _open(self, task_id: str, session: str, event: Claimed | TakenOver, record: Record) -> None:
        if task_id in self._holding:
            earlier = self._holding[task_id]
            self._close(task_id, earlier.lease_expires_at, "superseded", None)
        claim = Claim(
            task_id=task_id,
            session_id=session,
            agent_type=event.agent_type,
            fencing_token=event.fencing_token,
            started_at=record.occurred_at,
            start_position=record.position,
            lease_expires_at=event.expires_at,
            last_heartbeat=record.occurred_at,
        )
        self.claims.append(claim)
        self._holding[task_id] = claim

    def _beat(self, task_id: str, event: Heartbeat, when: datetime) -> None:
        claim = self._holding.get(task_id)
        if claim is not None:
            claim.silent_until(when)
            claim.heartbeats += 1
            claim.last_heartbeat = when
            claim.lease_expires_at = event.expires_at

    def _close(self, task_id: str, when: datetime, reason: str, detail: str | None) -> None:
        claim = self._holding.pop(task_id, None)
        if claim is not None:
            claim.silent_until(when)
            claim.ended_at = when
            claim.end_reason = reason
            claim.release_reason = detail

    def _mark_forced(self, event: TakenOver) -> None:
        for claim in reversed(self.claims):
            if claim.task_id == event.task_id and claim.fencing_token == event.previous_token:
                claim.end_forced = event.forced
                return

    def _task(self, record: Record) -> None:
        event = record.data
        if isinstance(event, TaskRegistered):
            task = Task(task_id=event.task_id, title=event.title, status=event.status)
            task.finished_at = record.occurred_at if event.status == "done" else None
            self.tasks[event.task_id] = task
        elif isinstance(event, TaskStatusChanged) and event.task_id in self.tasks:
            self._status(self.tasks[event.task_id], record, event)

    def _status(self, task: Task, record: Record, event: TaskStatusChanged) -> None:
        if event.status == "done" and task.status != "done":
            task.finished_at = record.occurred_at
            previous = self._previous
            task.completed_by = None
            same_append = previous is not None and previous.more > 0
            if same_append and previous is not None and isinstance(previous.data, Released):
                task.completed_by = previous.data.session_id
        elif event.status != "done":
            task.finished_at = task.completed_by = None
        task.status = event.status


# --- statistics ---------------------------------------------------------------


def nearest_rank(values: list[int], q: float) -> int | None:
    """The ceil(q * n)-th smallest value (1-based), ``None`` when there is none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def durations(values: list[int]) -> Durations:
    return Durations(
        count=len(values),
        mean=sum(values) / len(values) if values else None,
        p50=nearest_rank(values, 0.5),
        p95=nearest_rank(values, 0.95),
        max=max(values) if values else None,
    )


def group_stats(key: str, claims: list[Claim], stale_after_ms: int) -> GroupStats:
    closed = [claim for claim in claims if claim.end_reason != "open"]
    ends = Counter(claim.end_reason for claim in claims)
    releases = Counter(
        str(claim.release_reason) for claim in claims if claim.end_reason == "released"
    )
    stale = sum(1 for claim in closed if claim.max_silence_ms > stale_after_ms)
    return GroupStats(
        key=key,
        claims=len(claims),
        completions=releases["completed"],
        releases=dict(sorted(releases.items())),
        expiries=ends["expired"],
        takeovers=ends["taken_over"],
        forced_takeovers=sum(1 for c in claims if c.end_reason == "taken_over" and c.end_forced),
        orphans=ends["orphaned"],
        superseded=ends["superseded"],
        open=ends["open"],
        closed=len(closed),
        claimed=durations([claim.claimed_ms for claim in closed if claim.claimed_ms is not None]),
        active=durations([claim.active_ms for claim in closed]),
        stale=stale,
        stale_rate=stale / len(closed) if closed else None,
    )


def group_key(claim: Claim, by: str) -> str:
    if by == "session":
        return claim.session_id
    if by == "agent":
        return claim.agent_type or "-"
    if by == "task":
        return claim.task_id
    return claim.started_at.astimezone(UTC).strftime("%Y-%m-%d")


def chosen(fold: ReferenceFold, where: Filter) -> list[Claim]:
    return [
        claim
        for claim in fold.claims
        if where.window.holds(claim.started_at)
        and where.task_id in (None, claim.task_id)
        and where.session_id in (None, claim.session_id)
    ]


def stats(
    fold: ReferenceFold,
    *,
    by: str = "session",
    where: Filter | None = None,
    stale_after_ms: int | None = None,
) -> Stats:
    where = where or Filter()
    stale = ClaimConfig().warning_threshold if stale_after_ms is None else stale_after_ms
    claims = chosen(fold, where)
    grouped: dict[str, list[Claim]] = defaultdict(list)
    for claim in claims:
        grouped[group_key(claim, by)].append(claim)
    return Stats(
        by=by,
        window=where.window,
        stale_after_ms=stale,
        groups=[group_stats(key, grouped[key], stale) for key in sorted(grouped)],
        total=group_stats(ALL, claims, stale),
        overlaps=overlaps(fold, where),
    )


def overlaps(fold: ReferenceFold, where: Filter) -> list[Overlap]:
    """Claims that started before the claim before them on the task (in log order,
    which ``fold.claims`` is) had ended."""
    wanted = {id(claim) for claim in chosen(fold, where)}
    previous: dict[str, Claim] = {}
    found: list[Overlap] = []
    for claim in fold.claims:
        earlier = previous.get(claim.task_id)
        ended = earlier.ended_at if earlier is not None else None
        overlapping = ended is not None and ended > claim.started_at
        if earlier is not None and overlapping and id(claim) in wanted:
            found.append(_overlap(claim, earlier))
        previous[claim.task_id] = claim
    found.sort(key=lambda o: (o.task_id, o.started_at, o.fencing_token))
    return found


def _overlap(claim: Claim, earlier: Claim) -> Overlap:
    return Overlap(
        task_id=claim.task_id,
        session_id=claim.session_id,
        fencing_token=claim.fencing_token,
        started_at=claim.started_at,
        earlier_session=earlier.session_id,
        earlier_token=earlier.fencing_token,
        earlier_end=earlier.ended_at or claim.started_at,
    )


# --- payout -------------------------------------------------------------------


def payout(
    fold: ReferenceFold,
    *,
    window: Window | None = None,
    weights: Weights | None = None,
    task_id: str | None = None,
) -> Payout:
    window = window or Window()
    weights = weights or Weights()
    finished = [
        task
        for task in fold.tasks.values()
        if task.status == "done"
        and task.finished_at is not None
        and window.holds(task.finished_at)
        and task_id in (None, task.task_id)
    ]
    finished.sort(key=lambda task: (task.finished_at, task.task_id))
    by_task: dict[str, list[Claim]] = defaultdict(list)
    for claim in fold.claims:
        by_task[claim.task_id].append(claim)
    tasks = [_task_payout(task, by_task[task.task_id], weights) for task in finished]
    return Payout(
        window=window,
        weights=weights,
        workers=_totals(tasks, by_task),
        tasks=[task for task in tasks if task.workers],
        unattributed=[task.task_id for task in finished if not by_task[task.task_id]],
    )


def _totals(tasks: list[TaskPayout], by_task: dict[str, list[Claim]]) -> list[WorkerTotal]:
    """Per worker: finished tasks worked on, active time, and the sum of its shares."""
    count: Counter[str] = Counter()
    active: dict[str, int] = defaultdict(int)
    credit: dict[str, float] = defaultdict(float)
    latest: dict[str, tuple[int, str | None]] = {}
    for task in tasks:
        for worker in task.workers:
            count[worker.session_id] += 1
            active[worker.session_id] += worker.active_ms
            credit[worker.session_id] += worker.share
        for claim in by_task[task.task_id]:
            if claim.start_position > latest.get(claim.session_id, (-1, None))[0]:
                latest[claim.session_id] = (claim.start_position, claim.agent_type)
    return [
        WorkerTotal(
            session_id=session,
            agent_type=latest[session][1],
            tasks=count[session],
            active_ms=active[session],
            credit=credit[session],
        )
        for session in sorted(count)
    ]


def _task_payout(task: Task, claims: list[Claim], weights: Weights) -> TaskPayout:
    time_weight, completion_weight = weights.scaled()
    active: dict[str, int] = defaultdict(int)
    count: Counter[str] = Counter()
    agent: dict[str, tuple[int, str | None]] = {}
    for claim in claims:
        active[claim.session_id] += claim.active_ms
        count[claim.session_id] += 1
        if claim.start_position >= agent.get(claim.session_id, (-1, None))[0]:
            agent[claim.session_id] = (claim.start_position, claim.agent_type)
    total = sum(active.values())
    workers = []
    for session in sorted(active):
        time_share = active[session] / total if total > 0 else 1.0 / len(active)
        if task.completed_by is None:
            completion = time_share
        else:
            completion = 1.0 if session == task.completed_by else 0.0
        workers.append(
            Share(
                session_id=session,
                agent_type=agent[session][1],
                claims=count[session],
                active_ms=active[session],
                time_share=time_share,
                completion_share=completion,
                share=time_weight * time_share + completion_weight * completion,
            )
        )
    assert task.finished_at is not None
    return TaskPayout(
        task_id=task.task_id,
        title=task.title,
        finished_at=task.finished_at,
        completed_by=task.completed_by,
        active_ms=total,
        workers=workers,
    )


def same_payout(found: Payout, expected: Payout, *, rel_tol: float = 1e-9) -> bool:
    """Equal payouts, except that each worker's credit (a float sum, added up in
    another order by DuckDB's parallel aggregation) may differ in its last digits."""
    if msgspec.structs.replace(found, workers=[]) != msgspec.structs.replace(expected, workers=[]):
        return False
    if len(found.workers) != len(expected.workers):
        return False
    return all(
        msgspec.structs.replace(a, credit=0.0) == msgspec.structs.replace(b, credit=0.0)
        and math.isclose(a.credit, b.credit, rel_tol=rel_tol)
        for a, b in zip(found.workers, expected.workers, strict=True)
    )
