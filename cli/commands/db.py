"""``claims db status`` and ``claims db migrate``: the store's schema."""

from __future__ import annotations

import click

from cli.app import app_of
from cli.options import common


@click.group()
def db() -> None:
    """The store's schema: which migrations it has, and applying the rest."""


@db.command()
@common
@click.pass_context
def status(ctx: click.Context) -> None:
    """Show the schema version, pending migrations and the log's head.

    Exits 0 when the schema is current; pending migrations are listed (and
    `claims db migrate` applies them). Changes nothing.
    """
    from ledger.store.schema_status import schema_status

    app = app_of(ctx)
    found = schema_status(app.url)
    body: dict[str, object] = {
        "success": True,
        "backend": found.backend,
        "store": found.url,
        "schemaVersion": found.applied,
        "latest": found.latest,
        "pending": found.pending,
    }
    if not found.pending:
        head = app.service().store.head()
        body["position"] = head.position
        body["headHash"] = head.hash

    def human() -> None:
        click.echo(f"store     {found.url}")
        click.echo(f"backend   {found.backend}")
        if found.latest == 0:
            click.echo("schema    none (this backend keeps no schema)")
        else:
            click.echo(f"schema    {found.applied} of {found.latest}")
        for label in found.pending:
            click.echo(f"pending   {label}  (run `claims db migrate`)")
        if "position" in body:
            click.echo(f"position  {body['position']}")
            click.echo(f"head      {body['headHash']}")

    app.emit(body, human)


@db.command()
@common
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Apply the schema migrations the store lacks (safe to run again, and from
    several hosts at once: they take a lock and apply each one once)."""
    from ledger.store.schema_status import migrate_store

    app = app_of(ctx)
    found, applied = migrate_store(app.url)
    body = {
        "success": True,
        "backend": found.backend,
        "store": found.url,
        "applied": applied,
        "schemaVersion": found.applied,
        "latest": found.latest,
    }

    def human() -> None:
        if not applied:
            click.echo(f"{found.url}: schema is current (version {found.applied})")
        for label in applied:
            click.echo(f"applied   {label}")

    app.emit(body, human)
