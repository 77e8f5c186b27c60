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
from application.bootstrap import Ledger, open_ledger
from application.steps import Steps

P = ParamSpec("P")
T = TypeVar("T")


class ServerOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How ``claims serve`` runs; the claim settings themselves come from ``CLAIMS_*``."""

    db: str
    token: str | None = None
    poll_interval: float = 0.25
    """Seconds between reads of the store for events written by other processes."""
    sweep: bool = True
    sweep_lock: str | None = None
    """With several worker processes: the file whose ``flock`` elects the one that sweeps."""


class Runtime:
    """The service behind one worker thread, and the hub that streams its log."""

    def __init__(self, ledger: Ledger, options: ServerOptions) -> None:
        self.ledger = ledger
        self.service = ledger.service
        self.runner = ServiceRunner(ledger.service)
        self.hub = EventHub(ledger.open_reader(), poll_interval=options.poll_interval)
        self.options = options
        self.analytics = AnalyticsRunner(self.hub.store, ledger.store.url)

    @classmethod
    def open(cls, options: ServerOptions) -> Runtime:
        """The runtime over the store ``options.db``, wired by the composition root."""
        return cls(open_ledger(options.db), options)

    async def read(self, func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """A call that writes nothing, on the service thread."""
        return await self.runner.call(func, *args, **kwargs)

    async def write(self, func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """A call that may append; the hub is woken to stream what it committed."""
        try:
            return await self.runner.call(func, *args, **kwargs)
        finally:
            self.hub.wake()

    async def write_stream(self, steps: Steps[T]) -> T:
        """A claim, heartbeat, release or takeover: a write that touches only its task's
        and session's streams, driven on the loop so that appends share commits."""
        try:
            return await self.runner.drive(steps)
        finally:
            self.hub.wake()

    def close(self) -> None:
        self.analytics.close()
        self.hub.shutdown()
        if self.hub.store is not self.service.store:
            self.hub.store.close()
        self.runner.close()
