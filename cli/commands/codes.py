"""``claims codes``: every error code with its exit code and HTTP status."""

from __future__ import annotations

import click

from cli.app import app_of
from cli.options import common
from cli.table import render_table
from ledger.errors import all_error_classes


@click.command()
@common
@click.pass_context
def codes(ctx: click.Context) -> None:
    """List the error codes, their exit codes and HTTP statuses."""
    app = app_of(ctx)
    rows = [
        {
            "code": cls.code,
            "exitCode": cls.exit_code,
            "httpStatus": cls.http_status,
            "title": cls.title,
        }
        for cls in sorted(all_error_classes(), key=lambda cls: cls.exit_code)
    ]
    app.emit(
        {"codes": rows},
        lambda: click.echo(
            render_table(
                ["CODE", "EXIT", "HTTP", "MEANING"],
                [[r["code"], r["exitCode"], r["httpStatus"], r["title"]] for r in rows],
            )
        ),
    )
