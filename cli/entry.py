"""The console script ``claims``: ``claims hook`` is answered before click loads.

An agent runs ``claims hook`` after every tool call, so that path imports only what
it uses: a ``PostToolUse`` with no heartbeat due ends in ``cli.hook_gate`` (standard
library only), the rest in ``cli.agent_hook``; every other command goes to the click
application in ``cli.main``.
"""

from __future__ import annotations

import sys


def main() -> None:
    """``claims``: the hook's fast path, else the full command line."""
    args = sys.argv[1:]
    if args[:1] == ["hook"]:
        import os

        from cli.hook_gate import settled

        raw = sys.stdin.buffer.read()
        if settled(raw, os.environ):
            return
        from cli.agent_hook import main as hook

        hook(args[1:], raw)
        return
    from cli.main import main as full

    full(args)
