"""An audit trail written by DuckDB as text, a page at a time.

An agent type's trail over a long history holds every heartbeat of every claim made
under it; here DuckDB renders each entry's JSON object (what ``msgspec`` encodes an
``Entry`` to) or CSV line (what ``claims audit --csv`` writes), and the caller
streams pages of them with ``fetchmany``, byte for byte what the Structs give.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final, Literal

import duckdb

from projections.analytics import render
from projections.analytics.audit import Subject, cap_of, trail_condition
from projections.analytics.window import Window

Form = Literal["json", "csv"]

PAGE: Final = 20_000

_MEMBERS: Final = (
    ("position", "int"),
    ("occurredAt", "time"),
    ("type", "str"),
    ("taskId", "str"),
    ("sessionId", "str"),
    ("actor", "str"),
    ("fencingToken", "int"),
    ("previousToken", "int"),
    ("fromSession", "str"),
    ("reason", "str"),
    ("forced", "bool"),
    ("forcedBy", "str"),
    ("status", "str"),
    ("expiresAt", "time"),
    ("correlationId", "str"),
)
"""An ``Entry``'s members in order, with their kinds."""

CSV_COLUMNS: Final = (*(name for name, _ in _MEMBERS), "headHash")
"""The CSV columns: an entry's members, whose ``position`` the answer's position
replaces (as the CSV of every answer carries it), then the head hash."""

_JSON_RENDER = {
    "int": render.json_int,
    "time": render.json_time,
    "str": render.json_str,
    "bool": render.json_bool,
}
_CSV_RENDER = {
    "int": render.csv_number,
    "time": render.csv_iso,
    "str": render.csv_str,
    "bool": render.csv_bool,
}


def _column(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


_JSON = render.json_object([(name, _JSON_RENDER[kind](_column(name))) for name, kind in _MEMBERS])
_CSV = render.csv_line(
    ["?", *(_CSV_RENDER[kind](_column(name)) for name, kind in _MEMBERS[1:]), "?"]
)


def pages(
    con: duckdb.DuckDBPyConnection,
    form: Form,
    subject: Subject,
    *,
    window: Window,
    heartbeats: bool = True,
    limit: int | None = None,
    position: int = 0,
    head_hash: str = "",
    page: int = PAGE,
) -> Iterator[list[str]]:
    """The trail's entries, oldest first: ``json``, each entry's JSON object; ``csv``,
    each entry's CSV line (``CSV_COLUMNS``, with ``position`` and ``head_hash``) without
    its line end. One more than ``limit`` is rendered: the caller can tell the
    trail was cut (see ``Truncation``)."""
    condition, params = trail_condition(subject, window, heartbeats=heartbeats)
    select = _JSON if form == "json" else _CSV
    head = [] if form == "json" else [str(position), head_hash]
    query = f"SELECT {select} FROM events e WHERE {condition} ORDER BY position LIMIT ?"
    cursor = con.execute(query, [*head, *params, cap_of(limit) + 1])
    return _pages(cursor, page)


class Truncation:
    """Passes on at most ``cap_of(limit)`` entries of pages rendered one past it, and
    says afterwards whether there were more."""

    def __init__(self, limit: int | None) -> None:
        self.left = cap_of(limit)
        self.truncated = False

    def __call__(self, pages: Iterator[list[str]]) -> Iterator[list[str]]:
        for page in pages:
            if len(page) > self.left:
                self.truncated = True
                page = page[: self.left]
            self.left -= len(page)
            if page:
                yield page


def _pages(cursor: duckdb.DuckDBPyConnection, page: int) -> Iterator[list[str]]:
    while rows := cursor.fetchmany(page):
        yield [row[0] for row in rows]
