"""The claim lifecycle as one pure function: ``decide(state, command, now, config)``.

It returns the events to append at the version the state was folded to, or raises
a ``ClaimError`` and nothing is written. Seed 002 gives the error codes, seed 001
the lease rules: only the holder renews or releases; a takeover needs the lease to
have expired, or ``force`` with a reason, recorded with who forced it.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from ledger.clock import add_ms, iso, to_ms
from ledger.commands import Beat, ChangeStatus, Claim, Command, Expire, Orphan, Release, Takeover
from ledger.config import ClaimConfig
from ledger.errors import (
    ClaimExpired,
    InvalidInput,
    InvalidTtl,
    NotClaimOwner,
    StaleFencingToken,
    TaskAlreadyClaimed,
    TaskLockDelayed,
    TaskNotClaimable,
    TaskNotClaimed,
    TaskNotFound,
)
from ledger.events import (
    UNCLAIMABLE_STATUSES,
    Claimed,
    Event,
    Expired,
    Heartbeat,
    Orphaned,
    Released,
    TakenOver,
    TaskStatusChanged,
)
from ledger.state import Lease, TaskState
from ledger.terms import LeaseTerms

COMPLETED = "completed"
"""The one release reason that marks the task done."""
RELEASED = "released"
"""The default release reason: the task goes back to the backlog."""


def decide(state: TaskState, command: Command, now: datetime, config: ClaimConfig) -> list[Event]:
    """The events ``command`` produces on a task in ``state`` at ``now``."""
    if not state.registered:
        raise TaskNotFound(f"task {state.task_id!r} does not exist", taskId=state.task_id)
    match command:
        case Claim():
            return _claim(state, command, now, config)
        case Beat():
            return _beat(state, command, now, config)
        case Release():
            return _release(state, command, now)
        case Takeover():
            return _takeover(state, command, now, config)
        case ChangeStatus():
            return _change_status(state, command, now)
        case Expire():
            return _expiry(state, now)
        case Orphan():
            return _orphan(state, command, now)


def check_ttl(ttl_ms: int, config: ClaimConfig, *, name: str = "ttlMs") -> int:
    if not config.min_ttl <= ttl_ms <= config.max_ttl:
        raise InvalidTtl(
            f"{name} must be between {config.min_ttl} and {config.max_ttl} ms, not {ttl_ms}",
            minTtlMs=config.min_ttl,
            maxTtlMs=config.max_ttl,
        )
    return ttl_ms


def holder_conflict(state: TaskState, lease: Lease, now: datetime) -> TaskAlreadyClaimed:
    """Seed 002's 409 body: who holds the task, since when, for how much longer."""
    return TaskAlreadyClaimed(
        f"task {state.task_id!r} is claimed by session {lease.session_id!r}",
        taskId=state.task_id,
        claim={
            "sessionId": lease.session_id,
            "claimedAt": iso(lease.claimed_at),
            "expiresAt": iso(lease.expires_at),
            "remainingMs": max(0, to_ms(lease.expires_at - now)),
            "fencingToken": lease.fencing_token,
        },
    )


def _claim(state: TaskState, cmd: Claim, now: datetime, config: ClaimConfig) -> list[Event]:
    ttl = _ttl(cmd.terms, config)
    lease = state.lease
    if answered(lease, cmd):
        return []
    _check_claimable(state)
    events: list[Event] = []
    if lease is not None and lease.live_at(now):
        if lease.session_id != cmd.session_id:
            raise holder_conflict(state, lease, now)
        return [_extend(state, lease, ttl, now, renewal=True)]
    check_lock_delay(state, now, config)
    if lease is not None:
        events.append(_expired(state, lease))
    token = state.version + len(events) + 1
    events.append(
        Claimed(
            task_id=state.task_id,
            session_id=cmd.session_id,
            fencing_token=token,
            **cmd.terms.granted(ttl, now),
            request_id=cmd.request_id,
        )
    )
    return events


def unreleased_end(state: TaskState, now: datetime) -> datetime | None:
    """When the task's last lease ended without a release (it lapsed, recorded or
    not, or was orphaned); ``None`` when it is live, released, taken over or never was."""
    lease = state.lease
    if lease is not None:
        return None if lease.live_at(now) else lease.expires_at
    if state.ended_by in ("expired", "orphaned"):
        return state.ended_at
    return None


def check_lock_delay(state: TaskState, now: datetime, config: ClaimConfig) -> None:
    """Refuse a new claim for ``lock_delay`` after a lease ended without a release, so
    that a holder that lost its lease (a stalled process, a partition) cannot race the
    next holder on the work it was still doing (Consul's lock-delay; ADR 0017)."""
    refusal = lock_delay_refusal(state, now, config)
    if refusal is not None:
        raise refusal


