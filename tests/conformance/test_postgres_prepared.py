"""The write path's statements through libpq's prepared calls give what psycopg's
``execute`` gives: the same rows, the same error classes, and a working connection
after the server forgot the statement or lost the session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg.pq import Format

from ledger.store.postgres_arrays import ByteaArray, Int8Array, TextArray
from ledger.store.postgres_prepared import Param, Statement, encoded, run
from tests import pg_server

Conn = psycopg.Connection[tuple[Any, ...]]
_ECHO = Statement(
    "claims_test_echo",
    "SELECT %s::text, %s::bigint, %s::bytea, %s::text[], %s::bigint[], %s::bytea[],"
    " %s::bigint IS NULL",
)


@pytest.fixture
def conn() -> Iterator[Conn]:
    with psycopg.connect(pg_server.SERVER, autocommit=True) as connection:
        yield connection


def test_a_statement_numbers_its_marks_in_order() -> None:
    statement = Statement("claims_x", "SELECT %s, %s FROM t WHERE a = %s")
    assert statement.query == b"SELECT $1, $2 FROM t WHERE a = $3"
    assert statement.name == b"claims_x"


def test_parameters_are_sent_as_text_or_binary_by_their_type() -> None:
    array = TextArray.of(["a"])
    values, formats = encoded(["é", 42, -7, b"\x00\x01", array, None])
    assert values == ["é".encode(), b"42", b"-7", b"\x00\x01", array.data, None]
    assert formats == [Format.TEXT, Format.TEXT, Format.TEXT, Format.BINARY, Format.BINARY, 0]


@pytest.mark.parametrize("odd", [True, 1.5, object()])
def test_a_parameter_of_another_type_is_refused_before_anything_is_sent(odd: object) -> None:
    with pytest.raises(TypeError, match="cannot send"):
        encoded([odd])  # type: ignore[list-item]


@settings(max_examples=40, deadline=None)
@given(
    text=st.text(st.characters(exclude_characters="\x00", codec="utf-8")),
    number=st.integers(min_value=-(2**63), max_value=2**63 - 1),
    raw=st.binary(max_size=200),
    texts=st.lists(st.text(st.characters(exclude_characters="\x00", codec="utf-8")), max_size=5),
    numbers=st.lists(st.none() | st.integers(min_value=0, max_value=2**40), max_size=5),
    raws=st.lists(st.binary(max_size=50), max_size=5),
    null=st.none() | st.integers(min_value=0, max_value=9),
)
def test_rows_equal_what_execute_gives(
    text: str,
    number: int,
    raw: bytes,
    texts: list[str],
    numbers: list[int | None],
    raws: list[bytes],
    null: int | None,
) -> None:
    with psycopg.connect(pg_server.SERVER, autocommit=True) as conn:
        prepared: tuple[Param, ...] = (
            text,
            number,
            raw,
            TextArray.of(texts),
            Int8Array.of(numbers),
            ByteaArray.of(raws),
            null,
        )
        plain = (text, number, raw, texts, numbers, raws, null)
        query = _ECHO.query.decode()
        for mark in range(7, 0, -1):
            query = query.replace(f"${mark}", "%s")
        expected = conn.execute(query, plain, binary=True).fetchall()
        assert run(conn, _ECHO, prepared) == expected
        assert run(conn, _ECHO, prepared) == expected  # the second time, prepared already


def _prepared_here(conn: Conn, name: str) -> bool:
    row = conn.execute("SELECT count(*) FROM pg_prepared_statements WHERE name = %s", (name,))
    found = row.fetchone()
    assert found is not None
    return bool(found[0])


def test_a_statement_runs_unnamed_first_and_is_prepared_from_its_second_run(conn: Conn) -> None:
    square = Statement("claims_test_square", "SELECT %s::int * %s::int")
    assert run(conn, square, [3, 3]) == [(9,)]
    assert not _prepared_here(conn, "claims_test_square")  # a one-shot command prepares nothing
    assert run(conn, square, [4, 4]) == [(16,)]
    assert _prepared_here(conn, "claims_test_square")
    assert run(conn, square, [5, 5]) == [(25,)]


def test_a_server_error_is_the_class_execute_raises(conn: Conn) -> None:
    divide = Statement("claims_test_divide", "SELECT 1 / %s::int")
    assert run(conn, divide, [2]) == [(0,)]
    with pytest.raises(psycopg.errors.DivisionByZero):
        run(conn, divide, [0])  # prepared by now
    fresh = Statement("claims_test_divide_once", "SELECT 1 / %s::int")
    with pytest.raises(psycopg.errors.DivisionByZero):
        run(conn, fresh, [0])  # unnamed
    missing = Statement("claims_test_missing", "SELECT * FROM claims_no_such_table WHERE 1 = %s")
    with pytest.raises(psycopg.errors.UndefinedTable):
        run(conn, missing, [1])
    assert run(conn, divide, [4]) == [(0,)]  # the connection is still usable


def test_a_statement_the_server_forgot_is_prepared_again(conn: Conn) -> None:
    double = Statement("claims_test_double", "SELECT 2 * %s::int")
    assert run(conn, double, [3]) == [(6,)]
    assert run(conn, double, [4]) == [(8,)]
    assert _prepared_here(conn, "claims_test_double")
    conn.execute("DEALLOCATE ALL")
    assert run(conn, double, [5]) == [(10,)]


def test_a_lost_session_is_an_operational_error_on_a_broken_connection(conn: Conn) -> None:
    ping = Statement("claims_test_ping", "SELECT %s::int")
    assert run(conn, ping, [1]) == [(1,)]
    pid = conn.info.backend_pid
    with psycopg.connect(pg_server.SERVER, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(psycopg.OperationalError):
        run(conn, ping, [2])
    assert conn.broken


def test_inside_a_transaction_a_forgotten_statement_runs_unnamed(conn: Conn) -> None:
    """psycopg sends DEALLOCATE ALL after a ROLLBACK when it prepared statements of its
    own; a prepared statement the server lost must not abort the transaction around it
    (a re-prepare cannot run in an aborted one), and is prepared again outside."""
    triple = Statement("claims_test_triple", "SELECT 3 * %s::int")
    assert run(conn, triple, [1]) == [(3,)]
    assert run(conn, triple, [2]) == [(6,)]
    conn.execute("DEALLOCATE ALL")
    with conn.transaction():
        assert run(conn, triple, [3]) == [(9,)]
        assert run(conn, triple, [4]) == [(12,)]
    assert run(conn, triple, [5]) == [(15,)]
    assert _prepared_here(conn, "claims_test_triple")
