"""``claims run TASK -- CMD...``: hold a claim for exactly as long as a command runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from types import FrameType
from typing import Any

import click

from application.bodies import release_body
from application.results import ClaimResult
from application.service import ClaimService
from cli.app import app_of
from cli.commands.claims import claim_command
from cli.held import forget, remember
from cli.options import DURATION, claim_options, common, session_option
from ledger.commands import Beat, Release, Trace
from ledger.errors import ClaimError, LedgerError, SessionNotFound
from ledger.liveness import process_alive

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

    Put `--` before CMD. The child gets CLAIMS_TASK, CLAIMS_SESSION,
    CLAIMS_FENCING_TOKEN and CLAIMS_DB. While it runs, this process is the
    session's registered process. If the lease is lost (taken over, expired) the
    child is terminated and `run` exits with that error's code; otherwise it
    releases the claim (`completed` on exit 0, `interrupted` if a signal ended the
    child, `failed` otherwise) and exits with the child's code.

    \b
    claims run fix-login --session agent-1 -- make test
    """
    app = app_of(ctx)
    service = app.service()
    session_id = app.require_session()
    claim = claim_command(session_id, **options)
    result = service.claim(task_id, claim)
    remember(app, task_id, result.lease)
    registered = _register_process(service, session_id, claim.terms.agent_type, claim.terms.tier)
    try:
        code, lost = _supervise(service, result, command, beat, app.url, app.json)
    finally:
        if registered:
            _unregister_process(service, session_id)
    if lost is not None:
        app.fail(lost)
    reason = "completed" if code == 0 else ("interrupted" if code < 0 else "failed")
    token = result.lease.fencing_token
    released = service.release(
        task_id,
        Release(session_id=session_id, reason=reason, fencing_token=token),
        trace=_trace(result),
    )
    forget(session_id, task_id)
    exit_code = code if code >= 0 else 128 - code
    body = {
        "success": code == 0,
        "taskId": task_id,
        "exitCode": exit_code,
        "fencingToken": token,
        "released": release_body(released).released,
    }
    app.emit(
        body,
        lambda: click.echo(f"{task_id}: command exited {exit_code}; released ({reason})", err=True),
    )
    sys.exit(exit_code)


def _register_process(
    service: ClaimService, session_id: str, agent_type: str | None, tier: str | None
) -> bool:
    """Make this process the session's evidence of life, unless a live one already is."""
    try:
        state = service.session(session_id)
    except SessionNotFound:
        state = None
    live_elsewhere = (
        state is not None
        and not state.ended
        and state.pid is not None
        and (state.host != service.host or process_alive(state.pid))
    )
    if live_elsewhere:
        return False
    service.start_session(
        session_id,
        agent_type=agent_type or (state.agent_type if state else "cli"),
        tier=tier if tier is not None else (state.tier if state else None),
        pid=os.getpid(),
    )
    return True


def _unregister_process(service: ClaimService, session_id: str) -> None:
    """This process is ending; the session goes on without a registered process."""
    state = service.session(session_id)
    if state.pid == os.getpid() and not state.ended:
        service.start_session(session_id, agent_type=state.agent_type, tier=state.tier, pid=None)


def _trace(result: ClaimResult) -> Trace:
    """Heartbeats and the release are caused by the claim and share its correlation id."""
    first = result.records[-1] if result.records else None
    return Trace(
        correlation_id=first.correlation_id if first else None,
        causation_id=first.event_id if first else None,
    )


def _supervise(
    service: ClaimService,
    result: ClaimResult,
    command: tuple[str, ...],
    beat: int | None,
    url: str,
    json_output: bool,
) -> tuple[int, LedgerError | None]:
    """Run the child, heartbeating; ``(exit code, the error if the lease was lost)``."""
    task_id = result.task.task_id
    lease = result.lease
    interval_ms = min(beat or service.config.heartbeat_interval, max(lease.ttl_ms // 3, 1))
    env = {
        **os.environ,
        "CLAIMS_TASK": task_id,
        "CLAIMS_SESSION": lease.session_id,
        "CLAIMS_FENCING_TOKEN": str(lease.fencing_token),
        "CLAIMS_DB": url,
    }
    try:
        child = subprocess.Popen(list(command), env=env, stdout=sys.stderr if json_output else None)
    except OSError as exc:
        click.echo(f"cannot run {command[0]!r}: {exc.strerror}", err=True)
        return NOT_FOUND, None
    previous = _forward_signals(child)
    beat_command = Beat(session_id=lease.session_id, fencing_token=lease.fencing_token)
    expires = time.monotonic() + lease.ttl_ms / 1000
    try:
        while True:
            try:
                return child.wait(timeout=interval_ms / 1000), None
            except subprocess.TimeoutExpired:
                pass
            try:
                beaten = service.heartbeat(task_id, beat_command, trace=_trace(result))
            except ClaimError as lost:
                click.echo(f"lease lost ({lost.code}); stopping the command", err=True)
                _stop(child)
                return child.wait(), lost
            except LedgerError as trouble:
                if time.monotonic() < expires:
                    click.echo(f"heartbeat failed ({trouble.code}); retrying", err=True)
                    continue
                click.echo(f"lease ran out while heartbeats failed ({trouble.code})", err=True)
                _stop(child)
                return child.wait(), trouble
            expires = time.monotonic() + beaten.lease.ttl_ms / 1000
    finally:
        if child.poll() is None:
            _stop(child)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _forward_signals(child: subprocess.Popen[bytes]) -> dict[int, Any]:
    """SIGTERM and SIGHUP sent to `run` go on to the child; Ctrl-C already reaches the
    child from the terminal, so `run` only waits for the child to act on it."""

    def forward(signum: int, frame: FrameType | None) -> None:
        if child.poll() is None:
            child.send_signal(signum)

    def wait(signum: int, frame: FrameType | None) -> None:
        return None

    handlers: dict[int, Any] = {signal.SIGINT: signal.signal(signal.SIGINT, wait)}
    for signum in (signal.SIGTERM, signal.SIGHUP):
        handlers[signum] = signal.signal(signum, forward)
    return handlers


def _stop(child: subprocess.Popen[bytes]) -> None:
    child.terminate()
    try:
        child.wait(timeout=GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