def lock_delay_refusal(
    state: TaskState, now: datetime, config: ClaimConfig
) -> TaskLockDelayed | None:
    """The ``TASK_LOCK_DELAYED`` a claim at ``now`` meets, or ``None`` when it may go on."""
    ended = unreleased_end(state, now)
    if ended is None or config.lock_delay <= 0:
        return None
    free_at = add_ms(ended, config.lock_delay)
    if now >= free_at:
        return None
    ended_by = "expired" if state.lease is not None else state.ended_by
    return TaskLockDelayed(
        f"the last claim on {state.task_id!r} ended ({ended_by}) at {iso(ended)};"
        f" it can be claimed again from {iso(free_at)}",
        taskId=state.task_id,
        endedBy=ended_by,
        endedAt=iso(ended),
        claimableAt=iso(free_at),
        retryAfterMs=max(1, to_ms(free_at - now)),
    )


def answered(lease: Lease | None, cmd: Claim) -> bool:
    """True when ``cmd`` retries the claim that started ``lease`` (same session, same
    request id): the earlier answer stands and nothing is decided again."""
    return (
        cmd.request_id is not None
        and lease is not None
        and lease.request_id == cmd.request_id
        and lease.session_id == cmd.session_id
    )


def _beat(state: TaskState, cmd: Beat, now: datetime, config: ClaimConfig) -> list[Event]:
    lease = _owned_lease(state, cmd.session_id, cmd.fencing_token, now)
    extend = check_ttl(
        cmd.extend_ms if cmd.extend_ms is not None else lease.ttl_ms, config, name="extendMs"
    )
    return [_extend(state, lease, extend, now)]


def _release(state: TaskState, cmd: Release, now: datetime) -> list[Event]:
    lease = _owned_lease(state, cmd.session_id, cmd.fencing_token, now)
    reason = _reason(cmd.reason)
    events: list[Event] = [
        Released(
            task_id=state.task_id,
            session_id=lease.session_id,
            fencing_token=lease.fencing_token,
            reason=reason,
        )
    ]
    if reason == COMPLETED:
        events.append(
            TaskStatusChanged(task_id=state.task_id, status="done", previous="in_progress")
        )
    return events


def _takeover(state: TaskState, cmd: Takeover, now: datetime, config: ClaimConfig) -> list[Event]:
    ttl = _ttl(cmd.terms, config)
    _check_claimable(state)
    lease = state.lease
    if lease is None:
        raise TaskNotClaimed(
            f"task {state.task_id!r} has no claim to take over; claim it instead",
            taskId=state.task_id,
        )
    if lease.session_id == cmd.session_id and lease.live_at(now):
        return [_extend(state, lease, ttl, now, renewal=True)]
    live = lease.live_at(now)
    delayed = None if live else lock_delay_refusal(state, now, config)
    if live and not cmd.force:
        raise holder_conflict(state, lease, now)
    if delayed is not None and not cmd.force:
        raise delayed
    forced = live or delayed is not None
    if forced and not (cmd.reason and cmd.reason.strip()):
        raise InvalidInput("a forced takeover needs a reason", taskId=state.task_id)
    events: list[Event] = [] if live else [_expired(state, lease)]
    events.append(
        TakenOver(
            task_id=state.task_id,
            from_session=lease.session_id,
            to_session=cmd.session_id,
            previous_token=lease.fencing_token,
            fencing_token=state.version + len(events) + 1,
            handoff_reason=_reason(cmd.reason or "lease_expired"),
            forced=forced,
            forced_by=(cmd.forced_by or cmd.session_id) if forced else None,
            **cmd.terms.granted(ttl, now),
        )
    )
    return events


def _change_status(state: TaskState, cmd: ChangeStatus, now: datetime) -> list[Event]:
    if cmd.status == state.status:
        return []
    lease = state.lease
    if cmd.status == "in_progress":
        raise InvalidInput("a task becomes in_progress by being claimed", taskId=state.task_id)
    events: list[Event] = []
    if lease is not None and lease.live_at(now):
        if cmd.session_id != lease.session_id:
            raise NotClaimOwner(
                f"task {state.task_id!r} is claimed by {lease.session_id!r};"
                " only the holder changes its status",
                taskId=state.task_id,
                holder=lease.session_id,
            )
        events.append(
            Released(
                task_id=state.task_id,
                session_id=lease.session_id,
                fencing_token=lease.fencing_token,
                reason=cmd.status,
            )
        )
    elif lease is not None:
        events.append(_expired(state, lease))
    previous = "todo" if events and state.status == "in_progress" else state.status
    events.append(
        TaskStatusChanged(
            task_id=state.task_id, status=cmd.status, previous=previous, reason=cmd.reason
        )
    )
    return events


