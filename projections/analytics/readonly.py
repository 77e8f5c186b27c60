"""``claims sql``: one read-only query over the analytics tables.

Two guards: only a single ``SELECT`` (or ``EXPLAIN``) statement is accepted, with a
clear refusal otherwise; and the query runs on a connection opened read-only, with
access to every other file switched off and the configuration locked, so that
nothing a query says can write (``COPY``, ``ATTACH``, ``INSTALL``, ``SET``).
Times come back as RFC 3339 text in UTC.
"""

from __future__ import annotations

from typing import Any

import duckdb
import msgspec

from ledger.errors import InvalidInput

ALLOWED = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})
_TIMESTAMPTZ = "TIMESTAMP WITH TIME ZONE"


class QueryResult(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    columns: list[str]
    types: list[str]
    rows: list[list[Any]]


def check_read_only(sql: str) -> duckdb.Statement:
    """The one statement of ``sql`` if it only reads; ``InvalidInput`` otherwise."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise InvalidInput(f"the query does not parse: {exc}") from exc
    if len(statements) != 1:
        raise InvalidInput(f"give exactly one statement, not {len(statements)}")
    statement = statements[0]
    if statement.type not in ALLOWED:
        kind = statement.type.name
        raise InvalidInput(
            f"only SELECT queries are allowed; this is a {kind} statement", statement=kind
        )
    return statement


def run_query(con: duckdb.DuckDBPyConnection, sql: str) -> QueryResult:
    """Run one read-only statement on ``con`` (which should itself be read-only)."""
    statement = check_read_only(sql)
    try:
        if statement.type == duckdb.StatementType.SELECT:
            relation = con.sql(statement.query)
            relation = relation.project(_readable(relation))
            return QueryResult(
                columns=list(relation.columns),
                types=[str(kind) for kind in relation.types],
                rows=[list(row) for row in relation.fetchall()],
            )
        cursor = con.execute(statement.query)
        columns = [column[0] for column in cursor.description or []]
        rows = [list(row) for row in cursor.fetchall()]
        return QueryResult(columns=columns, types=["VARCHAR"] * len(columns), rows=rows)
    except duckdb.Error as exc:
        raise InvalidInput(f"the query failed: {exc}") from exc


def _readable(relation: duckdb.DuckDBPyRelation) -> str:
    """Columns by position, times with a time zone as RFC 3339 text."""
    parts = []
    for index, (name, kind) in enumerate(zip(relation.columns, relation.types, strict=True), 1):
        quoted = '"' + name.replace('"', '""') + '"'
        text = str(kind)
        if text == _TIMESTAMPTZ:
            parts.append(f"strftime(#{index}, '%Y-%m-%dT%H:%M:%S.%fZ') AS {quoted}")
        elif _TIMESTAMPTZ in text:
            parts.append(f"CAST(#{index} AS VARCHAR) AS {quoted}")
        else:
            parts.append(f"#{index} AS {quoted}")
    return ", ".join(parts)
