"""``claim``, ``heartbeat``, ``release``, ``takeover`` and ``next``: the hot path."""

from __future__ import annotations

import os
from typing import Any

import click
import msgspec

from cli.app import app_of
from cli.durations import DURATION
from cli.options import claim_options, common, session_option
from ledger.bodies import claim_body, heartbeat_body, release_body, takeover_body
from ledger.clock import iso
from ledger.commands import Beat, Claim, Release, Takeover
from ledger.errors import InvalidInput


def claim_command(
    session_id: str,
    ttl: int | None,
    agent_type: str,
    tier: str | None,
    scope: tuple[str, ...],
    constraint: tuple[str, ...],
    metadata: str | None,
) -> Claim:
    return Claim(
        session_id=session_id,
        ttl_ms=ttl,
        agent_type=agent_type,
        tier=tier,
        scope=scope,
        constraints=constraint,
        metadata=parse_metadata(metadata),
    )


def parse_metadata(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        value = msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        raise InvalidInput(f"--metadata is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise InvalidInput(f"--metadata is nested too deeply: {exc}") from exc
    if not isinstance(value, dict):
        raise InvalidInput("--metadata must be a JSON object")
    return value


def _task_argument(task_id: str | None) -> str:
    value = task_id or os.environ.get("CLAIMS_TASK")
    if not value:
        raise click.UsageError("no task: pass TASK or set CLAIMS_TASK")
    return value


def _token(token: int | None) -> int | None:
    if token is not None:
        return token
    raw = os.environ.get("CLAIMS_FENCING_TOKEN")
    return int(raw) if raw and raw.isdigit() else None


@click.command()
@click.argument("task_id", metavar="TASK")
@claim_options
@session_option
@common
@click.pass_context
def claim(ctx: click.Context, /, task_id: str, **options: Any) -> None:
    """Claim TASK for the session; a re-claim by the holder extends the lease.

    \b
    claims claim fix-login --session agent-1 --ttl 30m
    Exit 3 (TASK_ALREADY_CLAIMED) when another session holds it.
    """
    app = app_of(ctx)
    command = claim_command(app.require_session(), **options)
    result = app.service().claim(task_id, command)
    app.emit(claim_body(result), lambda: _say_claimed(claim_body(result)["claim"]))


@click.command("next")
@claim_options
@session_option
@common
@click.pass_context
def next_task(ctx: click.Context, /, **options: Any) -> None:
    """Claim the best claimable task: highest ROI, then priority.

    Tasks whose fingerprint is already being worked on are skipped. Exit 12
    (NO_TASK_AVAILABLE) when nothing is left.

    \b
    claims next --session agent-1
    """
    app = app_of(ctx)
    command = claim_command(app.require_session(), **options)
    result = app.service().claim_next(command)
    app.emit(claim_body(result), lambda: _say_claimed(claim_body(result)["claim"]))


@click.command()
@click.argument("task_id", metavar="[TASK]", required=False)
@click.option("--extend", type=DURATION, default=None, help="New lease length from now.")
@click.option("--token", type=int, default=None, help="Fencing token (or CLAIMS_FENCING_TOKEN).")
@session_option
@common
@click.pass_context
def heartbeat(
    ctx: click.Context, /, task_id: str | None, extend: int | None, token: int | None
) -> None:
    """Extend the session's lease on TASK (or CLAIMS_TASK). For hooks: fast.

    \b
    claims heartbeat fix-login --session agent-1
    Exit 9 (CLAIM_EXPIRED) once the lease has lapsed; claim again.
    """
    app = app_of(ctx)
    command = Beat(session_id=app.require_session(), extend_ms=extend, fencing_token=_token(token))
    result = app.service().heartbeat(_task_argument(task_id), command)
    body = heartbeat_body(result)
    app.emit(
        body,
        lambda: click.echo(
            f"{body['claim']['taskId']}: lease extended to {body['claim']['expiresAt']}"
            f" (heartbeat {body['claim']['heartbeatCount']})"
        ),
    )


@click.command()
@click.argument("task_id", metavar="[TASK]", required=False)
@click.option(
    "--reason",
    default="completed",
    show_default=True,
    help="completed (marks the task done), abandoned, failed, handoff, ...",
)
@click.option("--token", type=int, default=None, help="Fencing token (or CLAIMS_FENCING_TOKEN).")
@session_option
@common
@click.pass_context
def release(ctx: click.Context, /, task_id: str | None, reason: str, token: int | None) -> None:
    """Release the session's claim on TASK with a reason.

    \b
    claims release fix-login --session agent-1 --reason completed
    """
    app = app_of(ctx)
    command = Release(session_id=app.require_session(), reason=reason, fencing_token=_token(token))
    result = app.service().release(_task_argument(task_id), command)
    body = release_body(result)
    released = body["released"]
    app.emit(
        body,
        lambda: click.echo(
            f"{released['taskId']}: released ({released['reason']}) after"
            f" {released['claimDuration'] / 1000:.1f}s; task is {released['status']}"
        ),
    )


@click.command()
@click.argument("task_id", metavar="TASK")
@click.option("--force", is_flag=True, help="Take a live claim (needs --reason; audited).")
@click.option("--reason", default=None, help="The handoff reason, recorded.")
@click.option("--by", "forced_by", default=None, help="Who forces it (default: the session).")
@claim_options
@session_option
@common
@click.pass_context
def takeover(
    ctx: click.Context,
    /,
    task_id: str,
    force: bool,
    reason: str | None,
    forced_by: str | None,
    **options: Any,
) -> None:
    """Take TASK over for the session: after its lease expired, or --force with --reason.

    \b
    claims takeover fix-login --session agent-2
    claims takeover fix-login --session agent-2 --force --reason "agent-1 is stuck" --by alice
    """
    app = app_of(ctx)
    base = claim_command(app.require_session(), **options)
    command = Takeover(
        session_id=base.session_id,
        reason=reason,
        force=force,
        forced_by=forced_by,
        ttl_ms=base.ttl_ms,
        agent_type=base.agent_type,
        tier=base.tier,
        scope=base.scope,
        constraints=base.constraints,
        metadata=base.metadata,
    )
    result = app.service().takeover(task_id, command)
    body = takeover_body(result)
    how = "forced" if result.forced else "after expiry"
    app.emit(
        body,
        lambda: click.echo(
            f"{task_id}: taken over from {result.from_session} ({how});"
            f" fencing token {result.lease.fencing_token},"
            f" expires {iso(result.lease.expires_at)}"
        ),
    )


def _say_claimed(claim: dict[str, Any]) -> None:
    verb = "renewed" if claim["renewed"] else "claimed"
    click.echo(
        f"{claim['taskId']}: {verb} by {claim['sessionId']}, fencing token"
        f" {claim['fencingToken']}, expires {claim['expiresAt']}"
    )
