"""``claims payout --json|--csv``: the per-task list streamed as DuckDB writes it.

The list can hold hundreds of thousands of tasks; DuckDB renders each one's text
(``projections.analytics.payout_text``) and it goes to stdout a page at a time,
byte for byte what encoding the whole ``Payout`` at once would write.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import msgspec

from projections.analytics.payout_text import CSV_COLUMNS


def write_json(body: dict[str, Any], pages: Iterator[list[str]]) -> None:
    """One JSON document: ``body`` (a ``Payout`` with an empty ``tasks``, and
    ``unattributed`` last, under the answer's header) with the pages as ``tasks``."""
    unattributed = body.pop("unattributed")
    body.pop("tasks")
    out = sys.stdout.buffer
    out.write(msgspec.json.encode(body)[:-1] + b',"tasks":[')
    separator = b""
    for page in pages:
        out.write(separator + ",".join(page).encode())
        separator = b","
    out.write(b'],"unattributed":' + msgspec.json.encode(unattributed) + b"}\n")
    out.flush()


def write_csv(pages: Iterator[list[str]]) -> None:
    """A header, then the lines of every page (each ends with the answer's position and
    head hash); only ``position,headHash`` when there are none."""
    first = next(pages, None)
    if first is None:
        sys.stdout.write("position,headHash\n")
        return
    sys.stdout.write(",".join([*CSV_COLUMNS, "position", "headHash"]) + "\n")
    sys.stdout.write("\n".join(first) + "\n")
    for page in pages:
        sys.stdout.write("\n".join(page) + "\n")
    sys.stdout.flush()
