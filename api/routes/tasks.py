"""The backlog: register (with fingerprint de-duplication), import, list, show, status."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from api.models.requests import StatusRequest, TaskRequest
from api.wire import Ledger, answers, send
from application.bodies import (
    ImportResponse,
    TaskCreated,
    TaskList,
    TaskResponse,
    import_body,
    task_created,
    task_response,
)
from application.views import task_list
from ledger.commands import ChangeStatus, RegisterTask
from ledger.errors import InvalidInput
from ledger.identifiers import ACTION_SUFFIXES, RESERVED_TASK_IDS
from ledger.task_import import parse_tasks_json

router = APIRouter(prefix="/api/tasks", tags=["tasks"])

MAX_IMPORT_BYTES = 16 << 20

_TASKS_JSON: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A tasks.json: a list of tasks, or an object with a ``tasks`` list",
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"type": "array", "items": {"$ref": "#/components/schemas/ImportedTask"}},
                        {
                            "type": "object",
                            "required": ["tasks"],
                            "properties": {
                                "tasks": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/ImportedTask"},
                                }
                            },
                        },
                    ]
                }
            }
        },
    }
}


@router.post(
    "",
    status_code=201,
    responses=answers(TaskCreated, 409, status=201, description="Created"),
    summary="Register a task (with fingerprint de-duplication)",
)
async def create_task(body: TaskRequest, ledger: Ledger) -> Response:
    """201 with the new task. With a ``fingerprint``, a task is added only if no
    unfinished task has the same one (seed 000): otherwise nothing is added and the
    answer is 409 TASK_ALREADY_ACTIVE with ``result: task_already_active``, the
    ``activeTask`` and its ``holder``; racing proposals of one fingerprint add one
    task. 409 TASK_ALREADY_EXISTS when the id is taken."""
    spec = RegisterTask(
        task_id=body.taskId,
        title=body.title,
        priority=body.priority,
        roi=body.roi,
        fingerprint=body.fingerprint,
        phase=body.phase,
        status=body.status,
    )
    state = await ledger.write(ledger.service.propose_task, spec)
    return send(task_created(state), 201)


@router.get("", responses=answers(TaskList), summary="List tasks, best ROI first")
async def list_tasks(
    ledger: Ledger,
    status: Annotated[
        Literal["todo", "in_progress", "done", "dropped", "blocked"] | None, Query()
    ] = None,
) -> Response:
    return send(await ledger.read(task_list, ledger.service, status))


@router.post(
    "/import",
    responses=answers(ImportResponse, 413),
    openapi_extra=_TASKS_JSON,
    summary="Register every task of a tasks.json; known ids are skipped",
)
async def import_tasks(request: Request, ledger: Ledger) -> Response:
    """Seed 002's ``tasks.json``. Any fault names the task's index and field, and
    nothing is registered."""
    raw = await request.body()
    if len(raw) > MAX_IMPORT_BYTES:
        raise InvalidInput(f"tasks.json is larger than {MAX_IMPORT_BYTES} bytes")
    specs = parse_tasks_json(raw)
    result = await ledger.write(ledger.service.import_tasks, specs)
    return send(import_body(result))


@router.post(
    "/{taskId:path}/status",
    responses=answers(TaskResponse, 403, 404),
    summary="Move a task to todo, done, dropped or blocked",
)
async def set_status(taskId: str, body: StatusRequest, ledger: Ledger) -> Response:
    """A claimed task changes status only by its holder, whose claim ends with it."""
    command = ChangeStatus(status=body.status, session_id=body.sessionId, reason=body.reason)
    state = await ledger.write(ledger.service.set_status, taskId, command)
    return send(task_response(state))


@router.get("/{taskId:path}", responses=answers(TaskResponse, 404), summary="One task")
async def get_task(taskId: str, ledger: Ledger) -> Response:
    """A path that is one of the POST-only routes (``claim-next``, ``import``,
    ``claims/cleanup``, ``{taskId}/claim``, ...) is 405, never a task lookup."""
    if taskId in RESERVED_TASK_IDS or taskId.endswith(ACTION_SUFFIXES):
        raise HTTPException(405, headers={"Allow": "POST"})
    state = await ledger.read(ledger.service.task, taskId)
    return send(task_response(state))
