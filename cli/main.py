"""``claims``: the command line, thin over ``application.service``.

Exit codes: 0 success; 1 unexpected failure; 2 usage error; 3 TASK_ALREADY_CLAIMED;
4 to 26 the other error codes (``claims codes`` lists them, 15 TASK_ALREADY_ACTIVE,
25 STORE_UNAVAILABLE and 26 STORE_TIMEOUT among them); ``claims run`` exits with its
child's code once the child has started.
"""

from __future__ import annotations

import os
import sys
from importlib import import_module
from typing import Any, NoReturn

import click

from cli.app import App, app_of, error_document, internal_error
from cli.notices import notices_to_stderr
from cli.options import common
from ledger.errors import LedgerError

COMMANDS = {
    "task": "cli.commands.tasks:task",
    "session": "cli.commands.sessions:session",
    "claim": "cli.commands.claims:claim",
    "heartbeat": "cli.commands.claims:heartbeat",
    "release": "cli.commands.claims:release",
    "takeover": "cli.commands.claims:takeover",
    "next": "cli.commands.claims:next_task",
    "in-flight": "cli.commands.views:in_flight",
    "current-task": "cli.commands.views:current_task",
    "sweep": "cli.commands.maintenance:sweep",
    "verify": "cli.commands.maintenance:verify",
    "checkpoint": "cli.commands.maintenance:checkpoint",
    "run": "cli.commands.run:run",
    "codes": "cli.commands.codes:codes",
    "replay": "cli.commands.replay:replay",
    "projections": "cli.commands.projections:projections",
    "demo": "cli.commands.demo:demo",
    "serve": "cli.commands.serve:serve",
    "audit": "cli.commands.analytics:audit",
    "stats": "cli.commands.analytics:stats",
    "payout": "cli.commands.analytics:payout",
    "cost": "cli.commands.cost:cost",
    "sql": "cli.commands.analytics:sql",
    "export": "cli.commands.transfer:export",
    "import": "cli.commands.transfer:import_ledger",
    "db": "cli.commands.db:db",
    "hook": "cli.commands.agents:hook",
    "hooks": "cli.commands.hooks:hooks",
    "guard": "cli.commands.guard:guard",
    "mcp": "cli.commands.mcp:mcp",
}
"""Each command's module is imported only when that command runs (hooks stay fast)."""


class ClaimsGroup(click.Group):
    """Loads commands lazily and turns ledger errors into their documented exit codes,
    in the chosen output form."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        command = getattr(import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LedgerError as error:
            app_of(ctx).fail(error)
        finally:
            obj = ctx.obj
            if isinstance(obj, App):
                obj.close()


@click.group(cls=ClaimsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="claim-ledger", prog_name="claims")
@common
def cli() -> None:
    """Claim tasks from a shared backlog without two agents working the same one.

    Every claim, heartbeat, release, expiry and takeover is an immutable event in
    an append-only log. Example:

        claims task add fix-login --title "Fix the login form" --roi 3

        claims claim fix-login --session agent-1 --ttl 30m
    """


def main(argv: list[str] | None = None) -> None:
    """The console script: ``claims``."""
    args = sys.argv[1:] if argv is None else argv
    notices_to_stderr()
    wants_json = "--json" in args[: args.index("--")] if "--" in args else "--json" in args
    try:
        cli.main(args=args, prog_name="claims", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as problem:
        _fail("USAGE_ERROR", problem.format_message(), problem.exit_code, wants_json, problem)
    except click.exceptions.Abort:
        _fail("ABORTED", "aborted", 1, wants_json, None)
    except BrokenPipeError:
        sys.exit(1)
    except Exception as error:  # the unexpected: one line, or the traceback on request
        if os.environ.get("CLAIMS_DEBUG"):
            raise
        internal_error(error, wants_json)
    sys.exit(0)


def _fail(
    code: str,
    message: str,
    exit_code: int,
    wants_json: bool,
    problem: click.ClickException | None,
) -> NoReturn:
    """Usage errors and aborts: a JSON body with ``--json``, else click's text."""
    if wants_json:
        sys.stdout.buffer.write(error_document(code, message))
        sys.stdout.flush()
    if problem is not None:
        problem.show()
    elif not wants_json:
        click.echo(message, err=True)
    sys.exit(exit_code)
