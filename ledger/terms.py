"""The terms a claim asks for: one value that commands carry and the rules turn into
the fields of a ``claimed`` or ``taken_over`` event, and so of a lease."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from ledger.clock import add_ms


class LeaseTerms(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """How long, for which kind of agent, over what (seeds 001 and 002).

    ``None`` leaves a choice to the ledger: the configured default TTL, the
    session's own agent type and tier.
    """

    ttl_ms: int | None = None
    agent_type: str | None = None
    tier: str | None = None
    scope: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    metadata: dict[str, Any] = {}

    def granted(self, ttl_ms: int, now: datetime) -> dict[str, Any]:
        """The event fields of a lease granted on these terms for ``ttl_ms`` from ``now``
        (events keep their fields flat: stored records never change shape)."""
        return {
            "ttl_ms": ttl_ms,
            "expires_at": add_ms(now, ttl_ms),
            "agent_type": self.agent_type or "cli",
            "tier": self.tier,
            "scope": self.scope,
            "constraints": self.constraints,
            "metadata": self.metadata,
        }
