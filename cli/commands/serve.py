"""``claims serve``: the HTTP API, live events and dashboard (imports FastAPI only here)."""

from __future__ import annotations

import os

import click

from cli.app import app_of
from cli.options import common

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@click.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True)
@click.option(
    "--poll",
    type=click.FloatRange(0.01, 10),
    default=0.25,
    show_default=True,
    help="Seconds between reads of the store for other processes' events.",
)
@click.option("--no-sweep", is_flag=True, help="Do not run the background sweeper.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Server processes on the port, over the one store (not with memory:).",
)
@click.option("--access-log", is_flag=True, help="Log every request.")
@common
@click.pass_context
def serve(
    ctx: click.Context,
    /,
    host: str,
    port: int,
    poll: float,
    no_sweep: bool,
    workers: int,
    access_log: bool,
) -> None:
    """Serve the HTTP API, the live event stream and the dashboard.

    Binds to loopback unless told otherwise. With CLAIMS_API_TOKEN set, every
    request needs `Authorization: Bearer TOKEN` (or `?access_token=TOKEN`, for
    the dashboard). A background sweeper records expiries and orphans every
    CLAIMS_CLEANUP_INTERVAL (5 min).

    \b
    claims serve                       # http://127.0.0.1:8765/
    claims serve --workers 2           # two processes, one port, one store
    CLAIMS_API_TOKEN=s3cret claims serve --host 0.0.0.0 --port 9000
    """
    from api.runtime import ServerOptions
    from api.server import run_server

    app = app_of(ctx)
    token = os.environ.get("CLAIMS_API_TOKEN") or None
    if host not in LOOPBACK and token is None:
        click.echo(
            f"warning: serving on {host} without CLAIMS_API_TOKEN: anyone who can reach"
            " this port can claim and release tasks",
            err=True,
        )
    if workers > 1 and app.url.startswith("memory"):
        raise click.UsageError("--workers needs a store that processes share, not memory:")
    options = ServerOptions(db=app.url, token=token, poll_interval=poll, sweep=not no_sweep)
    run_server(options, host=host, port=port, access_log=access_log, workers=workers)
