"""The console script ``claims``: ``claims hook`` and ``claims heartbeat`` are
answered before click loads.

An agent runs ``claims hook`` (or ``claims heartbeat``) after every tool call, so
those paths import only what they use: a ``PostToolUse`` with no heartbeat due ends
in ``cli.hook_gate`` (standard library only), the rest in ``cli.agent_hook``; a
heartbeat whose arguments ``cli.fast_heartbeat`` reads as click would runs there;
both import msgspec without ``typing_extensions`` (``cli.lean_import``). Every other
command, and every command line the fast reader refuses, goes to the click
application in ``cli.main``.
"""

from __future__ import annotations

import sys


def main() -> None:
    """``claims``: the hook's and the heartbeat's fast paths, else the full command line."""
    args = sys.argv[1:]
    if args[:1] == ["hook"]:
        import os

        from cli.hook_gate import settled

        raw = sys.stdin.buffer.read()
        if settled(raw, os.environ):
            return
        from cli.lean_import import import_msgspec

        import_msgspec()
        from cli.agent_hook import main as hook

        hook(args[1:], raw)
        return
    if "heartbeat" in args:
        import os

        from cli.fast_heartbeat import read, run

        invocation = read(args, os.environ)
        if invocation is not None:
            run(invocation)
    from cli.main import main as full

    full(args)
