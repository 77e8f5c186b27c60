"""The append's arrays, sent in PostgreSQL's binary format, arrive as the values they hold."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.store.postgres_arrays import Array, ByteaArray, Int4Array, Int8Array, TextArray
from tests import pg_server

_INT8 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
_INT4 = st.integers(min_value=-(2**31), max_value=2**31 - 1)


@pytest.fixture(scope="module")
def conn() -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(pg_server.SERVER, autocommit=True) as connection:
        yield connection


def _echo(conn: psycopg.Connection[tuple[object, ...]], array: Array, cast: str) -> object:
    row = conn.execute(f"SELECT %s::{cast}, cardinality(%s::{cast})", (array, array)).fetchone()
    assert row is not None
    return row[0] if row[1] else []


@settings(max_examples=60, deadline=None)
@given(items=st.lists(st.binary(max_size=300), max_size=20))
def test_bytea_arrays_arrive_byte_for_byte(
    conn: psycopg.Connection[tuple[object, ...]], items: list[bytes]
) -> None:
    assert _echo(conn, ByteaArray.of(items), "bytea[]") == items


@settings(max_examples=60, deadline=None)
@given(
    items=st.lists(st.text(st.characters(exclude_characters="\x00", codec="utf-8")), max_size=20)
)
def test_text_arrays_arrive_as_the_strings(
    conn: psycopg.Connection[tuple[object, ...]], items: list[str]
) -> None:
    assert _echo(conn, TextArray.of(items), "text[]") == items


@settings(max_examples=60, deadline=None)
@given(items=st.lists(st.none() | _INT8, max_size=20))
def test_bigint_arrays_keep_their_nulls(
    conn: psycopg.Connection[tuple[object, ...]], items: list[int | None]
) -> None:
    assert _echo(conn, Int8Array.of(items), "bigint[]") == items


@settings(max_examples=60, deadline=None)
@given(items=st.lists(_INT4, max_size=20))
def test_int_arrays_arrive_as_the_numbers(
    conn: psycopg.Connection[tuple[object, ...]], items: list[int]
) -> None:
    assert _echo(conn, Int4Array.of(items), "int[]") == items


def test_an_array_is_sent_with_its_type(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """Without a cast the server still knows each array's element type."""
    row = conn.execute(
        "SELECT pg_typeof(%s)::text, pg_typeof(%s)::text, pg_typeof(%s)::text, pg_typeof(%s)::text",
        (ByteaArray.of([b"a"]), TextArray.of(["a"]), Int8Array.of([1]), Int4Array.of([1])),
    ).fetchone()
    assert row == ("bytea[]", "text[]", "bigint[]", "integer[]")
