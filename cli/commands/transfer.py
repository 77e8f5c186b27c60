"""``claims export`` and ``claims import``: whole ledgers between stores, and
analytics tables to files."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cli.app import App, app_of
from cli.commands.analytics import TABLE_NAMES, analytics_option
from cli.options import common


@click.command()
@click.argument("what", metavar="ledger|TABLE", type=click.Choice(["ledger", *TABLE_NAMES]))
@click.option(
    "-o",
    "--output",
    required=True,
    metavar="URL|FILE",
    help="ledger: the store URL or file to copy into; TABLE: the file to write.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet", "csv"]),
    default=None,
    help="TABLE only: parquet (default) or csv.",
)
@analytics_option
@common
@click.pass_context
def export(
    ctx: click.Context, /, what: str, output: str, fmt: str | None, analytics_path: str | None
) -> None:
    """Copy the whole ledger to another store, or write an analytics TABLE to a file.

    `ledger` copies every record, byte for byte (positions, versions, event ids,
    hashes), into OUTPUT: a store URL or a file (`.jsonl` is a JSONL store, any
    other name SQLite). The target must be empty or hold the start of this same
    ledger (an interrupted copy resumes). `claims verify` passes on the copy.

    \b
    claims export ledger -o backup.jsonl
    claims --db backup.jsonl export ledger -o 'postgresql://claims@db.internal/claims'
    claims export claim_intervals --format parquet -o intervals.parquet
    """
    from ledger.store.protected import refuse_owned

    app = app_of(ctx)
    if what != "ledger":
        from cli.commands.analytics import export_table

        refuse_owned(output, app.service().store, [analytics_path])
        export_table(app, what, fmt or "parquet", Path(output), analytics_path)
        return
    if fmt is not None:
        raise click.UsageError("--format applies to analytics tables, not to `export ledger`")
    target_file = _file_of(output)
    if target_file is not None:
        refuse_owned(target_file, app.service().store)
    _copy(app, source_url=app.url, target_url=output)


@click.command(name="import")
@click.argument("source", metavar="URL|FILE")
@common
@click.pass_context
def import_ledger(ctx: click.Context, /, source: str) -> None:
    """Copy a whole ledger from SOURCE (a store URL or file) into this store.

    Every record keeps its position, version, event id and hash. This store must
    be empty or hold the start of the same ledger (an interrupted import resumes);
    anything else is refused and nothing is written.

    \b
    claims --db 'postgresql://claims@db.internal/claims' import .claims/ledger.db
    """
    app = app_of(ctx)
    _copy(app, source_url=source, target_url=app.url)


def _copy(app: App, *, source_url: str, target_url: str) -> None:
    from ledger.store.copy import copy_log
    from ledger.store.factory import open_store

    if source_url != app.url:
        _must_exist(source_url)
    source = app.service().store if source_url == app.url else open_store(source_url)
    target = app.service().store if target_url == app.url else open_store(target_url)
    try:
        total = source.head_position()
        show = sys.stderr.isatty() and not app.json
        with click.progressbar(
            length=total, label="copying", file=sys.stderr, hidden=not show
        ) as bar:
            done = 0

            def progress(copied: int) -> None:
                nonlocal done
                bar.update(copied - done)
                done = copied

            report = copy_log(source, target, progress=progress)
    finally:
        for store in (source, target):
            if store is not app.service().store:
                store.close()
    body = {
        "success": True,
        "source": report.source,
        "target": report.target,
        "copied": report.copied,
        "skipped": report.skipped,
        "unfinished": report.unfinished,
        "position": report.position,
        "headHash": report.head_hash,
    }

    def human() -> None:
        click.echo(
            f"copied {report.copied} record(s) from {report.source} to {report.target}"
            f" (position {report.position}, head hash {report.head_hash[:16]}…)"
        )
        if report.skipped:
            click.echo(
                f"resumed after position {report.skipped}: the target already held the"
                f" first {report.skipped} record(s) of this ledger (an earlier copy that"
                " stopped midway), checked and not copied again"
            )
        if report.unfinished:
            click.echo(
                f"left out {report.unfinished} record(s) of an append the source never"
                " finished (never acknowledged)"
            )

    app.emit(body, human)


def _file_of(url: str) -> str | None:
    """The file a store URL names (``None`` for a server or memory store)."""
    from ledger.store.factory import POSTGRES_SCHEMES, parse_store_url

    if url.partition(":")[0] in POSTGRES_SCHEMES:
        return None
    scheme, path, _ = parse_store_url(url)
    return None if scheme == "memory" else path


def _must_exist(url: str) -> None:
    """A file source that is not there is a mistake, not an empty ledger to create."""
    from ledger.errors import InvalidInput
    from ledger.store.factory import POSTGRES_SCHEMES, parse_store_url

    if url.partition(":")[0] in POSTGRES_SCHEMES:
        return
    scheme, path, _ = parse_store_url(url)
    if scheme != "memory" and not Path(path).exists():
        raise InvalidInput(f"there is no ledger at {path}", source=url)
