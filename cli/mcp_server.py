"""``claims mcp``: the claim operations as Model Context Protocol tools over stdio.

Built on the official SDK (``mcp.server.mcpserver.MCPServer``). Each tool does what
the CLI command of the same name does, through the same service and rules: the
answer is the CLI's ``--json`` body, a refusal is a tool error whose text is the
CLI's JSON error body (``{"success": false, "error": "TASK_ALREADY_CLAIMED", ...}``).
The session is the tool's ``session_id`` argument, else ``CLAIMS_SESSION`` from the
client's configuration. Tools run one at a time on the event loop (the service is
not shared across threads). Logs go to stderr; stdout is the protocol.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import msgspec
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from application.bodies import (
    claim_body,
    current_task_body,
    heartbeat_body,
    in_flight_body,
    release_body,
    task_created,
)
from application.bootstrap import Ledger
from application.results import ClaimResult
from cli import work_record
from cli.location import resolve_db
from ledger.commands import Beat, Claim, RegisterTask, Release
from ledger.errors import InvalidInput, LedgerError, TaskNotClaimed
from ledger.terms import LeaseTerms

T = TypeVar("T")
INSTRUCTIONS = (
    "Coordinate with other agents on one backlog: claim a task before working on it"
    " (claim_task or claim_next), heartbeat while you work, release_task with reason"
    " 'completed' when done (any other reason gives it back). TASK_ALREADY_CLAIMED"
    " means another agent holds it: pick another."
)


class Tools:
    """The tools' shared state: one ledger, the working tree's records folder."""

    def __init__(self, ledger: Ledger, url: str, session: str | None) -> None:
        self.ledger = ledger
        self.url = url
        self.session = session
        self.records = work_record.records_dir(Path.cwd())

    def session_of(self, given: str | None) -> str:
        chosen = given or self.session
        if not chosen:
            missing = InvalidInput("no session: pass session_id or set CLAIMS_SESSION")
            raise ToolError(json.dumps(missing.body()))
        return chosen

    def claim(self, session_id: str | None, ttl_ms: int | None, request_id: str | None) -> Claim:
        session = self.session_of(session_id)
        return Claim(session_id=session, terms=LeaseTerms(ttl_ms=ttl_ms), request_id=request_id)

    def held(self, task_id: str | None, session_id: str) -> tuple[str, int | None]:
        if task_id:
            return task_id, None
        record = work_record.load(self.records, session_id)
        if record is not None and record.lost is None:
            return record.task_id, record.fencing_token
        entry = self.ledger.service.current_task(session_id)
        if entry is None:
            raise TaskNotClaimed(f"session {session_id!r} holds no claim; pass task_id")
        return entry.task.task_id, entry.lease.fencing_token

    def remember(self, result: ClaimResult) -> None:
        work_record.save(
            self.records,
            work_record.WorkRecord(
                session_id=result.lease.session_id,
                task_id=result.task.task_id,
                fencing_token=result.lease.fencing_token,
                store=self.url,
            ),
        )


def plain(body: msgspec.Struct) -> dict[str, Any]:
    """A body as the JSON object the tool answers with (the CLI's ``--json``)."""
    built = msgspec.to_builtins(body)
    assert isinstance(built, dict)
    return built


def answer(call: Callable[[], T]) -> T:
    """Run a service call; a ledger error becomes a tool error with the CLI's JSON body."""
    try:
        return call()
    except LedgerError as error:
        raise ToolError(json.dumps(error.body())) from error


def build(ledger: Ledger, url: str, session: str | None) -> MCPServer:
    """The server with its seven tools over ``ledger``."""
    server: MCPServer = MCPServer("claim-ledger", instructions=INSTRUCTIONS, log_level="WARNING")
    tools = Tools(ledger, url, session)
    service = ledger.service

    @server.tool()
    async def claim_task(
        task_id: str,
        session_id: str | None = None,
        ttl_ms: int | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Claim a task for the session (as `claims claim`): the answer carries the
        fencing token; TASK_ALREADY_CLAIMED names the holder."""
        command = tools.claim(session_id, ttl_ms, request_id)
        result = answer(lambda: service.claim(task_id, command))
        tools.remember(result)
        return plain(claim_body(result))

    @server.tool()
    async def claim_next(
        session_id: str | None = None, ttl_ms: int | None = None, request_id: str | None = None
    ) -> dict[str, Any]:
        """Claim the best claimable task, highest ROI first (as `claims next`); tasks
        whose fingerprint is being worked on are skipped. NO_TASK_AVAILABLE when none."""
        command = tools.claim(session_id, ttl_ms, request_id)
        result = answer(lambda: service.claim_next(command))
        tools.remember(result)
        return plain(claim_body(result))

    @server.tool()
    async def heartbeat(
        task_id: str | None = None, session_id: str | None = None, fencing_token: int | None = None
    ) -> dict[str, Any]:
        """Extend the lease on the task (default: the session's current claim), as
        `claims heartbeat`. CLAIM_EXPIRED or NOT_CLAIM_OWNER: the lease is lost."""
        session = tools.session_of(session_id)
        task, token = answer(lambda: tools.held(task_id, session))
        command = Beat(session_id=session, fencing_token=fencing_token or token)
        return plain(heartbeat_body(answer(lambda: service.heartbeat(task, command))))

    @server.tool()
    async def release_task(
        task_id: str | None = None,
        session_id: str | None = None,
        reason: str = "released",
        fencing_token: int | None = None,
    ) -> dict[str, Any]:
        """Release the task (default: the session's current claim), as `claims
        release`. Only reason 'completed' marks it done; the default gives it back."""
        session = tools.session_of(session_id)
        task, token = answer(lambda: tools.held(task_id, session))
        command = Release(session_id=session, reason=reason, fencing_token=fencing_token or token)
        result = answer(lambda: service.release(task, command))
        work_record.forget(tools.records, session, task)
        return plain(release_body(result))

    @server.tool()
    async def current_task(session_id: str | None = None) -> dict[str, Any]:
        """The task the session holds now, or null (as `claims current-task`)."""
        session = tools.session_of(session_id)
        return plain(current_task_body(session, answer(lambda: service.current_task(session))))

    @server.tool()
    async def list_in_flight(session_id: str | None = None) -> dict[str, Any]:
        """Every claimed task with its holder, lease and health (as `claims in-flight`)."""
        return plain(in_flight_body(answer(lambda: service.in_flight(session_id=session_id))))

    @server.tool()
    async def propose_task(
        task_id: str,
        title: str,
        fingerprint: str | None = None,
        priority: str = "medium",
        roi: float = 0.0,
    ) -> dict[str, Any]:
        """Add a task unless unfinished work with its fingerprint exists (as `claims
        task propose`): TASK_ALREADY_ACTIVE names the active task."""
        spec = RegisterTask(
            task_id=task_id, title=title, fingerprint=fingerprint, priority=priority, roi=roi
        )
        state = answer(lambda: service.propose_task(spec))
        return plain(task_created(state))

    return server


def serve(db: str | None) -> None:
    """Run the server over stdio until the client goes away."""
    from application.bootstrap import open_ledger

    logging.basicConfig(level=logging.WARNING, format="claims mcp: %(message)s")
    url = resolve_db(db)
    ledger = open_ledger(url)
    try:
        build(ledger, url, os.environ.get("CLAIMS_SESSION")).run("stdio")
    finally:
        ledger.close()
