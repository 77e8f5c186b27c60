"""Which claim a command without a task means: the session's current claim.

``TASK`` if given, else ``CLAIMS_TASK``, else the claim this working tree recorded for
the session (``cli.work_record``, with its fencing token), else the session's current
task in the ledger (``claims current-task``). Commands that claim record the claim.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cli import work_record
from cli.app import App
from ledger.errors import TaskNotClaimed
from ledger.state import Lease


class Held:
    """A task id and the fencing token that goes with it, when known."""

    def __init__(self, task_id: str, token: int | None) -> None:
        self.task_id = task_id
        self.token = token


def held_task(app: App, task_id: str | None, session_id: str) -> Held:
    """The task a command means, with the recorded token if it came from the record."""
    explicit = task_id or os.environ.get("CLAIMS_TASK")
    if explicit:
        return Held(explicit, None)
    record = work_record.load(records(), session_id)
    if record is not None and record.lost is None:
        return Held(record.task_id, record.fencing_token)
    entry = app.service().current_task(session_id)
    if entry is None:
        raise TaskNotClaimed(
            f"session {session_id!r} holds no claim; pass TASK", sessionId=session_id
        )
    return Held(entry.task.task_id, entry.lease.fencing_token)


def fencing_token(given: int | None) -> int | None:
    """``--token`` if given, else ``CLAIMS_FENCING_TOKEN`` when it is a number."""
    if given is not None:
        return given
    raw = os.environ.get("CLAIMS_FENCING_TOKEN")
    return int(raw) if raw and raw.isdigit() else None


def records() -> Path | None:
    """This working tree's records folder (``None`` outside a git working tree)."""
    return work_record.records_dir(Path.cwd())


def remember(app: App, task_id: str, lease: Lease) -> None:
    """Record the session's new claim in this working tree, for the hook and the guard."""
    try:
        work_record.save(
            records(),
            work_record.WorkRecord(
                session_id=lease.session_id,
                task_id=task_id,
                fencing_token=lease.fencing_token,
                store=app.url,
            ),
        )
    except OSError as problem:
        _notice(f"could not record the claim here: {problem}")


def forget(session_id: str, task_id: str) -> None:
    """The session released ``task_id``: its record here goes too."""
    try:
        work_record.forget(records(), session_id, task_id)
    except OSError as problem:
        _notice(f"could not remove the claim's record: {problem}")


def _notice(message: str) -> None:
    sys.stderr.write(f"notice: {message}\n")
    sys.stderr.flush()
