"""The SQL renderings of ``projections.analytics.render`` against what Python writes:
``msgspec.json`` for JSON, ``csv.writer`` for CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import duckdb
import msgspec
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from projections.analytics import render

TEXT = st.one_of(st.none(), st.text(), st.text(alphabet=st.characters(max_codepoint=0x7F)))
FLOATS = st.floats(allow_nan=False, allow_infinity=False)
TIMES = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    yield connection
    connection.close()


def _rendered(
    con: duckdb.DuckDBPyConnection, expression: Callable[[str], str], kind: str, value: object
) -> str:
    row = con.execute(f"SELECT {expression('v')} FROM (SELECT ?::{kind} AS v)", [value]).fetchone()
    assert row is not None
    return str(row[0])


def _csv(value: object) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(["", "" if value is None else value])
    return out.getvalue()[1:-1]


@given(text=TEXT)
@example(text="a literal \\u001F, \\u00 and a real \x1f")
def test_json_str_is_msgspecs_encoding(con: duckdb.DuckDBPyConnection, text: str | None) -> None:
    """A string (or null) renders as msgspec encodes it, control characters included."""
    assert _rendered(con, render.json_str, "VARCHAR", text) == msgspec.json.encode(text).decode()


@given(number=FLOATS)
def test_json_float_is_msgspecs_encoding(con: duckdb.DuckDBPyConnection, number: float) -> None:
    """A finite double renders as msgspec encodes it, exponent included."""
    expected = msgspec.json.encode(number).decode()
    assert _rendered(con, render.json_float, "DOUBLE", number) == expected


@given(when=TIMES)
def test_json_time_is_msgspecs_encoding(con: duckdb.DuckDBPyConnection, when: datetime) -> None:
    """A time renders as msgspec encodes an aware datetime, microseconds only when some."""
    expected = msgspec.json.encode(when).decode()
    assert _rendered(con, render.json_time, "TIMESTAMPTZ", when) == expected


@given(text=TEXT)
def test_csv_str_is_what_csv_writer_writes(
    con: duckdb.DuckDBPyConnection, text: str | None
) -> None:
    """A string (or null) renders as a CSV field the way csv.writer quotes it."""
    assert _rendered(con, render.csv_str, "VARCHAR", text) == _csv(text)


@given(number=st.one_of(st.none(), FLOATS))
def test_csv_number_is_what_csv_writer_writes(
    con: duckdb.DuckDBPyConnection, number: float | None
) -> None:
    """A double (or null) renders as csv.writer writes a float."""
    assert _rendered(con, render.csv_number, "DOUBLE", number) == _csv(number)


@given(when=TIMES)
def test_csv_time_is_what_csv_writer_writes(con: duckdb.DuckDBPyConnection, when: datetime) -> None:
    """A time renders as csv.writer writes an aware datetime (its str)."""
    assert _rendered(con, render.csv_time, "TIMESTAMPTZ", when) == _csv(when)
