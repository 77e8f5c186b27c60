"""Request bodies, camelCase as in seed 002.

Strict: a number must be a JSON number, a string a JSON string, and a member the
model does not know is refused, so a typo (``ttl`` for ``ttlMs``) is a 400, not
a silently ignored field. Ranges that the claim settings decide (the TTL) are
checked by the service, which answers ``INVALID_TTL`` with the allowed range.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ledger.roi import MAX_ROI


def _whole(value: Any) -> Any:
    """JSON has one number type: ``60000.0`` is the integer 60000, as JSON Schema says."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Whole = BeforeValidator(_whole)
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]*$"
"""Task and session ids (``ledger.identifiers``; ``..`` is refused there as well)."""

Id = Annotated[str, Field(max_length=128, pattern=ID_PATTERN, examples=["fix-login"])]
SessionId = Annotated[str, Field(max_length=128, pattern=ID_PATTERN, examples=["session-abc-123"])]
Millis = Annotated[int, Whole, Field(ge=0, le=2**53, description="Milliseconds")]
Token = Annotated[int, Whole, Field(ge=0, le=2**53, description="The claim's fencing token")]
Text = Annotated[str, Field(max_length=500)]
Labels = Annotated[list[Annotated[str, Field(max_length=500)]], Field(max_length=100)]
Priority = Literal["critical", "high", "medium", "low"]
SettableStatus = Literal["todo", "done", "dropped", "blocked"]


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class LeaseRequest(Body):
    """What a claim and a takeover carry: seed 002's claim body, with what seed 001's
    assignment record adds."""

    sessionId: SessionId
    ttlMs: Millis | None = Field(None, description="Lease length; default 30 min (1 min-2 h)")
    agentType: Text | None = Field(None, examples=["autonomous"])
    tier: Text | None = None
    scope: Labels = Field(default_factory=list, description="Files or areas")
    constraints: Labels = Field(default_factory=list, description="Allowed actions")
    metadata: dict[str, Any] = Field(default_factory=dict, description="A small JSON object")


class ClaimRequest(LeaseRequest):
    """Seed 002's claim body, and an optional request id for safe retries."""

    requestId: Text | None = Field(
        None,
        description="The caller's id for this claim: a retry with the same id by the same"
        " session answers the claim already made instead of deciding again",
        examples=["3f1c9a2e-claim-1"],
    )


class HeartbeatRequest(Body):
    sessionId: SessionId
    extendMs: Millis | None = Field(None, description="New lease length from now")
    fencingToken: Token | None = None


class ReleaseRequest(Body):
    sessionId: SessionId
    reason: Text = Field(
        "released",
        description="completed marks the task done; any other reason (default released)"
        " returns it to the backlog",
    )
    fencingToken: Token | None = None


class TakeoverRequest(LeaseRequest):
    """Take a task over after its lease expired, or ``force`` it with a ``reason``."""

    reason: Text | None = Field(None, description="Handoff reason (required with force)")
    force: bool = False
    forcedBy: Text | None = Field(None, description="Who forces it (default: the session)")


class TaskRequest(Body):
    taskId: Id
    title: Annotated[str, Field(min_length=1, max_length=500)]
    priority: Priority = "medium"
    roi: Annotated[float, Field(allow_inf_nan=False, ge=-MAX_ROI, le=MAX_ROI)] = 0.0
    fingerprint: Text | None = Field(None, description="Identity of the work, for de-duplication")
    phase: Text | None = None
    status: SettableStatus = "todo"


class StatusRequest(Body):
    status: SettableStatus
    sessionId: SessionId | None = Field(None, description="The holder, if the task is claimed")
    reason: Text | None = None


class SessionRequest(Body):
    sessionId: SessionId
    agentType: Text = "cli"
    tier: Text | None = None
    pid: Annotated[int, Whole, Field(ge=1, le=2**31 - 1)] | None = Field(
        None, description="The agent's long-lived process, checked on its host by the sweeper"
    )
    host: Text | None = Field(None, description="Where that process runs (default: the server's)")


class SessionEndRequest(Body):
    reason: Text = "ended"


class ImportedTask(BaseModel):
    """One task of a ``tasks.json`` (seed 002); other members are ignored."""

    id: Id
    title: str
    priority: str | None = None
    phase: str | None = None
    status: str | None = Field(None, examples=["todo", "pending", "completed", "blocked"])
    roi: Annotated[float, Field(allow_inf_nan=False, ge=-MAX_ROI, le=MAX_ROI)] | None = None
    estimatedRoi: Annotated[float, Field(allow_inf_nan=False, ge=-MAX_ROI, le=MAX_ROI)] | None = (
        None
    )
    fingerprint: str | None = None
