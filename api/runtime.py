"""What one server process holds: the service, its thread, the event hub, the settings.

``Runtime`` is built once by ``api.app.create_app`` (the composition root) and
reached by routes through ``request.app.state.runtime``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

import msgspec

from api.analytics import AnalyticsRunner
from api.hub import EventHub
from api.runner import ServiceRunner
from ledger.service import ClaimService
from ledger.store.factory import open_store
from ledger.store.protocol import EventStore

P = ParamSpec("P")
T = TypeVar("T")


class ServerOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How ``claims serve`` runs; the claim settings themselves come from ``CLAIMS_*``."""

    db: str
    token: str | None = None
    poll_interval: float = 0.25
    """Seconds between reads of the store for events written by other processes."""
    sweep: bool = True


class Runtime:
    """The service behind one worker thread, and the hub that streams its log."""

    def __init__(self, service: ClaimService, hub: EventHub, options: ServerOptions) -> None:
        self.service = service
        self.runner = ServiceRunner(service)
        self.hub = hub
        self.options = options
        self.analytics = AnalyticsRunner(hub.store, service.store.url)

    @classmethod
    def open(cls, options: ServerOptions) -> Runtime:
        store = open_store(options.db)
        service = ClaimService(store)
        hub = EventHub(_reader(store), poll_interval=options.poll_interval)
        return cls(service, hub, options)

    async def read(self, func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """A call that writes nothing, on the service thread."""
        return await self.runner.call(func, *args, **kwargs)

    async def write(self, func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """A call that may append; the hub is woken to stream what it committed."""
        try:
            return await self.runner.call(func, *args, **kwargs)
        finally:
            self.hub.wake()

    def close(self) -> None:
        self.analytics.close()
        self.hub.shutdown()
        if self.hub.store is not self.service.store:
            self.hub.store.close()
        self.runner.close()


def _reader(store: EventStore) -> EventStore:
    """A second handle on the log for the hub, so streaming never waits on the
    service's connection; the same handle where the log lives in it (memory) or
    where it already holds a pool of connections (PostgreSQL)."""
    if store.url.startswith(("memory", "postgres")):
        return store
    return open_store(store.url)
