"""``--as-of``, ``--from`` and ``--until``: a ledger position or a point in time."""

from __future__ import annotations

from datetime import datetime

import click

from cli.options import Parsed
from ledger.moments import Moment, parse_moment

__all__ = ["MOMENT", "Moment", "as_of_option", "parse_moment"]


MOMENT = Parsed("position|time", parse_moment, int | datetime)


def as_of_option(func: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--as-of",
        "as_of",
        type=MOMENT,
        default=None,
        help="Answer as of a ledger position or a time (ledger clock).",
    )(func)
