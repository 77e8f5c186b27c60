"""``--as-of``, ``--from`` and ``--until``: a ledger position or a point in time."""

from __future__ import annotations

from datetime import UTC, datetime

import click

Moment = int | datetime


def parse_moment(text: str) -> Moment:
    """A position (digits) or an ISO 8601 time (UTC when no zone is given)."""
    cleaned = text.strip()
    if cleaned.isdigit():
        return int(cleaned)
    try:
        when = datetime.fromisoformat(cleaned.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ValueError(
            f"{text!r} is neither a position nor a time like 2026-11-24T09:30:00Z"
        ) from exc
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


class MomentType(click.ParamType):  # type: ignore[type-arg]  # generic only in newer click
    name = "position|time"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> Moment:
        if isinstance(value, int | datetime):
            return value
        try:
            return parse_moment(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


MOMENT = MomentType()


def as_of_option(func: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--as-of",
        "as_of",
        type=MOMENT,
        default=None,
        help="Answer as of a ledger position or a time (ledger clock).",
    )(func)