def _expiry(state: TaskState, now: datetime) -> list[Event]:
    lease = state.lease
    if lease is None or lease.live_at(now):
        return []
    return [_expired(state, lease)]


def _orphan(state: TaskState, cmd: Orphan, now: datetime) -> list[Event]:
    lease = state.lease
    if lease is None or lease.session_id != cmd.session_id:
        return []
    if not lease.live_at(now):
        return [_expired(state, lease)]
    silence = to_ms(now - lease.last_heartbeat)
    if cmd.min_silence_ms is not None and silence <= cmd.min_silence_ms:
        return []
    return [
        Orphaned(
            task_id=state.task_id,
            session_id=lease.session_id,
            fencing_token=lease.fencing_token,
            reason=cmd.reason,
        )
    ]


def _owned_lease(
    state: TaskState, session_id: str, fencing_token: int | None, now: datetime
) -> Lease:
    lease = state.lease
    if lease is None:
        _explain_ended(state, session_id)
        raise TaskNotClaimed(f"task {state.task_id!r} has no active claim", taskId=state.task_id)
    if lease.session_id != session_id:
        raise NotClaimOwner(
            f"task {state.task_id!r} is claimed by {lease.session_id!r}, not {session_id!r}",
            taskId=state.task_id,
            holder=lease.session_id,
        )
    if fencing_token is not None and fencing_token != lease.fencing_token:
        raise StaleFencingToken(
            f"fencing token {fencing_token} is stale; the claim's token is {lease.fencing_token}",
            taskId=state.task_id,
            fencingToken=lease.fencing_token,
        )
    if not lease.live_at(now):
        raise ClaimExpired(
            f"the claim on {state.task_id!r} expired at {iso(lease.expires_at)}",
            taskId=state.task_id,
            expiredAt=iso(lease.expires_at),
        )
    return lease


def _explain_ended(state: TaskState, session_id: str) -> None:
    """A holder whose claim lapsed hears CLAIM_EXPIRED whether or not the sweeper
    already recorded it; one whose claim was taken over hears NOT_CLAIM_OWNER."""
    ended = state.ended_lease
    if ended is None or ended.session_id != session_id:
        return
    if state.ended_by in ("expired", "orphaned"):
        raise ClaimExpired(
            f"the claim on {state.task_id!r} ended ({state.ended_by}); claim it again",
            taskId=state.task_id,
            expiredAt=iso(ended.expires_at),
            endedBy=state.ended_by,
        )


def _check_claimable(state: TaskState) -> None:
    if state.status in UNCLAIMABLE_STATUSES:
        raise TaskNotClaimable(
            f"task {state.task_id!r} is {state.status} and cannot be claimed",
            taskId=state.task_id,
            taskStatus=state.status,
        )


def _ttl(terms: LeaseTerms, config: ClaimConfig) -> int:
    """The lease length the terms ask for (the default when none), checked with their
    metadata against the configured bounds."""
    ttl = check_ttl(terms.ttl_ms if terms.ttl_ms is not None else config.default_ttl, config)
    _check_metadata(terms.metadata, config)
    return ttl


def _check_metadata(metadata: dict[str, object], config: ClaimConfig) -> None:
    try:
        size = len(msgspec.json.encode(metadata))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"metadata must be a JSON object: {exc}") from exc
    except RecursionError as exc:
        raise InvalidInput("metadata is nested too deeply") from exc
    if size > config.max_metadata_bytes:
        raise InvalidInput(
            f"metadata is {size} bytes; at most {config.max_metadata_bytes} are allowed"
        )


def _extend(
    state: TaskState, lease: Lease, extend_ms: int, now: datetime, *, renewal: bool = False
) -> Heartbeat:
    return Heartbeat(
        task_id=state.task_id,
        session_id=lease.session_id,
        fencing_token=lease.fencing_token,
        extend_ms=extend_ms,
        expires_at=add_ms(now, extend_ms),
        renewal=renewal,
    )


def _expired(state: TaskState, lease: Lease) -> Expired:
    return Expired(
        task_id=state.task_id,
        session_id=lease.session_id,
        fencing_token=lease.fencing_token,
        expired_at=lease.expires_at,
    )


def _reason(reason: str) -> str:
    cleaned = reason.strip()
    if not cleaned or len(cleaned) > 500:
        raise InvalidInput("a reason must be 1 to 500 characters")
    return cleaned
