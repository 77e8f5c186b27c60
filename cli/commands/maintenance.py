"""``claims sweep`` and ``claims verify``: keeping the ledger honest."""

from __future__ import annotations

import sys

import click

from application.bodies import sweep_body
from cli.app import app_of
from cli.options import common
from ledger.errors import CorruptLog
from ledger.verify import verify_store
from ledger.witness import parse_witness, witness_line


@click.command()
@common
@click.pass_context
def sweep(ctx: click.Context) -> None:
    """Record expiry of lapsed leases and orphan claims of dead sessions.

    A claim is orphaned when its session ended, when the session's registered
    process is gone on this host, or after the orphan threshold without a heartbeat.
    """
    app = app_of(ctx)
    result = app.service().sweep()
    body = sweep_body(result)

    def human() -> None:
        for task_id in result.expired:
            click.echo(f"expired   {task_id}")
        for task_id, session_id, reason in result.orphaned:
            click.echo(f"orphaned  {task_id} (held by {session_id}: {reason})")
        click.echo(f"swept {body.cleaned} claim(s)")

    app.emit(body, human)


@click.command()
@common
@click.pass_context
def checkpoint(ctx: click.Context) -> None:
    """Print the head of the log (position, hash, time) as one line to keep elsewhere.

    Store the line outside the ledger (a git note, a ticket); later,
    `claims verify --witness LINE` refuses a log cut short or rewritten since.

    Example: claims checkpoint | git notes add -F - HEAD
    """
    app = app_of(ctx)
    head = app.service().store.head()
    line = witness_line(head)
    recorded_at = head.recorded_at.isoformat() if head.recorded_at else None
    body = {
        "success": True,
        "position": head.position,
        "hash": head.hash,
        "recordedAt": recorded_at,
        "line": line,
    }
    app.emit(body, lambda: click.echo(line))


@click.command()
@common
@click.option(
    "--witness",
    metavar="LINE|FILE",
    help="A line printed by `claims checkpoint` (or a file holding it): the log must"
    " reach that position and hold that record there.",
)
@click.pass_context
def verify(ctx: click.Context, witness: str | None) -> None:
    """Check the whole log: gapless versions, increasing positions, the hash chain.

    Names the first bad record and exits 23 (LOG_CORRUPT) if there is one. With
    --witness, records cut from the end of the log since the witness was taken
    are caught too.

    Example: claims verify --witness "$(git notes show HEAD)"
    """
    app = app_of(ctx)
    witnessed = parse_witness(witness) if witness is not None else None
    store = app.service().store
    show_progress = sys.stderr.isatty() and not app.json
    total = store.head_position()
    with click.progressbar(
        length=total, label="verifying", file=sys.stderr, hidden=not show_progress
    ) as bar:
        done = 0

        def progress(checked: int) -> None:
            nonlocal done
            bar.update(checked - done)
            done = checked

        report = verify_store(store, progress=progress, witness=witnessed)
    if report.problem is not None:
        problem = report.problem
        raise CorruptLog(
            f"{problem.where}: {problem.message}",
            position=problem.position,
            where=problem.where,
            checked=report.checked,
        )
    body = {
        "success": True,
        "checked": report.checked,
        "headPosition": report.head_position,
        "headHash": report.head_hash,
        "notices": report.notices,
    }

    def human() -> None:
        for notice in report.notices:
            click.echo(f"notice: {notice}", err=True)
        click.echo(
            f"ok: {report.checked} records, head position {report.head_position},"
            f" head hash {report.head_hash[:16]}…"
        )

    app.emit(body, human)
