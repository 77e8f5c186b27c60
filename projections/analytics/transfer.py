"""Moving rows between Python and DuckDB in bulk.

Into DuckDB: rows are encoded by msgspec as newline-delimited JSON into a file of
our own, closed before DuckDB's ``read_json`` reads it with the table's column
types (never ``executemany``, which manages a few thousand rows a second). Out of
DuckDB: times are selected as RFC 3339 text and converted back by msgspec, so no
time zone library is needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TypeVar

import duckdb
import msgspec

RowT = TypeVar("RowT", bound=msgspec.Struct)

_encoder = msgspec.json.Encoder()
_TIMESTAMP = "TIMESTAMP WITH TIME ZONE"


class TableShape:
    """A table's columns and types, checked against its row type's fields."""

    def __init__(self, con: duckdb.DuckDBPyConnection, table: str, row_type: type[msgspec.Struct]):
        fields = msgspec.structs.fields(row_type)
        self.table = table
        self.row_type = row_type
        self.types = list(_column_types(con, table, tuple(field.name for field in fields)))
        self.keys = [field.encode_name for field in fields]
        self.names = [field.name for field in fields]

    def json_columns(self) -> str:
        """``read_json``'s ``columns`` argument: short key to column type."""
        pairs = ", ".join(
            f"'{key}': '{kind}'" for key, kind in zip(self.keys, self.types, strict=True)
        )
        return "{" + pairs + "}"

    def source(self, path: Path) -> str:
        """A query over a rows file, with the table's column names."""
        columns = ", ".join(f'"{k}" AS "{n}"' for k, n in zip(self.keys, self.names, strict=True))
        quoted = str(path).replace("'", "''")
        return (
            f"SELECT {columns} FROM read_json('{quoted}', format = 'newline_delimited',"
            f" columns = {self.json_columns()})"
        )

    def readable(self) -> str:
        """A select list that returns times as text (converted back by ``fetch``)."""
        return ", ".join(
            f"strftime({name}, '%Y-%m-%dT%H:%M:%S.%fZ')" if kind == _TIMESTAMP else name
            for name, kind in zip(self.names, self.types, strict=True)
        )


_TYPES: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {}


def _column_types(
    con: duckdb.DuckDBPyConnection, table: str, names: tuple[str, ...]
) -> tuple[str, ...]:
    """The table's column types, asked once per process (the schema is fixed per
    ``SCHEMA_VERSION``); the columns must be the row type's fields, in order."""
    key = (table, names)
    if key not in _TYPES:
        columns = con.execute(
            "SELECT column_name, data_type FROM duckdb_columns()"
            " WHERE database_name = current_database() AND schema_name = 'main'"
            " AND table_name = ? ORDER BY column_index",
            [table],
        ).fetchall()
        if tuple(name for name, _ in columns) != names:
            raise RuntimeError(f"the columns of {table} do not match its row type")
        _TYPES[key] = tuple(kind for _, kind in columns)
    return _TYPES[key]


def write_rows(rows: Iterable[msgspec.Struct], path: Path) -> int:
    """Encode rows into ``path``, one JSON object a line; returns how many."""
    buffer = bytearray()
    count = 0
    for row in rows:
        _encoder.encode_into(row, buffer, -1)
        buffer += b"\n"
        count += 1
    path.write_bytes(buffer)
    return count


def fetch(
    con: duckdb.DuckDBPyConnection,
    shape: TableShape,
    row_type: type[RowT],
    where: str,
    params: Sequence[object] = (),
) -> list[RowT]:
    """Rows of ``shape.table`` matching ``where``, as ``row_type``."""
    query = f"SELECT {shape.readable()} FROM {shape.table} WHERE {where}"
    found = con.execute(query, list(params)).fetchall()
    json_columns = [i for i, kind in enumerate(shape.types) if kind == "JSON"]
    rows = []
    for values in found:
        cells = list(values)
        for index in json_columns:
            if isinstance(cells[index], str):
                cells[index] = msgspec.json.decode(cells[index])
        rows.append(msgspec.convert(dict(zip(shape.keys, cells, strict=True)), row_type))
    return rows
