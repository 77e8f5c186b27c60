"""``claims serve --workers N``: N server processes on one port, over one store.

The parent binds the socket and runs uvicorn's supervisor, which starts N worker
processes on it (and replaces one that dies); the kernel hands each connection to
one of them. Every worker builds its own runtime from the options the parent put
in its environment: its own store handle, service and event hub. The hub tails
the store (``wait_for_head``), so every worker's SSE stream carries every event,
whichever worker appended it. The sweeper runs in one worker at a time: the one
holding an exclusive ``flock`` on a file the parent made; if that worker dies the
lock is free again and another takes it at its next turn.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import msgspec
import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess

from api.app import create_app
from api.runtime import Runtime, ServerOptions

GRACE_SECONDS = 5
"""Seconds a worker waits for open responses (live streams) before it cancels them."""

OPTIONS_ENV = "CLAIMS_SERVE_OPTIONS"
"""The environment variable that carries the parent's options to each worker."""


def worker_app() -> FastAPI:
    """The app of one worker process (uvicorn's factory, called in the worker)."""
    options = msgspec.json.decode(os.environ[OPTIONS_ENV], type=ServerOptions)
    return create_app(options, Runtime.open(options))


def run_workers(
    options: ServerOptions, *, host: str, port: int, workers: int, access_log: bool
) -> None:
    """Serve with ``workers`` processes until interrupted."""
    lock_dir = tempfile.mkdtemp(prefix="claims-serve-")
    shared = msgspec.structs.replace(options, sweep_lock=str(Path(lock_dir) / "sweeper.lock"))
    os.environ[OPTIONS_ENV] = msgspec.json.encode(shared).decode()
    settings = uvicorn.Config(
        "api.workers:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        log_level="info",
        timeout_graceful_shutdown=GRACE_SECONDS,
        lifespan="on",
    )
    try:
        Multiprocess(settings, sockets=[settings.bind_socket()]).run()
    finally:
        Path(shared.sweep_lock or "").unlink(missing_ok=True)
        os.rmdir(lock_dir)
