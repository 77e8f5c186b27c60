"""What an agent's loop asks between tool calls: is my claim still mine, and what do I
hold or get next. Used by ``claims hook``, ``claims guard`` and the MCP server."""

from __future__ import annotations

from application.service import ClaimService
from ledger.events import task_stream
from ledger.lease_loss import LeaseLoss, lease_loss


def lease_check(
    service: ClaimService, task_id: str, session_id: str, token: int
) -> LeaseLoss | None:
    """``None`` while the session holds the task's current, live claim with ``token``;
    else what ended it and who holds the task now (one read of the task's stream)."""
    state = service.task(task_id)
    since = service.store.read_stream(task_stream(task_id), after_version=max(token - 1, 0))
    return lease_loss(state, since, session_id, token, service.clock.now())


def briefing(service: ClaimService, session_id: str) -> str:
    """A few lines for the agent's context at session start: what it holds, what
    ``claims next`` would give it, and how to claim, heartbeat and release."""
    held = service.current_task(session_id)
    lines = [
        f"claim-ledger: you are session {session_id}; pass `--session {session_id}` to"
        " `claims` commands (or session_id to the MCP tools) unless CLAIMS_SESSION is set."
    ]
    if held is not None:
        lines.append(
            f"You hold {held.task.task_id} ({held.task.title}), fencing token"
            f" {held.lease.fencing_token}, {held.remaining_ms // 1000}s left; hooks heartbeat it."
        )
    board = service.board()
    claimable = board.claimable(service.clock.now())
    if claimable:
        best = claimable[0]
        lines.append(
            f"`claims next` would give you {best.task_id} ({best.title}, roi {best.roi:g},"
            f" {best.priority}); {len(claimable)} claimable in all."
        )
    else:
        lines.append("Nothing is claimable in the backlog now.")
    lines.append(
        "Claim before you work (`claims claim TASK` or `claims next`); release with"
        " `claims release --reason completed` when done, or `claims release` to give it back."
    )
    return "\n".join(lines)
