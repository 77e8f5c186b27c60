"""Long answers streamed as DuckDB writes them (``claims payout`` and ``claims audit``
with ``--json`` or ``--csv``).

DuckDB renders each item's text (``projections.analytics.render``) and it goes to
stdout a page at a time, byte for byte what encoding the whole answer at once
would write.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import msgspec


def write_json(
    body: dict[str, Any],
    key: str,
    pages: Iterator[list[str]],
    after: Callable[[], dict[str, Any]],
) -> None:
    """One JSON document: the members of ``body`` before ``key``, then ``key`` holding
    the pages' items, then the members ``after()`` gives once the pages are read
    (what ``msgspec`` would encode for the whole ``body``)."""
    names = list(body)
    before = {name: body[name] for name in names[: names.index(key)]}
    out = sys.stdout.buffer
    out.write(msgspec.json.encode(before)[:-1] + b',"' + key.encode() + b'":[')
    separator = b""
    for page in pages:
        out.write(separator + ",".join(page).encode())
        separator = b","
    rest = after()
    out.write(b"]" + (b"," + msgspec.json.encode(rest)[1:] if rest else b"}") + b"\n")
    out.flush()


def write_csv(columns: Sequence[str], pages: Iterator[list[str]]) -> None:
    """A header of ``columns``, then the lines of every page; only ``position,headHash``
    when there are none (what ``csv.DictWriter`` wrote for no rows)."""
    first = next(pages, None)
    if first is None:
        sys.stdout.write("position,headHash\n")
        return
    sys.stdout.write(",".join(columns) + "\n")
    sys.stdout.write("\n".join(first) + "\n")
    for page in pages:
        sys.stdout.write("\n".join(page) + "\n")
    sys.stdout.flush()
