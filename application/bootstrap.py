"""The composition root: the one place that opens the store, makes the clock, loads
the settings and wires the service with its projections.

Every face calls it: the CLI (``cli.app``), the HTTP server (``api.runtime``), the
MCP server, the tests and the benchmarks. Nothing below it defaults its own clock,
settings or store.

    from application.bootstrap import open_ledger

    ledger = open_ledger("sqlite://.claims/ledger.db")
    ledger.service.claim("fix-login", Claim(session_id="agent-1"))
    ledger.close()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from application.service import ClaimService
from ledger.clock import Clock, SystemClock
from ledger.config import ClaimConfig, load_config
from ledger.liveness import process_alive, this_host
from ledger.store.factory import open_store
from ledger.store.log_clock import LogClock
from ledger.store.protocol import EventStore
from ledger.sweep_rules import ProcessProbe

if TYPE_CHECKING:
    from ledger.store.server_clock import ServerTimed
    from projections.runner import ProjectionRunner


class Ledger:
    """One store with its clock, settings and service: what a face works with."""

    def __init__(
        self,
        store: EventStore,
        clock: Clock,
        config: ClaimConfig,
        host: str,
        alive: ProcessProbe = process_alive,
    ) -> None:
        self.store = store
        self.clock = clock
        self.config = config
        self.host = host
        self.service = ClaimService(
            store,
            clock=clock,
            config=config,
            host=host,
            alive=alive,
            projections=self.projection_runner,
        )

    def projection_runner(self) -> ProjectionRunner:
        """A projection runner over this ledger's store and clock (imported on first use:
        the hook commands never need it)."""
        from projections.runner import ProjectionRunner

        return ProjectionRunner(self.store, clock=self.clock)

    def open_reader(self) -> EventStore:
        """A second handle on the log for a reader that must never wait on the service's
        connection (the HTTP event hub); the same handle where the log lives in it
        (memory) or where it already holds a pool of connections (PostgreSQL)."""
        if self.store.url.startswith(("memory", "postgres")):
            return self.store
        return open_store(self.store.url, clock=self.clock)

    def close(self) -> None:
        self.store.close()


def open_ledger(
    url: str,
    *,
    clock: Clock | None = None,
    config: ClaimConfig | None = None,
    host: str | None = None,
) -> Ledger:
    """Open the store at ``url`` and wire the service over it.

    The clock is the ledger's own (``ledger_clock``) and the settings come from
    ``CLAIMS_*`` unless given; a clock given here (a test's) decides and stamps.
    """
    if clock is not None:
        return wire(open_store(url, clock=clock), clock=clock, config=config, host=host)
    system = None if is_server_timed(url) else SystemClock()
    return wire(open_store(url, clock=system), config=config, host=host)


def wire(
    store: EventStore,
    *,
    clock: Clock | None = None,
    config: ClaimConfig | None = None,
    host: str | None = None,
    alive: ProcessProbe = process_alive,
) -> Ledger:
    """Wire the service over a store already open (a test's memory store, say); the
    ledger's clock, the ``CLAIMS_*`` settings and this host unless given."""
    return Ledger(
        store, clock or ledger_clock(store), config or load_config(), host or this_host(), alive
    )


def ledger_clock(store: EventStore) -> Clock:
    """The one clock that decides (ADR 0017): on PostgreSQL the database server's (read
    again whenever the server's last answer is over 0.25 s old); on the embedded stores
    the host's, never behind the log's head."""
    if is_server_timed(store.url):
        from ledger.store.server_clock import ServerClock

        return ServerClock(cast("ServerTimed", store))
    return LogClock(SystemClock(), store)


def is_server_timed(url: str) -> bool:
    """Whether the store at ``url`` keeps time by its server's clock (PostgreSQL)."""
    return url.startswith("postgres")
