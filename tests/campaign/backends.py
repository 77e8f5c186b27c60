"""The backends the campaign runs on: how to name a fresh store, and which faults apply.

A backend joins the campaign with one ``CampaignBackend`` entry: its store URL for a
run's folder (the same factory as ``tests.conftest.BACKENDS``), the fault kinds it
takes, and, if it takes append faults, how to install them in an agent process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.campaign.faults import (
    APPEND_FAULTS,
    CLOCK_FAULTS,
    FAKETIME_FAULTS,
    PROCESS_FAULTS,
    SERVER_FAULTS,
    SNAPSHOT_FAULTS,
    AppendFaultInstaller,
    FaultKind,
    install_jsonl_faults,
    install_postgres_faults,
    install_sqlite_faults,
)
from tests.conftest import BACKENDS
from tests.pg_server import fresh_url

APPLICATION_NAME = "claims-campaign"
"""What the campaign's PostgreSQL connections call themselves, so that
``pg-kill-connections`` ends exactly theirs."""

FILE_FAULTS: tuple[FaultKind, ...] = (
    *PROCESS_FAULTS,
    *APPEND_FAULTS,
    *SNAPSHOT_FAULTS,
    *CLOCK_FAULTS,
)
SERVER_TIMED_FAULTS: tuple[FaultKind, ...] = (
    *PROCESS_FAULTS,
    *APPEND_FAULTS,
    *SNAPSHOT_FAULTS,
    *SERVER_FAULTS,
    *FAKETIME_FAULTS,
)
"""PostgreSQL's: its server's clock decides, so writers' clocks are made wrong for real
(libfaketime) instead of by an injected clock, which would decide in their place."""
ALL_FAULTS: tuple[FaultKind, ...] = (*FILE_FAULTS, *SERVER_FAULTS, *FAKETIME_FAULTS)


@dataclass(frozen=True)
class CampaignBackend:
    name: str
    url_for: Callable[[Path], str]
    """The URL of a fresh, empty store for a run whose private folder is the argument."""
    faults: tuple[FaultKind, ...]
    install_append_faults: AppendFaultInstaller | None = None
    """Makes the store's next write fail when an append fault is armed (agent side)."""
    server_time: bool = False
    """The store's server keeps the ledger's time (ADR 0017): agents take no clock."""


def _url_factory(name: str) -> Callable[[Path], str]:
    return next(backend.url_for for backend in BACKENDS if backend.name == name)


CAMPAIGN_BACKENDS: dict[str, CampaignBackend] = {
    entry.name: entry
    for entry in (
        CampaignBackend("sqlite", _url_factory("sqlite"), FILE_FAULTS, install_sqlite_faults),
        CampaignBackend("jsonl", _url_factory("jsonl"), FILE_FAULTS, install_jsonl_faults),
        CampaignBackend(
            "postgresql",
            lambda folder: fresh_url(options=f"application_name={APPLICATION_NAME}&retry_for=60"),
            SERVER_TIMED_FAULTS,
            install_postgres_faults,
            server_time=True,
        ),
    )
}
