"""A period of time for the questions: ``since`` (inclusive) to ``until`` (exclusive)."""

from __future__ import annotations

from datetime import datetime

import duckdb
import msgspec


class Window(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """``since <= t < until``; either end may be open (``None``)."""

    since: datetime | None = None
    until: datetime | None = None

    def sql(self, column: str) -> tuple[str, list[object]]:
        """A condition on ``column`` and its parameters (``TRUE`` for an open window)."""
        parts: list[str] = []
        params: list[object] = []
        if self.since is not None:
            parts.append(f"{column} >= ?")
            params.append(self.since)
        if self.until is not None:
            parts.append(f"{column} < ?")
            params.append(self.until)
        return (" AND ".join(parts) or "TRUE"), params

    def holds(self, when: datetime) -> bool:
        """The same test in Python (for folds that do not use DuckDB)."""
        if self.since is not None and when < self.since:
            return False
        return self.until is None or when < self.until


def records(
    con: duckdb.DuckDBPyConnection, query: str, params: list[object]
) -> list[dict[str, object]]:
    """Rows of a query as dicts keyed by column name in camelCase (``task_id`` becomes
    ``taskId``), the names the result Structs are encoded with."""
    cursor = con.execute(query, params)
    names = [camel(column[0]) for column in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)
