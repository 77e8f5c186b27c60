"""The console script ``claims``: ``claims hook`` is answered before click loads.

An agent runs ``claims hook`` after every tool call, so that path imports only what
it uses (``cli.agent_hook``); every other command goes to the click application in
``cli.main``.
"""

from __future__ import annotations

import sys


def main() -> None:
    """``claims``: the hook's fast path, else the full command line."""
    args = sys.argv[1:]
    if args[:1] == ["hook"]:
        from cli.agent_hook import main as hook

        hook(args[1:])
        return
    from cli.main import main as full

    full(args)
