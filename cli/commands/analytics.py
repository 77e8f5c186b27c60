"""``claims audit|stats|payout|sql|export``: questions answered by DuckDB.

Each command first brings the analytics store (``<ledger>.analytics.duckdb``, or
``--analytics`` / ``CLAIMS_ANALYTICS_DB``) up to date with the ledger, then asks.
DuckDB is imported here, inside the commands, and nowhere on the hook path.
Every answer carries the ledger position and head hash it was computed at.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import click
import msgspec

from cli.analytics_text import (
    PAYOUT_HEADERS,
    STATS_HEADERS,
    audit_row,
    cost_notes,
    current_note,
    overlaps_note,
    payout_row,
    stats_csv,
    stats_row,
    total_row,
    write_csv,
)
from cli.app import App, app_of
from cli.options import DURATION, common
from cli.table import render_table
from ledger.errors import InvalidInput

if TYPE_CHECKING:
    from ledger.store.protocol import EventStore
    from projections.analytics import Analytics, Checkpoint, Payout, Subject, Window
    from projections.analytics.export import Format
    from projections.analytics.stats import GroupBy
    from projections.cost import CostTotals

F = TypeVar("F", bound=Callable[..., Any])
TABLE_NAMES = (
    "events",
    "claim_intervals",
    "tasks",
    "sessions",
    "token_usage",
    "payout_work",
)
"""The analytics tables (``projections.analytics.schema.TABLES``, kept here so that the
CLI imports no DuckDB to list them)."""


class Instant(click.ParamType):  # type: ignore[type-arg]  # generic only in newer click
    """An ISO 8601 date or time; UTC when no zone is given."""

    name = "time"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            self.fail(f"{text!r} is not a time; use e.g. 2026-01-31 or 2026-01-31T09:30:00Z")
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


INSTANT = Instant()


def analytics_option(func: F) -> F:
    """``--analytics PATH`` (or ``CLAIMS_ANALYTICS_DB``): where the DuckDB file is."""
    return click.option(
        "--analytics",
        "analytics_path",
        envvar="CLAIMS_ANALYTICS_DB",
        metavar="PATH",
        default=None,
        help="The analytics DuckDB file (default: <ledger>.analytics.duckdb).",
    )(func)


def analytics_options(func: F) -> F:
    """``--analytics PATH`` and ``--csv``, shared by the commands that answer rows."""
    return analytics_option(
        click.option("--csv", "as_csv", is_flag=True, help="Print CSV rows instead.")(func)
    )


def window_options(func: F) -> F:
    """``--since`` (inclusive) and ``--until`` (exclusive)."""
    for decorator in reversed(
        [
            click.option("--since", type=INSTANT, default=None, help="From this time (UTC)."),
            click.option("--until", type=INSTANT, default=None, help="Before this time (UTC)."),
        ]
    ):
        func = decorator(func)
    return func


# --- commands ------------------------------------------------------------------


@click.command()
@click.option("--task", "task_id", default=None, help="The task's trail.")
@click.option("--session", "session_id", default=None, help="A session's trail.")
@click.option("--agent-type", default=None, help="The trail of claims of one agent type.")
@click.option("--no-heartbeats", is_flag=True, help="Leave heartbeats out.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most N records.")
@window_options
@analytics_options
@common
@click.pass_context
def audit(
    ctx: click.Context,
    /,
    task_id: str | None,
    session_id: str | None,
    agent_type: str | None,
    no_heartbeats: bool,
    limit: int | None,
    since: datetime | None,
    until: datetime | None,
    analytics_path: str | None,
    as_csv: bool,
) -> None:
    """The full trail of a task, a session or an agent type, in log order: who,
    what, when, fencing token, reason; forced takeovers and who forced them.

    \b
    claims audit --task fix-login
    claims audit --session agent-1 --since 2026-01-01 --no-heartbeats
    """
    from projections.analytics import Subject

    app = app_of(ctx)
    subject = Subject(task_id=task_id, session_id=session_id, agent_type=agent_type)
    if subject.empty():
        raise click.UsageError("give --task, --session or --agent-type")
    window = _window(since, until)
    with _analytics(app, analytics_path, as_csv) as analytics:
        if as_csv or app.json:
            _stream_audit(app, analytics, subject, window, not no_heartbeats, limit)
            return
        trail = analytics.audit(subject, window=window, heartbeats=not no_heartbeats, limit=limit)
        checkpoint = analytics.checkpoint()
    entries = [msgspec.to_builtins(entry) for entry in trail.entries]
    headers = ["POSITION", "TIME", "TASK", "SESSION", "TOKEN", "ACTOR", "WHAT"]
    rows = [audit_row(entry) for entry in trail.entries]
    note = f"{len(rows)} record(s)" + (" (more past --limit)" if trail.truncated else "")
    _answer(app, as_csv, checkpoint, trail, entries, headers, rows, [note])


def _stream_audit(
    app: App,
    analytics: Analytics,
    subject: Subject,
    window: Window,
    heartbeats: bool,
    limit: int | None,
) -> None:
    """The trail as JSON or CSV, written by DuckDB and streamed page by page."""
    from cli import streamed
    from projections.analytics.audit_text import CSV_COLUMNS, Truncation

    head = _header(analytics.checkpoint())  # before the pages: one query at a time
    form: Literal["json", "csv"] = "json" if app.json else "csv"
    pages = analytics.audit_pages(form, subject, window=window, heartbeats=heartbeats, limit=limit)
    cut = Truncation(limit)
    if not app.json:
        streamed.write_csv(CSV_COLUMNS, cut(pages))
        return
    body = {**head, "subject": msgspec.to_builtins(subject), "window": msgspec.to_builtins(window)}
    streamed.write_json(
        body | {"entries": []}, "entries", cut(pages), lambda: {"truncated": cut.truncated}
    )


@click.command()
@click.option(
    "--by",
    type=click.Choice(["session", "agent", "task", "day"]),
    default="session",
    show_default=True,
    help="Group claims by session, agent type, task or UTC day.",
)
@click.option("--task", "task_id", default=None, help="Only this task's claims.")
@click.option("--session", "session_id", default=None, help="Only this session's claims.")
@click.option(
    "--stale-after",
    type=DURATION,
    default=None,
    help="Silence that makes a claim stale (default: CLAIMS_WARNING_THRESHOLD, 5m).",
)
@window_options
@analytics_options
@common
@click.pass_context
def stats(
    ctx: click.Context,
    /,
    by: str,
    task_id: str | None,
    session_id: str | None,
    stale_after: int | None,
    since: datetime | None,
    until: datetime | None,
    analytics_path: str | None,
    as_csv: bool,
) -> None:
    """Claims, completions, releases by reason, expiries, takeovers and orphans;
    claimed and active durations (count, mean, p50, p95, max); stale rate;
    overlapping claims (always none, unless two holders raced). A claim counts in
    the period its start falls in.

    \b
    claims stats --by agent --since 2026-01-01
    claims stats --by day --csv > days.csv
    """
    from projections.analytics import Filter

    app = app_of(ctx)
    service = app.service()
    where = Filter(window=_window(since, until), task_id=task_id, session_id=session_id)
    threshold = service.config.warning_threshold if stale_after is None else stale_after
    with _analytics(app, analytics_path, as_csv) as analytics:
        grouping = cast("GroupBy", by)
        found = analytics.stats(by=grouping, where=where, stale_after_ms=threshold)
        current = analytics.current(service.clock.now(), service.config)
        checkpoint = analytics.checkpoint()
        cost = analytics.cost(task_id=task_id)
    result = msgspec.structs.replace(found, current=current)
    groups = [*found.groups, found.total]
    rows = [stats_row(group) for group in groups]
    notes = [overlaps_note(found.overlaps), current_note(current), *cost_notes(cost)]
    _answer(
        app,
        as_csv,
        checkpoint,
        result,
        [stats_csv(g) for g in groups],
        STATS_HEADERS,
        rows,
        notes,
        extra={"cost": msgspec.to_builtins(cost)},
    )


@click.command()
@click.option("--task", "task_id", default=None, help="Only this task.")
@click.option(
    "--time-weight", type=float, default=0.8, show_default=True, help="Weight of active time."
)
@click.option(
    "--completion-weight",
    type=float,
    default=0.2,
    show_default=True,
    help="Weight of completing the task.",
)
@click.option("--totals", is_flag=True, help="Only each worker's total credit.")
@click.option(
    "--at",
    "at_position",
    type=click.IntRange(min=0),
    default=None,
    help="Recompute as of this ledger position (in memory), to check an old payout.",
)
@window_options
@analytics_options
@common
@click.pass_context
def payout(
    ctx: click.Context,
    /,
    task_id: str | None,
    time_weight: float,
    completion_weight: float,
    totals: bool,
    at_position: int | None,
    since: datetime | None,
    until: datetime | None,
    analytics_path: str | None,
    as_csv: bool,
) -> None:
    """Per finished task and worker: the share of heartbeat-backed active time (split
    at takeovers) and the completion credit, weighted; shares sum to 1 per task.
    Each worker's credit is the sum of its shares. The period chooses tasks by when
    they became done.

    \b
    claims payout --since 2026-01-01 --until 2026-02-01
    claims payout --totals --csv > credit.csv
    claims payout --at 1234 --json    # the same figures as when the head was 1234
    """
    from projections.analytics import Weights

    app = app_of(ctx)
    weights = Weights(time=time_weight, completion=completion_weight)
    weights.scaled()
    path = ":memory:" if at_position is not None else analytics_path
    window = _window(since, until)
    streamed = not totals and (as_csv or app.json)
    with _analytics(app, path, as_csv, until=at_position) as analytics:
        found = analytics.payout(
            window=window, weights=weights, task_id=task_id, detail=not (totals or streamed)
        )
        checkpoint = analytics.checkpoint()
        cost = analytics.cost(task_id=task_id)
        if streamed:
            _stream_payout(app, analytics, checkpoint, found, task_id, cost)
            return
    if totals:
        headers = ["WORKER", "AGENT", "TASKS", "ACTIVE", "CREDIT"]
        rows = [total_row(worker) for worker in found.workers]
        csv_rows = [msgspec.to_builtins(worker) for worker in found.workers]
    else:
        headers = PAYOUT_HEADERS
        rows = [payout_row(task, worker) for task in found.tasks for worker in task.workers]
        csv_rows = []
    credit = sum(worker.credit for worker in found.workers)
    notes = [
        f"{credit:.2f} task(s) of credit to {len(found.workers)} worker(s); weights: time"
        f" {weights.time:g}, completion {weights.completion:g}",
    ]
    if found.unattributed:
        notes.append("finished without any claim: " + ", ".join(found.unattributed))
    notes.extend(cost_notes(cost))
    extra = {"cost": msgspec.to_builtins(cost)}
    _answer(app, as_csv, checkpoint, found, csv_rows, headers, rows, notes, extra=extra)


def _stream_payout(
    app: App,
    analytics: Analytics,
    checkpoint: Checkpoint,
    found: Payout,
    task_id: str | None,
    cost: CostTotals,
) -> None:
    """The per-task list as JSON or CSV, written by DuckDB and streamed page by page."""
    from cli import streamed
    from projections.analytics.payout_text import CSV_COLUMNS

    form: Literal["json", "csv"] = "json" if app.json else "csv"
    pages = analytics.payout_pages(
        form,
        window=found.window,
        weights=found.weights,
        task_id=task_id,
        suffix=f",{checkpoint.position},{checkpoint.hash}",
    )
    if app.json:
        body = {**_header(checkpoint), **msgspec.to_builtins(found)}
        rest = {"unattributed": body["unattributed"], "cost": msgspec.to_builtins(cost)}
        streamed.write_json(body, "tasks", pages, lambda: rest)
    else:
        streamed.write_csv([*CSV_COLUMNS, "position", "headHash"], pages)


@click.command()
@click.argument("query", metavar='"SELECT ..."')
@analytics_options
@common
@click.pass_context
def sql(ctx: click.Context, /, query: str, analytics_path: str | None, as_csv: bool) -> None:
    """Run one read-only SELECT over the analytics tables: events, claim_intervals,
    tasks, sessions, token_usage and payout_work.

    Anything that would write (INSERT, COPY, ATTACH, SET, ...) is refused with
    VALIDATION_ERROR (exit 13); the query runs on a read-only connection.

    \b
    claims sql "SELECT agent_type, count(*) FROM claim_intervals GROUP BY ALL"
    """
    from projections.analytics.readonly import check_read_only

    app = app_of(ctx)
    check_read_only(query)
    with _analytics(app, analytics_path, as_csv) as analytics:
        checkpoint = analytics.checkpoint()
        result = analytics.query(query)
    records = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    note = f"{len(result.rows)} row(s)"
    _answer(app, as_csv, checkpoint, result, records, result.columns, result.rows, [note])


def export_table(app: App, table: str, fmt: str, output: Path, analytics_path: str | None) -> None:
    """Write a whole analytics table to a Parquet or CSV file (``claims export TABLE``)."""
    with _analytics(app, analytics_path, False) as analytics:
        written = analytics.export(table, output, cast("Format", fmt))
        checkpoint = analytics.checkpoint()
    body = {
        **_header(checkpoint),
        "table": table,
        "format": fmt,
        "path": str(output.expanduser().absolute()),
        "rows": written,
    }
    app.emit(
        body,
        lambda: click.echo(
            f"wrote {written} row(s) of {table} to {body['path']}"
            f" (position {checkpoint.position}, head hash {checkpoint.hash[:16]}…)"
        ),
    )


# --- opening and feeding ---------------------------------------------------------


@contextmanager
def _analytics(
    app: App, path: str | None, as_csv: bool, *, until: int | None = None
) -> Iterator[Analytics]:
    """The analytics store, brought up to date with the ledger (up to ``until``)."""
    from projections.analytics import Analytics, default_path

    if as_csv and app.json:
        raise click.UsageError("--csv and --json do not go together")
    store = app.service().store
    if path is not None:
        from ledger.store.protected import refuse_owned

        refuse_owned(path, store, analytics=False)
    if until is not None and until > store.head().position:
        raise InvalidInput(f"the ledger has no position {until} yet", position=until)
    with Analytics(path or default_path(_ledger_file(store))) as analytics:
        show = sys.stderr.isatty() and not app.json and not as_csv
        with click.progressbar(
            length=max(0, store.head().position - analytics.checkpoint().position),
            label="updating analytics",
            file=sys.stderr,
            hidden=not show,
        ) as bar:
            result = analytics.update(
                store, until=until, progress=lambda done, _: bar.update(done - bar.pos)
            )
        if result.rebuilt:
            click.echo(f"notice: analytics rebuilt from position 0: {result.rebuilt}", err=True)
        yield analytics


def _ledger_file(store: EventStore) -> str | None:
    from ledger.store.local import local_base

    base = local_base(store)
    return None if base is None else str(base)


def _window(since: datetime | None, until: datetime | None) -> Window:
    from projections.analytics import Window

    if since is not None and until is not None and until <= since:
        raise click.UsageError("--until must be later than --since")
    return Window(since=since, until=until)


# --- answering -----------------------------------------------------------------------


def _header(checkpoint: Checkpoint) -> dict[str, Any]:
    return {"success": True, "position": checkpoint.position, "headHash": checkpoint.hash}


def _answer(
    app: App,
    as_csv: bool,
    checkpoint: Checkpoint,
    result: msgspec.Struct,
    records: Sequence[dict[str, Any]],
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    notes: Sequence[str],
    *,
    extra: dict[str, Any] | None = None,
) -> None:
    """One JSON document, CSV rows (each with the position and head hash), or a table;
    ``extra`` members join the JSON document."""
    if as_csv:
        write_csv(records, checkpoint)
        return

    def human() -> None:
        click.echo(render_table(headers, rows))
        for note in notes:
            click.echo(note)
        click.echo(f"as of position {checkpoint.position}, head hash {checkpoint.hash[:16]}…")

    app.emit({**_header(checkpoint), **msgspec.to_builtins(result), **(extra or {})}, human)
