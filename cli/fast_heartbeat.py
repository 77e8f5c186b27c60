"""``claims heartbeat``, answered before click loads.

Agents call ``claims heartbeat`` from their hooks after every tool call, so the
console script (``cli.entry``) reads this one command's arguments itself and runs it
without click, the command table or the other commands: a fresh process imports the
interpreter's share, msgspec, the ledger core, the service and one store. The click
command (``cli.commands.claims.heartbeat``) runs the same ``beat`` and prints the
same answers; whatever this reader does not take as the click command would (``-h``,
an unknown option, a missing value, a second task, a bad ``--extend`` or ``--token``,
no session) goes to click, which gives its usual help or usage error.

Reading the arguments imports nothing but the standard library, so a command line
this reader refuses costs click's path nothing more. The grammar read here is the
click command's: ``claims [--db URL] [--json] heartbeat [TASK] [--session ID]
[--db URL] [--json] [--extend DURATION] [--token N] [--]``, each option also as
``--name=value``, the last of a repeated option winning; ``--db`` on the command,
else on the group, else ``CLAIMS_DB``; ``--session``, else ``CLAIMS_SESSION``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple, NoReturn

from cli.durations import parse_duration_ms

if TYPE_CHECKING:
    from cli.app import App

_VALUED = ("--session", "--db", "--extend", "--token")


class Invocation(NamedTuple):
    """One ``claims heartbeat`` as read from its arguments and environment."""

    db: str | None
    json: bool
    session: str
    task_id: str | None
    extend_ms: int | None
    token: int | None


def read(args: Sequence[str], environ: Mapping[str, str]) -> Invocation | None:
    """The invocation in ``args`` (the console script's, without the program name), or
    ``None`` when it is not a heartbeat this reader takes exactly as click would."""
    group_db: str | None = None
    json = False
    index = 0
    while index < len(args) and args[index] != "heartbeat":  # the group's own options
        name, value, index = _option(args, index)
        if name == "--db" and value is not None:
            group_db = value
        elif name == "--json" and value is None:
            json = True
        else:
            return None
    if index == len(args):
        return None
    values: dict[str, str] = {}
    positional: list[str] = []
    index += 1
    while index < len(args):
        item = args[index]
        if item == "--":
            positional.extend(args[index + 1 :])
            break
        if not item.startswith("-") or item == "-":
            positional.append(item)
            index += 1
            continue
        name, value, index = _option(args, index)
        if name == "--json" and value is None:
            json = True
        elif name in _VALUED and value is not None:
            values[name] = value
        else:
            return None
    if len(positional) > 1:
        return None
    session = values.get("--session") or environ.get("CLAIMS_SESSION")
    if not session:
        return None  # click's usage error names the missing session
    try:
        extend = parse_duration_ms(values["--extend"]) if "--extend" in values else None
        token = _integer(values["--token"]) if "--token" in values else None
    except ValueError:
        return None  # click says what is wrong with the value
    db = values.get("--db") or group_db or environ.get("CLAIMS_DB") or None
    task_id = positional[0] if positional else None
    return Invocation(db, json, session, task_id or None, extend, token)


def _option(args: Sequence[str], index: int) -> tuple[str, str | None, int]:
    """The option at ``index``: its name, its value (``None`` for a flag, for a valued
    option without one or with an empty one, and for ``--flag=value``) and the index
    after it. A name this reader does not know comes back whole, to be refused."""
    item = args[index]
    name, equals, value = item.partition("=")
    if name not in _VALUED:
        return (item if equals else name), None, index + 1
    if equals:
        return name, value or None, index + 1
    if index + 1 < len(args) and args[index + 1]:
        return name, args[index + 1], index + 2
    return name, None, index + 1


def _integer(text: str) -> int:
    """``--token``'s value as click's ``int`` takes it: an optional sign and digits."""
    stripped = text.strip()
    if not stripped.lstrip("+-").isdigit():
        raise ValueError(text)
    return int(stripped)


def beat(app: App, task_id: str | None, extend_ms: int | None, token: int | None) -> None:
    """Heartbeat the session's claim on ``task_id`` (default: ``CLAIMS_TASK``, else the
    session's current claim) and answer it: the click command's body and this path's."""
    from application.bodies import heartbeat_body
    from cli.held import fencing_token, held_task
    from ledger.commands import Beat

    session_id = app.require_session()
    held = held_task(app, task_id, session_id)
    command = Beat(
        session_id=session_id, extend_ms=extend_ms, fencing_token=fencing_token(token) or held.token
    )
    result = app.service().heartbeat(held.task_id, command)
    body = heartbeat_body(result)
    app.emit(
        body,
        lambda: _say(
            f"{body.claim.task_id}: lease extended to {body.claim.expires_at}"
            f" (heartbeat {body.claim.heartbeat_count})"
        ),
    )


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def run(invocation: Invocation) -> NoReturn:
    """Run the heartbeat and exit as the click command line would."""
    from cli.lean_import import import_msgspec

    import_msgspec()  # before anything below imports it
    from cli.app import App, internal_error
    from cli.notices import notices_to_stderr
    from ledger.errors import LedgerError
    from ledger.notices import when_used

    when_used(notices_to_stderr)
    app = App()
    app.db, app.json, app.session = invocation.db, invocation.json, invocation.session
    try:
        beat(app, invocation.task_id, invocation.extend_ms, invocation.token)
    except LedgerError as error:
        app.fail(error)
    except BrokenPipeError:
        sys.exit(1)
    except Exception as error:  # the unexpected: one line, or the traceback on request
        if os.environ.get("CLAIMS_DEBUG"):
            raise
        internal_error(error, invocation.json)
    finally:
        app.close()
    sys.exit(0)
