"""``claims cost import``: measured token usage from an agent's transcript, per claim."""

from __future__ import annotations

from pathlib import Path

import click
import msgspec

from cli.app import app_of
from cli.options import common, session_option
from ledger.identifiers import check_id


@click.group()
def cost() -> None:
    """Measured cost: token usage read from agent transcripts, attributed to claims."""


@cost.command("import")
@click.argument("transcript", type=click.Path(dir_okay=False, path_type=Path))
@session_option
@common
@click.pass_context
def import_(ctx: click.Context, /, transcript: Path) -> None:
    """Read a Claude Code transcript or a Codex session log (JSONL) and record each
    model message's measured tokens once, on the claim the session held at the
    message's time (unattributed when it held none). Importing again adds only
    messages not yet recorded.

    \b
    claims cost import ~/.claude/projects/app/3f2a.jsonl --session agent-1
    """
    from application.cost import import_transcript

    app = app_of(ctx)
    session_id = app.require_session()
    service = app.service()
    check_id(session_id, kind="session")
    result = import_transcript(service.store, transcript, session_id, clock=service.clock)
    body = {"success": True, **msgspec.to_builtins(result)}

    def human() -> None:
        click.echo(
            f"{session_id}: {result.messages} message(s) with usage, {result.added} new,"
            f" {result.attributed} of them on a claim"
        )
        if result.skipped_lines:
            shown = ", ".join(str(line) for line in result.skipped_lines[:10])
            click.echo(f"skipped {len(result.skipped_lines)} line(s) that are not JSON: {shown}")

    app.emit(body, human)
