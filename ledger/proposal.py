"""Proposing a task with a fingerprint (seed 000): refuse duplicates of unfinished work.

A proposal reserves the fingerprint in the stream ``fingerprint-<fp>`` before the task
is registered. It is refused with ``TASK_ALREADY_ACTIVE`` while the last reservation
stands (its task is unfinished, or it was reserved a moment ago and is not registered
yet) or while the board shows unfinished work with the fingerprint. A fingerprint of
done or dropped work is free.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from ledger.clock import iso, to_ms
from ledger.errors import TaskAlreadyActive
from ledger.events import FingerprintReserved
from ledger.state import TaskState

FINISHED = ("done", "dropped")
RESERVATION_TTL_MS = 60_000
"""How long a reservation whose task is not registered yet keeps the fingerprint."""


class LastReservation(msgspec.Struct, frozen=True, kw_only=True):
    """The fingerprint stream's last reservation, with the state of the task it named."""

    task: TaskState
    recorded_at: datetime


def decide_proposal(
    fingerprint: str,
    task_id: str,
    *,
    last: LastReservation | None,
    unfinished: TaskState | None,
    now: datetime,
    reservation_ttl_ms: int = RESERVATION_TTL_MS,
) -> FingerprintReserved:
    """The reservation of ``fingerprint`` for ``task_id``, or ``TASK_ALREADY_ACTIVE``."""
    if last is not None:
        _refuse_standing(fingerprint, last, now, reservation_ttl_ms)
    if unfinished is not None:
        raise already_active(unfinished, fingerprint, now)
    return FingerprintReserved(fingerprint=fingerprint, task_id=task_id)


def _refuse_standing(fingerprint: str, last: LastReservation, now: datetime, ttl_ms: int) -> None:
    task = last.task
    if task.registered and task.status not in FINISHED:
        raise already_active(task, fingerprint, now)
    if not task.registered and to_ms(now - last.recorded_at) < ttl_ms:
        raise TaskAlreadyActive(
            f"task {task.task_id!r} was just proposed with fingerprint {fingerprint!r}",
            result="task_already_active",
            fingerprint=fingerprint,
            activeTask={"taskId": task.task_id, "status": "proposed"},
            holder=None,
        )


def already_active(task: TaskState, fingerprint: str, now: datetime) -> TaskAlreadyActive:
    """Seed 000's answer: the active task with that fingerprint, and its live holder."""
    lease = task.lease if task.lease is not None and task.lease.live_at(now) else None
    return TaskAlreadyActive(
        f"task {task.task_id!r} with fingerprint {fingerprint!r} is still {task.status}",
        result="task_already_active",
        fingerprint=fingerprint,
        activeTask={
            "taskId": task.task_id,
            "title": task.title,
            "status": task.status,
            "roi": task.roi,
        },
        holder=None
        if lease is None
        else {
            "sessionId": lease.session_id,
            "claimedAt": iso(lease.claimed_at),
            "fencingToken": lease.fencing_token,
        },
    )
