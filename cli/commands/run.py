"""``claims run TASK -- CMD...``: hold a claim for exactly as long as a command runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from types import FrameType
from typing import Any

import click

from cli.app import app_of
from cli.commands.claims import claim_command
from cli.durations import DURATION
from cli.options import claim_options, common, session_option
from ledger.bodies import release_body
from ledger.commands import Beat, Release
from ledger.errors import ClaimError, LedgerError, SessionNotFound
from ledger.service import ClaimService

GRACE_SECONDS = 10
NOT_FOUND = 127


@click.command()
@click.argument("task_id", metavar="TASK")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option(
    "--beat",
    type=DURATION,
    default=None,
    help="Heartbeat interval (default CLAIMS_HEARTBEAT_INTERVAL, 1m; at most a third of the TTL).",
)
@claim_options
@session_option
@common
@click.pass_context
def run(
    ctx: click.Context, /, task_id: str, command: tuple[str, ...], beat: int | None, **options: Any
) -> None:
    """Claim TASK, run CMD while heartbeating, release with CMD's outcome.

    The child gets CLAIMS_TASK, CLAIMS_SESSION, CLAIMS_FENCING_TOKEN and CLAIMS_DB.
    If the lease is lost (taken over, expired) the child is terminated and
    ``run`` exits with that error's code; otherwise it releases the claim
    (``completed`` on exit 0, else ``failed``) and exits with the child's code.

    \b
    claims run fix-login --session agent-1 -- make test
    """
    app = app_of(ctx)
    service = app.service()
    session_id = app.require_session()
    claim = claim_command(session_id, **options)
    _register_process(service, session_id, claim.agent_type, claim.tier)
    result = service.claim(task_id, claim)
    token = result.lease.fencing_token
    interval_ms = min(beat or service.config.heartbeat_interval, max(result.lease.ttl_ms // 3, 1))
    env = {
        **os.environ,
        "CLAIMS_TASK": task_id,
        "CLAIMS_SESSION": session_id,
        "CLAIMS_FENCING_TOKEN": str(token),
        "CLAIMS_DB": app.url,
    }
    code, lost = _supervise(
        service, task_id, session_id, token, command, env, interval_ms, app.json
    )
    if lost is not None:
        app.fail(lost)
    reason = "completed" if code == 0 else ("interrupted" if code < 0 else "failed")
    released = service.release(
        task_id, Release(session_id=session_id, reason=reason, fencing_token=token)
    )
    exit_code = code if code >= 0 else 128 - code
    body = {
        "success": code == 0,
        "taskId": task_id,
        "exitCode": exit_code,
        "fencingToken": token,
        "released": release_body(released)["released"],
    }
    app.emit(
        body,
        lambda: click.echo(f"{task_id}: command exited {exit_code}; released ({reason})", err=True),
    )
    sys.exit(exit_code)


def _register_process(
    service: ClaimService, session_id: str, agent_type: str, tier: str | None
) -> None:
    """This process is the agent's long-lived one, unless the session already named one."""
    try:
        state = service.session(session_id)
    except SessionNotFound:
        state = None
    if state is None or state.ended or state.pid is None:
        service.start_session(session_id, agent_type=agent_type, tier=tier, pid=os.getpid())


def _supervise(
    service: ClaimService,
    task_id: str,
    session_id: str,
    token: int,
    command: tuple[str, ...],
    env: dict[str, str],
    interval_ms: int,
    json_output: bool,
) -> tuple[int, LedgerError | None]:
    """Run the child, heartbeating; ``(exit code, the error if the lease was lost)``."""
    try:
        child = subprocess.Popen(list(command), env=env, stdout=sys.stderr if json_output else None)
    except OSError as exc:
        click.echo(f"cannot run {command[0]!r}: {exc.strerror}", err=True)
        return NOT_FOUND, None
    previous = _forward_signals(child)
    try:
        while True:
            try:
                return child.wait(timeout=interval_ms / 1000), None
            except subprocess.TimeoutExpired:
                pass
            try:
                service.heartbeat(task_id, Beat(session_id=session_id, fencing_token=token))
            except ClaimError as lost:
                click.echo(f"lease lost ({lost.code}); stopping the command", err=True)
                _stop(child)
                return child.wait(), lost
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _forward_signals(child: subprocess.Popen[bytes]) -> dict[int, Any]:
    def forward(signum: int, frame: FrameType | None) -> None:
        if child.poll() is None:
            child.send_signal(signum)

    return {signum: signal.signal(signum, forward) for signum in (signal.SIGINT, signal.SIGTERM)}


def _stop(child: subprocess.Popen[bytes]) -> None:
    child.terminate()
    try:
        child.wait(timeout=GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
