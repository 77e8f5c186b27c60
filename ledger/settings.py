"""Validated settings from the environment (pydantic-settings, prefix ``CLAIMS_``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.config import ClaimConfig
from ledger.errors import InvalidInput

_D = ClaimConfig()


class ClaimSettings(BaseSettings):
    """Every duration is in milliseconds."""

    model_config = SettingsConfigDict(env_prefix="CLAIMS_", extra="ignore", frozen=True)

    default_ttl: int = Field(_D.default_ttl, gt=0, description="TTL of a claim when none is given")
    min_ttl: int = Field(_D.min_ttl, gt=0, description="Shortest TTL a claim may ask for")
    max_ttl: int = Field(_D.max_ttl, gt=0, description="Longest TTL a claim may ask for")
    heartbeat_interval: int = Field(_D.heartbeat_interval, gt=0, description="Agents' beat")
    cleanup_interval: int = Field(_D.cleanup_interval, gt=0, description="Sweeper period")
    orphan_threshold: int = Field(
        _D.orphan_threshold, gt=0, description="Silence after which a claim is orphaned"
    )
    warning_threshold: int = Field(
        _D.warning_threshold, gt=0, description="Silence after which a claim is stale"
    )
    expiring_threshold: int = Field(
        _D.expiring_threshold, gt=0, description="Remaining time under which it is expiring"
    )
    max_metadata_bytes: int = Field(_D.max_metadata_bytes, gt=0, le=1 << 20)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.min_ttl <= self.default_ttl <= self.max_ttl:
            raise ValueError("need min_ttl <= default_ttl <= max_ttl")
        return self

    def to_config(self) -> ClaimConfig:
        return ClaimConfig(**self.model_dump())


def settings_from_env(environ: Mapping[str, str]) -> ClaimConfig:
    """Validate ``CLAIMS_*`` values; a bad one is an ``InvalidInput`` naming it."""
    values = {
        field: environ["CLAIMS_" + field.upper()]
        for field in ClaimSettings.model_fields
        if "CLAIMS_" + field.upper() in environ
    }
    try:
        return ClaimSettings.model_validate(values).to_config()
    except ValidationError as exc:
        problems = "; ".join(
            f"CLAIMS_{'.'.join(str(p) for p in err['loc']).upper() or 'SETTINGS'}: {err['msg']}"
            for err in exc.errors()
        )
        raise InvalidInput(f"bad settings: {problems}") from exc
