"""``claims projections status|rebuild``: the read side's checkpoints and snapshots."""

from __future__ import annotations

import sys

import click

from cli.app import app_of
from cli.options import common
from cli.table import render_table
from ledger.codec import to_builtins


@click.group()
def projections() -> None:
    """Inspect and rebuild the projections (task board, claims, sessions, fingerprints)."""


@projections.command("status")
@common
@click.pass_context
def status(ctx: click.Context, /) -> None:
    """Each projection's checkpoint, lag behind the head, and snapshot age."""
    app = app_of(ctx)
    runner = app.service().projections
    found = runner.status()
    body = {"projections": to_builtins(found), "notices": runner.notices}

    def human() -> None:
        rows = [
            [
                item.name,
                item.schema_version,
                item.checkpoint,
                item.lag,
                item.snapshot_position,
                "-" if item.snapshot_age_s is None else f"{item.snapshot_age_s:.0f}s",
            ]
            for item in found
        ]
        headers = ["PROJECTION", "SCHEMA", "CHECKPOINT", "LAG", "SNAPSHOT AT", "SNAPSHOT AGE"]
        click.echo(render_table(headers, rows))

    app.emit(body, human)


@projections.command("rebuild")
@common
@click.pass_context
def rebuild(ctx: click.Context, /) -> None:
    """Fold the whole log again from position 0 and save fresh snapshots."""
    app = app_of(ctx)
    service = app.service()
    total = service.store.head_position()
    show = sys.stderr.isatty() and not app.json
    with click.progressbar(
        length=total, label="rebuilding", file=sys.stderr, hidden=not show
    ) as bar:
        done = 0

        def progress(count: int) -> None:
            nonlocal done
            bar.update(count - done)
            done = count

        report = service.projections.rebuild(progress)
    app.emit(
        {"success": True, **to_builtins(report)},
        lambda: click.echo(
            f"rebuilt from {report.records} records in {report.seconds:.2f}s"
            f" ({report.rate:,.0f} records/s); checkpoint {report.position}"
        ),
    )
