"""``claims hook`` in the command list (its fast path runs before click: ``cli.entry``)."""

from __future__ import annotations

import sys

import click

from cli.agent_hook import main as run_hook


@click.command(context_settings={"ignore_unknown_options": True})
@click.option("--agent", default="agent", show_default=True, help="Agent type for new sessions.")
@click.option("--db", default=None, metavar="URL", help="Store URL (default: as every command).")
def hook(agent: str, db: str | None) -> None:
    """Act on an agent's hook payload (Claude Code, Codex): JSON on stdin.

    The session is the payload's session_id unless CLAIMS_SESSION is set.
    SessionStart starts (or resumes) it and prints what it holds and what
    `claims next` would give it. PostToolUse and Stop heartbeat its recorded claim
    (holding nothing: nothing happens); a lost lease exits 2 with one line on stderr
    naming the task, who holds it now and why. SessionEnd releases what it holds
    (reason session_ended: back to the backlog) and ends it. Anything else, or a
    malformed payload: exit 0, a notice on stderr. `claims hooks install` wires it.

    \b
    echo '{"session_id": "s1", "hook_event_name": "PostToolUse"}' | claims hook
    """
    args = ["--agent", agent, *(["--db", db] if db else [])]
    run_hook(args)
    sys.exit(0)
