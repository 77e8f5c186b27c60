"""Registering a task: the checks on its fields and the one event it makes."""

from __future__ import annotations

from ledger.commands import RegisterTask
from ledger.errors import InvalidInput, TaskAlreadyExists
from ledger.events import TASK_STATUSES, TaskRegistered, TaskStatus
from ledger.identifiers import check_id
from ledger.roi import check_roi
from ledger.state import TaskState

PRIORITIES = ("critical", "high", "medium", "low")
MAX_TITLE = 500


def decide_registration(state: TaskState, spec: RegisterTask) -> TaskRegistered:
    """The registration event of a new task; ``TASK_ALREADY_EXISTS`` if it has one."""
    event = registration(spec)
    if state.registered:
        raise TaskAlreadyExists(f"task {spec.task_id!r} already exists", taskId=spec.task_id)
    return event


def registration(spec: RegisterTask) -> TaskRegistered:
    """The checked ``task_registered`` event of ``spec``; ``VALIDATION_ERROR`` if a field is bad."""
    check_id(spec.task_id, kind="task")
    return TaskRegistered(
        task_id=spec.task_id,
        title=_title(spec),
        priority=_priority(spec),
        roi=_roi(spec),
        fingerprint=spec.fingerprint or None,
        phase=spec.phase,
        status=_status(spec),
    )


def _title(spec: RegisterTask) -> str:
    title = spec.title.strip()
    if not title or len(title) > MAX_TITLE:
        raise InvalidInput(
            f"a task needs a title of 1 to {MAX_TITLE} characters", taskId=spec.task_id
        )
    return title


def _priority(spec: RegisterTask) -> str:
    priority = spec.priority.lower()
    if priority not in PRIORITIES:
        raise InvalidInput(
            f"priority must be one of {', '.join(PRIORITIES)}, not {spec.priority!r}",
            taskId=spec.task_id,
        )
    return priority


def _status(spec: RegisterTask) -> TaskStatus:
    if spec.status not in TASK_STATUSES or spec.status == "in_progress":
        raise InvalidInput(
            f"a task starts as todo, done, dropped or blocked, not {spec.status!r}",
            taskId=spec.task_id,
        )
    return spec.status


def _roi(spec: RegisterTask) -> float:
    return check_roi(spec.roi, taskId=spec.task_id)
