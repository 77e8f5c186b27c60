"""``--as-of``, ``--from`` and ``--until``: a ledger position or a point in time."""

from __future__ import annotations

from datetime import datetime

import click

from ledger.moments import Moment, parse_moment

__all__ = ["MOMENT", "Moment", "MomentType", "as_of_option", "parse_moment"]


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
