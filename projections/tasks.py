"""The task board: every task's status, priority, ROI, fingerprint and claim."""

from __future__ import annotations

from typing import ClassVar

import msgspec

from ledger.events import task_of
from ledger.records import Record
from ledger.state import TaskState, evolve_task
from projections.base import Projection


class TasksState(msgspec.Struct, gc=False):
    tasks: dict[str, TaskState] = {}


class TaskBoard(Projection[TasksState]):
    name: ClassVar[str] = "tasks"
    schema_version: ClassVar[int] = 5
    """2: ``TaskState`` keeps the last ended lease and how it ended; 3: a takeover after
    an expiry keeps the expired lease as the ended one."""
    state_type = TasksState
    handles: ClassVar[frozenset[str]] = frozenset(
        {
            "task_registered",
            "task_status_changed",
            "claimed",
            "heartbeat",
            "released",
            "expired",
            "taken_over",
            "orphaned",
        }
    )

    def apply(self, state: TasksState, record: Record) -> None:
        task_id = task_of(record.data)
        if task_id is None:
            return
        current = state.tasks.get(task_id) or TaskState(task_id=task_id)
        state.tasks[task_id] = evolve_task(current, record)
