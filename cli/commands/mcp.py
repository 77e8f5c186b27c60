"""``claims mcp``: the Model Context Protocol server over stdio."""

from __future__ import annotations

import click

from cli.app import app_of
from cli.options import db_option


@click.command()
@db_option
@click.pass_context
def mcp(ctx: click.Context, /) -> None:
    """Serve claim_task, claim_next, heartbeat, release_task, current_task,
    list_in_flight and propose_task over MCP (stdio), as the CLI does them.

    The session is each tool's session_id, else CLAIMS_SESSION (set it in the
    client's server configuration). `claims hooks install claude --mcp` registers it.

    \b
    claims mcp
    """
    from cli.mcp_server import serve

    serve(app_of(ctx).db)
