"""Run the app under uvicorn, closing live streams first on shutdown."""

from __future__ import annotations

import logging
import socket
import sys

import uvicorn

from api import redact
from api.app import create_app
from api.runtime import Runtime, ServerOptions

GRACE_SECONDS = 5


class _Server(uvicorn.Server):
    """uvicorn waits for open responses before it stops; SSE streams never end by
    themselves, so the hub ends them as shutdown begins."""

    def __init__(self, config: uvicorn.Config, runtime: Runtime) -> None:
        super().__init__(config)
        self.runtime = runtime

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.runtime.hub.close()
        await super().shutdown(sockets)


def run_server(options: ServerOptions, *, host: str, port: int, access_log: bool = False) -> None:
    """Serve until interrupted (SIGINT or SIGTERM)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    runtime = Runtime.open(options)
    app = create_app(options, runtime)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=access_log,
        log_level="info",
        timeout_graceful_shutdown=GRACE_SECONDS,
        lifespan="on",
    )
    redact.install()
    server = _Server(config, runtime)
    print(
        f"claims: serving {runtime.service.store.url} on http://{_url_host(host)}:{port}/",
        file=sys.stderr,
        flush=True,
    )
    server.run()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
