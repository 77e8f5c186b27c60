"""Health of a claim at a moment: ``healthy``, ``stale``, ``expiring`` or ``expired``."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ledger.clock import to_ms
from ledger.config import ClaimConfig
from ledger.state import Lease

Health = Literal["healthy", "stale", "expiring", "expired"]


def claim_health(lease: Lease, now: datetime, config: ClaimConfig) -> Health:
    """Expired past its time; expiring inside the expiring threshold; stale after the
    warning threshold without a heartbeat; healthy otherwise."""
    remaining = to_ms(lease.expires_at - now)
    if remaining <= 0:
        return "expired"
    if remaining <= config.expiring_threshold:
        return "expiring"
    if to_ms(now - lease.last_heartbeat) > config.warning_threshold:
        return "stale"
    return "healthy"
