"""The statements every command runs, sent through libpq's prepared-statement calls.

``Connection.execute`` costs about 35 to 45 us of Python per statement on this
machine kind, beside about 7 us for the same statement sent by libpq itself: a new
cursor with its adapters map, the query converted, each parameter dumped through
psycopg's generic machinery, the prepare bookkeeping, the non-blocking wait loop.
A claim cycle runs three such statements (the task's read, the session's read and
its share of a group's append), and with sixteen writer threads in one process
that Python is what bounds the rate (docs/benchmarks.md, issue 14).

A ``Statement`` runs unnamed the first time a connection runs it (one round trip, so
a one-shot CLI command pays nothing more), is prepared the second time under a name of
its own (psycopg's automatic ones are ``_pg3_N``), and is then executed with
``PGconn.exec_prepared``; both calls release the GIL while libpq waits on the server.
Its parameters are encoded here by their Python type (``encoded``), its rows
loaded by the connection's own loaders (a ``Transformer``), binary, so a row is
what ``conn.execute(query, params, binary=True)`` gives. An error result is
raised as the psycopg error of its SQLSTATE, the class ``execute`` raises, so the
store's translation (``PostgresStore._run``) and its retries treat both alike.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import psycopg
from psycopg import errors
from psycopg.adapt import Transformer
from psycopg.pq import DiagnosticField, ExecStatus, Format, TransactionStatus

from ledger.store.postgres_arrays import Array

if TYPE_CHECKING:
    from psycopg import Connection
    from psycopg.pq.abc import PGresult

Param = str | int | bytes | Array | None
"""What a statement's parameter may be: text, an integer, bytea, an encoded array, NULL."""

_MARK = re.compile(r"%s")
_NO_SUCH_STATEMENT = "26000"
"""``invalid_sql_statement_name``: the server no longer knows the statement's name."""
_OK = (ExecStatus.TUPLES_OK, ExecStatus.COMMAND_OK)


class Statement:
    """A query with psycopg's ``%s`` marks, prepared under ``name`` on first use."""

    __slots__ = ("name", "query")

    def __init__(self, name: str, query: str) -> None:
        self.name = name.encode()
        numbers = iter(range(1, query.count("%s") + 1))
        self.query = _MARK.sub(lambda _: f"${next(numbers)}", query).encode()


_prepared: weakref.WeakKeyDictionary[Connection, dict[bytes, bool]] = weakref.WeakKeyDictionary()
"""Per open connection, the statements it has run: prepared (True) or run once,
unnamed (False). A connection the pool replaces is a new key, and a closed one's
entry goes with it."""


def run(conn: Connection, statement: Statement, params: Sequence[Param]) -> list[tuple[Any, ...]]:
    """The rows of ``statement`` with ``params`` on ``conn``, binary, as tuples.

    The first run on a connection is sent unnamed (``exec_params``: one round trip, as
    ``execute`` sends it), so a one-shot command (a hook's ``claims heartbeat``) pays
    no prepare; the second prepares the statement, and every run after that executes it."""
    values, formats = encoded(params)
    seen = _prepared.get(conn)
    if seen is None:
        seen = _prepared.setdefault(conn, {})
    prepared = seen.get(statement.name)
    if prepared is None or conn.pgconn.transaction_status != TransactionStatus.IDLE:
        # Unnamed on a first run, and inside a transaction block: there a statement
        # the server lost (psycopg sends DEALLOCATE ALL after a ROLLBACK) would abort
        # the transaction before it could be prepared again.
        seen.setdefault(statement.name, False)
        result = conn.pgconn.exec_params(
            statement.query,
            cast("list[bytes]", values),
            param_formats=formats,
            result_format=Format.BINARY,
        )
        if result.status not in _OK:
            raise _error(conn, result)
    else:
        if not prepared:
            _prepare(conn, statement, seen)
        result = _execute(conn, statement, values, formats)
        if result.status not in _OK:
            error = _error(conn, result)
            if error.sqlstate != _NO_SUCH_STATEMENT:
                raise error
            # The session lost it: psycopg sends DEALLOCATE ALL after a ROLLBACK or
            # DDL on the connection, when it has prepared statements of its own.
            _prepare(conn, statement, seen)
            result = _execute(conn, statement, values, formats)
            if result.status not in _OK:
                raise _error(conn, result)
    loader = Transformer(conn)
    loader.set_pgresult(result)
    return loader.load_rows(0, result.ntuples, tuple)


def encoded(params: Sequence[Param]) -> tuple[list[bytes | None], list[int]]:
    """Each parameter's bytes and format: text for ``str`` and ``int`` (the server
    parses them as the type the statement gives the parameter), binary for ``bytes``
    (``bytea``) and an ``Array`` (already in PostgreSQL's binary array format)."""
    values: list[bytes | None] = []
    formats: list[int] = []
    for param in params:
        if param is None:
            values.append(None)
            formats.append(Format.TEXT)
        elif isinstance(param, str):
            values.append(param.encode())
            formats.append(Format.TEXT)
        elif isinstance(param, Array):
            values.append(param.data)
            formats.append(Format.BINARY)
        elif isinstance(param, bytes):
            values.append(param)
            formats.append(Format.BINARY)
        elif isinstance(param, int) and not isinstance(param, bool):
            values.append(b"%d" % param)
            formats.append(Format.TEXT)
        else:
            raise TypeError(f"a prepared statement cannot send a {type(param).__name__}")
    return values, formats


def _execute(
    conn: Connection, statement: Statement, values: list[bytes | None], formats: list[int]
) -> PGresult:
    """One execution of the prepared statement; libpq takes None for a NULL, which
    psycopg's stub leaves out."""
    sent = cast("list[bytes]", values)
    return conn.pgconn.exec_prepared(
        statement.name, sent, param_formats=formats, result_format=Format.BINARY
    )


def _prepare(conn: Connection, statement: Statement, seen: dict[bytes, bool]) -> None:
    seen[statement.name] = False
    result = conn.pgconn.prepare(statement.name, statement.query)
    if result.status not in _OK:
        raise _error(conn, result)
    seen[statement.name] = True


def _error(conn: Connection, result: PGresult) -> psycopg.Error:
    """The psycopg error of an error result, as ``execute`` would raise it; a result
    without a SQLSTATE (the connection failed under it) is an ``OperationalError``."""
    if result.error_field(DiagnosticField.SQLSTATE) is None:
        return psycopg.OperationalError(result.get_error_message(conn.info.encoding))
    return errors.error_from_result(result, encoding=conn.info.encoding)
