"""Claim settings, named after seed 002's ``claimConfig``, in milliseconds.

``ClaimConfig`` is the plain value the rules read. ``load_config`` builds it from
``CLAIMS_*`` environment variables through pydantic-settings (``ledger.settings``),
which costs a quarter of a second to import; when no such variable is set the
defaults are returned without importing it, so hook commands stay fast.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import msgspec

SECOND = 1_000
MINUTE = 60 * SECOND


class ClaimConfig(msgspec.Struct, frozen=True, kw_only=True):
    default_ttl: int = 30 * MINUTE
    min_ttl: int = 1 * MINUTE
    max_ttl: int = 120 * MINUTE
    heartbeat_interval: int = 1 * MINUTE
    cleanup_interval: int = 5 * MINUTE
    orphan_threshold: int = 10 * MINUTE
    warning_threshold: int = 5 * MINUTE
    expiring_threshold: int = 1 * MINUTE
    max_metadata_bytes: int = 8192
    lock_delay: int = 15 * SECOND
    """After a lease ends without a release (expiry, orphaning), no claim succeeds for
    this long (Consul's lock-delay, ADR 0017); 0 turns it off."""


CONFIG_FIELDS: tuple[str, ...] = ClaimConfig.__struct_fields__
ENV_PREFIX = "CLAIMS_"


def load_config(environ: Mapping[str, str] | None = None) -> ClaimConfig:
    """The configuration in force: defaults, overridden by ``CLAIMS_*`` variables."""
    env = os.environ if environ is None else environ
    names = {ENV_PREFIX + field.upper() for field in CONFIG_FIELDS}
    if not any(name in env for name in names):
        return ClaimConfig()
    from ledger.settings import settings_from_env

    return settings_from_env(environ)
