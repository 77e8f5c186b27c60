"""Why a holder no longer holds its claim: a pure reading of the task's stream.

An agent (through ``claims hook`` or ``claims guard``) remembers the claim it made: the
task, its session and the fencing token. ``lease_loss`` compares that with the task's
state and the records written since the claim, and says what ended it and who holds
the task now, or ``None`` while the claim is still the task's current, live one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import msgspec

from ledger.clock import iso
from ledger.errors import ClaimExpired, NotClaimOwner, StaleFencingToken, TaskNotClaimed
from ledger.events import Expired, Orphaned, Released, TakenOver
from ledger.records import Record
from ledger.state import TaskState


class LeaseLoss(msgspec.Struct, frozen=True, kw_only=True):
    """A claim that is no longer current: what ended it, and who holds the task now."""

    task_id: str
    session_id: str
    fencing_token: int
    code: str
    """The error code the holder hears: CLAIM_EXPIRED, NOT_CLAIM_OWNER, TASK_NOT_CLAIMED
    or STALE_FENCING_TOKEN."""
    ended: str
    """What ended the claim, in words (``expired at ...``, ``taken over by ...``)."""
    holder: str | None
    """The session holding the task now, if any."""

    def line(self) -> str:
        """One line for an agent or a person: the task, what happened, who holds it."""
        now_held = f"; now held by {self.holder}" if self.holder else "; nobody holds it now"
        return (
            f"lease on {self.task_id} lost ({self.code}): {self.ended}{now_held}."
            f" Stop working on {self.task_id} (session {self.session_id},"
            f" fencing token {self.fencing_token})."
        )


def lease_loss(
    state: TaskState, since: Iterable[Record], session_id: str, token: int, now: datetime
) -> LeaseLoss | None:
    """``None`` when ``session_id`` holds the task's live claim with ``token``; else why
    not. ``since`` holds the task's records from the claim's version on."""
    lease = state.lease
    if (
        lease is not None
        and lease.session_id == session_id
        and lease.fencing_token == token
        and lease.live_at(now)
    ):
        return None
    code, ended = _ending(since, session_id, token)
    holder = lease.session_id if lease is not None and lease.live_at(now) else None
    if code is None:
        code, ended = _unrecorded(state, session_id, token, now)
    return LeaseLoss(
        task_id=state.task_id,
        session_id=session_id,
        fencing_token=token,
        code=code,
        ended=ended,
        holder=holder,
    )


def _ending(since: Iterable[Record], session_id: str, token: int) -> tuple[str | None, str]:
    """The first record that ended the claim, as (error code, words)."""
    for record in since:
        event = record.data
        at = iso(record.occurred_at)
        match event:
            case Expired() if event.fencing_token == token:
                return ClaimExpired.code, f"it expired at {iso(event.expired_at)}"
            case Orphaned() if event.fencing_token == token:
                return ClaimExpired.code, f"it was orphaned ({event.reason}) at {at}"
            case Released() if event.fencing_token == token:
                return TaskNotClaimed.code, f"it was released ({event.reason}) at {at}"
            case TakenOver() if event.previous_token == token:
                how = f"forced by {event.forced_by}" if event.forced else "after expiry"
                return (
                    NotClaimOwner.code,
                    f"{event.to_session} took it over at {at} ({how}: {event.handoff_reason})",
                )
    return None, ""


def _unrecorded(state: TaskState, session_id: str, token: int, now: datetime) -> tuple[str, str]:
    """No record ended it: the lease lapsed unrecorded, or the token is not this claim's."""
    lease = state.lease
    if lease is not None and lease.session_id == session_id and lease.fencing_token == token:
        return ClaimExpired.code, f"it expired at {iso(lease.expires_at)}"
    if lease is not None and lease.session_id == session_id:
        return (
            StaleFencingToken.code,
            f"the session's claim now has fencing token {lease.fencing_token}",
        )
    return NotClaimOwner.code, f"no claim with fencing token {token} by {session_id} is current"
