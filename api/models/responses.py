"""Response bodies: the shapes ``application.bodies`` builds, described for the OpenAPI document.

The routes send the bodies that ``application.bodies`` builds (the CLI's ``--json``
prints the same ones); these models describe them. The fuzz test checks every
response against the document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Health = Literal["healthy", "stale", "expiring", "expired"]
TaskStatus = Literal["todo", "in_progress", "done", "dropped", "blocked"]


class Lease(BaseModel):
    taskId: str
    sessionId: str
    claimedAt: datetime
    expiresAt: datetime
    lastHeartbeat: datetime
    heartbeatCount: int
    agentType: str
    tier: str | None
    ttlMs: int
    fencingToken: int = Field(description="Grows with every new claim of the task")
    scope: list[str]
    constraints: list[str]
    metadata: dict[str, Any]


class ClaimBody(Lease):
    version: int = Field(description="The task stream's version after the claim")
    renewed: bool = Field(description="True when the holder re-claimed and the lease was extended")


class ClaimResponse(BaseModel):
    success: Literal[True]
    claim: ClaimBody


class Handoff(BaseModel):
    fromSession: str
    forced: bool


class TakeoverResponse(ClaimResponse):
    takeover: Handoff


class HeartbeatClaim(BaseModel):
    taskId: str
    sessionId: str
    expiresAt: datetime
    heartbeatCount: int
    fencingToken: int
    version: int


class HeartbeatResponse(BaseModel):
    success: Literal[True]
    claim: HeartbeatClaim


class Released(BaseModel):
    taskId: str
    sessionId: str
    reason: str
    claimDuration: int = Field(description="Milliseconds from claim to release")
    fencingToken: int
    status: TaskStatus
    version: int


class ReleaseResponse(BaseModel):
    success: Literal[True]
    released: Released


class InFlightTask(BaseModel):
    title: str
    phase: str | None
    priority: str
    roi: float
    status: TaskStatus


class InFlightClaim(Lease):
    remainingMs: int
    healthStatus: Health


class InFlightEntry(BaseModel):
    taskId: str
    task: InFlightTask
    claim: InFlightClaim


class Summary(BaseModel):
    total: int
    bySession: dict[str, int]


class InFlightResponse(BaseModel):
    inFlight: list[InFlightEntry]
    summary: Summary
    asOf: datetime
    position: int = Field(description="The ledger position this view is as of")


class CurrentClaim(BaseModel):
    claimedAt: datetime
    expiresAt: datetime
    remainingMs: int
    fencingToken: int
    healthStatus: Health


class CurrentTask(BaseModel):
    taskId: str
    title: str
    phase: str | None
    claim: CurrentClaim


class CurrentTaskResponse(BaseModel):
    sessionId: str
    currentTask: CurrentTask | None


class Task(BaseModel):
    taskId: str
    title: str
    status: TaskStatus
    priority: str
    roi: float
    fingerprint: str | None
    phase: str | None
    version: int
    claim: Lease | None


class TaskResponse(BaseModel):
    success: Literal[True]
    task: Task


class TaskCreated(BaseModel):
    success: Literal[True]
    result: Literal["created"]
    task: Task


class TaskList(BaseModel):
    tasks: list[Task]
    total: int


class ImportResponse(BaseModel):
    success: Literal[True]
    added: list[str]
    existing: list[str]
    total: int


class Session(BaseModel):
    sessionId: str
    agentType: str
    tier: str | None
    host: str
    pid: int | None
    startedAt: datetime | None
    endedAt: datetime | None
    active: bool


class SessionResponse(BaseModel):
    success: Literal[True]
    session: Session


class SessionEnded(SessionResponse):
    orphaned: list[str] = Field(description="Tasks whose claims the end orphaned")


class SessionCard(Session):
    currentTaskId: str | None
    claims: int = Field(description="Claims the session has made")
    completed: int = Field(description="Of those, released as completed")
    lastHeartbeat: datetime | None = Field(description="Latest claim or heartbeat of a live claim")


class SessionList(BaseModel):
    sessions: list[SessionCard]
    total: int


class HistoryEntry(BaseModel):
    taskId: str
    fencingToken: int
    claimedAt: datetime
    releasedAt: datetime | None
    releaseReason: str | None
    duration: int = Field(description="Milliseconds held (so far, if still held)")


class HistoryResponse(BaseModel):
    sessionId: str
    session: Session
    currentTaskId: str | None
    currentTaskClaimedAt: datetime | None
    claimHistory: list[HistoryEntry]
    total: int


class Orphan(BaseModel):
    taskId: str
    sessionId: str
    reason: str


class SweepResponse(BaseModel):
    success: Literal[True]
    expired: list[str]
    orphaned: list[Orphan]
    cleaned: int


class ClaimStats(BaseModel):
    inFlight: int
    byHealth: dict[str, int]
    bySession: dict[str, int]
    byAgentType: dict[str, int]
    tasks: dict[str, int] = Field(description="Registered tasks by status, and their total")
    sessions: dict[str, int] = Field(description="Sessions: total, active")
    claimable: int
    position: int
    asOf: datetime


class Config(BaseModel):
    defaultTtl: int
    minTtl: int
    maxTtl: int
    heartbeatInterval: int
    cleanupInterval: int
    orphanThreshold: int
    warningThreshold: int
    expiringThreshold: int


class BoardTask(Task):
    healthStatus: Health | None
    remainingMs: int | None


class Board(BaseModel):
    tasks: list[BoardTask]
    sessions: list[SessionCard]
    config: Config
    position: int
    asOf: datetime


class Problem(BaseModel):
    """Seed 002's error body and RFC 9457's members in one object."""

    success: Literal[False]
    error: str = Field(examples=["TASK_ALREADY_CLAIMED"])
    message: str
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None


class ErrorCode(BaseModel):
    code: str
    title: str
    httpStatus: int
    exitCode: int


class ErrorCodes(BaseModel):
    codes: list[ErrorCode]


class Alive(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]
    position: int
    store: str


class SummaryCard(SessionCard):
    currentTask: Task | None = Field(description="The task the session holds now")
    claimHealth: Health | None = Field(description="The health of that claim")


class SummaryCounts(BaseModel):
    total: int
    active: int
    working: int = Field(description="Sessions holding a live claim")
    byHealth: dict[str, int] = Field(description="Current claims by health")


class SessionSummary(BaseModel):
    sessions: list[SummaryCard]
    summary: SummaryCounts
    position: int = Field(description="The ledger position this view is as of")
    asOf: datetime


Outcome = Literal["held", "completed", "released", "expired", "orphaned", "taken_over"]


class TimelineInterval(BaseModel):
    """One claim: from the record that started it to the one that ended it."""

    taskId: str
    sessionId: str
    agentType: str
    fencingToken: int
    start: datetime
    startPosition: int
    expiresAt: datetime
    end: datetime | None = Field(description="None while held")
    endPosition: int | None
    outcome: Outcome
    reason: str | None = Field(description="Release, orphaning or handoff reason")
    by: str | None = Field(description="Who ended it (releaser, sweeper, forcer)")
    toSession: str | None = Field(description="A takeover's new holder")
    forced: bool
    heartbeats: list[datetime]


class TimelineLane(BaseModel):
    key: str = Field(description="The lane's session or task")
    count: int
    heldMs: int
    outcomes: dict[str, int]
    busy: list[float] = Field(description="When aggregated: share of each bucket held")
    ended: list[str | None] = Field(description="When aggregated: commonest outcome per bucket")


class TimelineResponse(BaseModel):
    success: Literal[True]
    position: int = Field(description="The last ledger position read")
    hash: str | None = Field(description="That record's hash")
    asOf: datetime = Field(description="Where claims still held end on the picture")
    start: datetime | None
    end: datetime
    laneBy: Literal["session", "task"]
    total: int = Field(description="Claims in the window")
    aggregated: bool = Field(description="Past the limit: lanes carry buckets, no bars")
    buckets: int
    lanes: list[TimelineLane]
    intervals: list[TimelineInterval]


class ReplayEntry(BaseModel):
    position: int
    recordedAt: datetime
    occurredAt: datetime
    stream: str
    version: int
    type: str
    actor: str
    summary: str
    event: dict[str, Any]
    state: dict[str, Any] | None = Field(description="The task or session after the record")
    after: str


class ReplayResponse(BaseModel):
    timeline: list[ReplayEntry]
    count: int
    total: int = Field(description="Records in the range before ``last`` kept the newest")
