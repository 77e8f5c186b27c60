"""``claim``, ``heartbeat``, ``release``, ``takeover`` and ``next``: the hot path."""

from __future__ import annotations

from typing import Any

import click
import msgspec

from application.bodies import ClaimBody, claim_body, release_body, takeover_body
from cli.app import app_of
from cli.fast_heartbeat import beat
from cli.held import fencing_token, forget, held_task, remember
from cli.options import DURATION, claim_options, common, request_id_option, session_option
from ledger.clock import iso
from ledger.commands import Claim, Release, Takeover
from ledger.errors import InvalidInput
from ledger.terms import LeaseTerms


def claim_command(
    session_id: str,
    ttl: int | None,
    agent_type: str,
    tier: str | None,
    scope: tuple[str, ...],
    constraint: tuple[str, ...],
    metadata: str | None,
    request_id: str | None = None,
) -> Claim:
    return Claim(
        session_id=session_id,
        terms=LeaseTerms(
            ttl_ms=ttl,
            agent_type=agent_type,
            tier=tier,
            scope=scope,
            constraints=constraint,
            metadata=parse_metadata(metadata),
        ),
        request_id=request_id,
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


@click.command()
@click.argument("task_id", metavar="TASK")
@claim_options
@request_id_option
@session_option
@common
@click.pass_context
def claim(ctx: click.Context, /, task_id: str, **options: Any) -> None:
    """Claim TASK for the session; a re-claim by the holder extends the lease.

    \b
    claims claim fix-login --session agent-1 --ttl 30m
    Exit 3 (TASK_ALREADY_CLAIMED) when another session holds it. In a git working
    tree the claim is recorded under the git directory for `claims guard`.
    """
    app = app_of(ctx)
    command = claim_command(app.require_session(), **options)
    result = app.service().claim(task_id, command)
    remember(app, task_id, result.lease)
    body = claim_body(result)
    app.emit(body, lambda: _say_claimed(body.claim))


@click.command("next")
@claim_options
@request_id_option
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
    remember(app, result.task.task_id, result.lease)
    body = claim_body(result)
    app.emit(body, lambda: _say_claimed(body.claim))


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
    """Extend the session's lease on TASK (default: CLAIMS_TASK, else the session's
    current claim). For hooks: fast.

    \b
    claims heartbeat fix-login --session agent-1
    CLAIMS_SESSION=agent-1 claims heartbeat
    Exit 9 (CLAIM_EXPIRED) once the lease has lapsed; claim again.
    """
    beat(app_of(ctx), task_id, extend, token)


@click.command()
@click.argument("task_id", metavar="[TASK]", required=False)
@click.option(
    "--reason",
    default="released",
    show_default=True,
    help="Only completed marks the task done; released, abandoned, failed, handoff, ...:"
    " back to the backlog.",
)
@click.option("--token", type=int, default=None, help="Fencing token (or CLAIMS_FENCING_TOKEN).")
@session_option
@common
@click.pass_context
def release(ctx: click.Context, /, task_id: str | None, reason: str, token: int | None) -> None:
    """Release the session's claim on TASK (default: CLAIMS_TASK, else the session's
    current claim) with a reason. Without one the task goes back to the backlog.

    \b
    claims release fix-login --session agent-1 --reason completed
    CLAIMS_SESSION=agent-1 claims release          # give it back, not done
    """
    app = app_of(ctx)
    session_id = app.require_session()
    held = held_task(app, task_id, session_id)
    command = Release(
        session_id=session_id, reason=reason, fencing_token=fencing_token(token) or held.token
    )
    result = app.service().release(held.task_id, command)
    forget(session_id, held.task_id)
    body = release_body(result)
    released = body.released
    app.emit(
        body,
        lambda: click.echo(
            f"{released.task_id}: released ({released.reason}) after"
            f" {released.claim_duration / 1000:.1f}s; task is {released.status}"
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
        terms=base.terms,
    )
    result = app.service().takeover(task_id, command)
    remember(app, task_id, result.lease)
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


def _say_claimed(claim: ClaimBody) -> None:
    verb = "renewed" if claim.renewed else "claimed"
    click.echo(
        f"{claim.task_id}: {verb} by {claim.session_id}, fencing token"
        f" {claim.fencing_token}, expires {claim.expires_at}"
    )
