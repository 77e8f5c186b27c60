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


def run_server(
    options: ServerOptions,
    *,
    host: str,
    port: int,
    access_log: bool = False,
    workers: int = 1,
) -> None:
    """Serve until interrupted (SIGINT or SIGTERM), in ``workers`` processes."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if workers > 1:
        from api.workers import run_workers

        _announce(options.db, host, port, workers)
        run_workers(options, host=host, port=port, workers=workers, access_log=access_log)
        return
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
    _announce(runtime.service.store.url, host, port, workers)
    server.run()


def _announce(url: str, host: str, port: int, workers: int) -> None:
    processes = f" with {workers} worker processes" if workers > 1 else ""
    print(
        f"claims: serving {url} on http://{_url_host(host)}:{port}/{processes}",
        file=sys.stderr,
        flush=True,
    )


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
