"""What the sweeper does with one lease: record its expiry, orphan it, or leave it.

Process liveness is evidence only for a session that registered its long-lived
process on purpose, and only on the host it registered from (DESIGN: Liveness);
the caller passes the probe, so the rule stays pure.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ledger.clock import to_ms
from ledger.commands import Command, Expire, Orphan
from ledger.config import ClaimConfig
from ledger.events import OrphanReason
from ledger.state import Lease, SessionState

ProcessProbe = Callable[[int], bool]
"""``probe(pid)``: is that process alive on this host?"""


def sweep_command(
    lease: Lease,
    session: SessionState | None,
    now: datetime,
    config: ClaimConfig,
    *,
    host: str,
    alive: ProcessProbe,
) -> Command | None:
    """``Expire`` past its time, ``Orphan`` with its reason, or ``None`` to leave it."""
    if not lease.live_at(now):
        return Expire()
    reason = orphan_reason(lease, session, now, config, host=host, alive=alive)
    if reason is None:
        return None
    silence = config.orphan_threshold if reason == "heartbeat_timeout" else None
    return Orphan(session_id=lease.session_id, reason=reason, min_silence_ms=silence)


def orphan_reason(
    lease: Lease,
    session: SessionState | None,
    now: datetime,
    config: ClaimConfig,
    *,
    host: str,
    alive: ProcessProbe,
) -> OrphanReason | None:
    """Why a live lease's holder is gone: its session ended, its registered process on
    this host died, or it has been silent past the orphan threshold."""
    if session is not None and session.ended:
        return "session_ended"
    if session is not None and _process_gone(session, host, alive):
        return "process_gone"
    if to_ms(now - lease.last_heartbeat) > config.orphan_threshold:
        return "heartbeat_timeout"
    return None


def _process_gone(session: SessionState, host: str, alive: ProcessProbe) -> bool:
    return session.pid is not None and session.host == host and not alive(session.pid)
