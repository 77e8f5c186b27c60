"""Validated settings from the environment (pydantic-settings, prefix ``CLAIMS_``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

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
    lock_delay: int = Field(
        _D.lock_delay, ge=0, description="Wait after an expiry or orphaning before a new claim"
    )

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.min_ttl <= self.default_ttl <= self.max_ttl:
            raise ValueError(
                "need CLAIMS_MIN_TTL <= CLAIMS_DEFAULT_TTL <= CLAIMS_MAX_TTL, got"
                f" {self.min_ttl} <= {self.default_ttl} <= {self.max_ttl}"
            )
        return self

    def to_config(self) -> ClaimConfig:
        return ClaimConfig(**self.model_dump())


class _GivenSettings(ClaimSettings):
    """The same settings, read only from the values given, never from ``os.environ``."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def settings_from_env(environ: Mapping[str, str] | None = None) -> ClaimConfig:
    """Validate ``CLAIMS_*`` values from ``os.environ`` (or only from ``environ``);
    a bad one is an ``InvalidInput`` naming its variable."""
    try:
        if environ is None:
            return ClaimSettings().to_config()
        values = {
            field: environ["CLAIMS_" + field.upper()]
            for field in ClaimSettings.model_fields
            if "CLAIMS_" + field.upper() in environ
        }
        return _GivenSettings.model_validate(values).to_config()
    except ValidationError as exc:
        raise InvalidInput(f"bad settings: {_describe(exc)}") from exc


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        names = ".".join(str(part) for part in error["loc"]).upper()
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"CLAIMS_{names}: {message}" if names else message)
    return "; ".join(problems)
