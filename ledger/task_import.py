"""Read a backlog from a ``tasks.json`` in seed 002's shape.

Accepted: a list of task objects, or an object with a ``tasks`` list. Each task
has ``id`` and ``title``; ``priority``, ``phase``, ``status``, ``roi`` (or
``estimatedRoi``) and ``fingerprint`` are optional; other members (``claim``,
``assignee``, ...) are ignored. Any fault names the task's index and field, and
nothing is registered.
"""

from __future__ import annotations

import msgspec

from ledger.commands import RegisterTask
from ledger.errors import InvalidInput
from ledger.events import TaskStatus
from ledger.roi import check_roi

_STATUS: dict[str, TaskStatus] = {
    "todo": "todo",
    "pending": "todo",
    "ready": "todo",
    "backlog": "todo",
    "open": "todo",
    "proposed": "todo",
    "in_progress": "todo",
    "inprogress": "todo",
    "running": "todo",
    "done": "done",
    "completed": "done",
    "complete": "done",
    "dropped": "dropped",
    "cancelled": "dropped",
    "canceled": "dropped",
    "blocked": "blocked",
}


class _Task(msgspec.Struct):
    id: str
    title: str
    priority: str | None = None
    phase: str | None = None
    status: str | None = None
    roi: float | None = None
    estimated_roi: float | None = msgspec.field(default=None, name="estimatedRoi")
    fingerprint: str | None = None


class _Wrapped(msgspec.Struct):
    tasks: list[_Task]


def parse_tasks_json(raw: bytes) -> list[RegisterTask]:
    """The tasks a ``tasks.json`` holds, or ``InvalidInput`` saying where it is wrong."""
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise InvalidInput(f"tasks.json is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise InvalidInput(f"tasks.json is nested too deeply: {exc}") from exc
    try:
        tasks = (
            msgspec.convert(value, list[_Task])
            if isinstance(value, list)
            else msgspec.convert(value, _Wrapped).tasks
        )
    except msgspec.ValidationError as exc:
        raise InvalidInput(f"tasks.json does not have seed 002's shape: {exc}") from exc
    return [_spec(index, task) for index, task in enumerate(tasks)]


def _spec(index: int, task: _Task) -> RegisterTask:
    status_name = (task.status or "todo").strip().lower().replace("-", "_").replace(" ", "_")
    status = _STATUS.get(status_name)
    if status is None:
        raise InvalidInput(
            f"tasks.json: task {index} ({task.id!r}) has unknown status {task.status!r}",
            index=index,
        )
    roi = task.roi if task.roi is not None else task.estimated_roi
    return RegisterTask(
        task_id=task.id,
        title=task.title,
        priority=(task.priority or "medium").lower(),
        roi=check_roi(roi, index=index) if roi is not None else 0.0,
        fingerprint=task.fingerprint,
        phase=task.phase,
        status=status,
    )
