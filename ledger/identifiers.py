"""Task and session ids: what the ledger accepts as a name."""

from __future__ import annotations

import re

from ledger.errors import InvalidInput

MAX_ID = 128
_ALLOWED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]*")
RESERVED_TASK_IDS = frozenset(
    {"in-flight", "claim-next", "import", "claims/stats", "claims/cleanup"}
)
"""Paths of the HTTP API's fixed routes under ``/api/tasks/``: a task by one of these
names could never be reached at ``/api/tasks/{taskId}``."""
ACTION_SUFFIXES = ("/claim", "/claim/heartbeat", "/release", "/takeover", "/status")
"""The HTTP API's actions on a task (``/api/tasks/{taskId}/claim``): a task id ending
in one would make ``GET /api/tasks/a/claim`` mean both the task ``a/claim`` and the
claim action of ``a``."""


def check_id(value: str, *, kind: str) -> str:
    """A task or session id: 1 to 128 printable ASCII characters, no spaces, no ``..``."""
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{kind} id must be a non-empty string", field=f"{kind}Id")
    if len(value) > MAX_ID:
        raise InvalidInput(f"{kind} id is longer than {MAX_ID} characters", field=f"{kind}Id")
    if not _ALLOWED.fullmatch(value) or ".." in value:
        raise InvalidInput(
            f"{kind} id {value!r} may hold only letters, digits and . _ : @ / + = -,"
            " must start with a letter or digit, and may not contain '..'",
            field=f"{kind}Id",
        )
    if kind == "task" and (value in RESERVED_TASK_IDS or value.endswith(ACTION_SUFFIXES)):
        raise InvalidInput(
            f"task id {value!r} is reserved: it names a route of the HTTP API"
            f" ({', '.join(sorted(RESERVED_TASK_IDS))}, or ends in"
            f" {', '.join(ACTION_SUFFIXES)})",
            field="taskId",
        )
    return value
