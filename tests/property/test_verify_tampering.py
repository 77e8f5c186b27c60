"""``verify`` never crashes on a tampered log, on any backend, and always names a position.

Each example writes a small log, takes its witness (``claims checkpoint``'s head),
then edits the stored log the way someone with the file or the database would:
random bytes of a record, a record deleted (the last one too), two swapped, a
record copied, and on the SQL backends a column set to another value or type, a
body stored as TEXT, the table dropped. ``verify_store`` with the witness must
report a problem at a position, never raise.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ledger.store.factory import open_store
from ledger.store.memory import MemoryStore
from ledger.store.protocol import EventStore
from ledger.verify import verify_store
from ledger.witness import Witness
from tests import pg_server
from tests.conformance.helpers import notes

RECORDS = 6
COLUMNS = ("position", "stream", "version", "event_id", "type", "recorded_us", "hash", "body")
VALUES = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.binary(max_size=20),
)
"""What a hand edit can put in a column: any of SQL's types."""


class Raw:
    """The stored log of one backend, edited behind its store's back."""

    def __init__(self, store: EventStore, backend: str) -> None:
        self.store = store
        self.backend = backend

    def bodies(self) -> list[bytes]:
        return [entry.body for entry in self.store.raw_entries()]

    def set_body(self, index: int, body: object) -> None:
        if isinstance(self.store, MemoryStore):
            self.store._stored[index] = body  # type: ignore[call-overload]
        elif self.backend == "jsonl":
            self._rewrite(lambda lines: [*lines[:index], body, *lines[index + 1 :]])
        else:
            self.sql("UPDATE events SET body = {m} WHERE position = {m}", (body, index + 1))

    def delete(self, index: int) -> None:
        if isinstance(self.store, MemoryStore):
            del self.store._stored[index]
        elif self.backend == "jsonl":
            self._rewrite(lambda lines: [*lines[:index], *lines[index + 1 :]])
        else:
            self.sql("DELETE FROM events WHERE position = {m}", (index + 1,))

    def set_column(self, index: int, column: str, value: object) -> None:
        self.sql(f"UPDATE events SET {column} = {{m}} WHERE position = {{m}}", (value, index + 1))

    def column(self, index: int, column: str) -> object:
        rows = self.sql(f"SELECT {column} FROM events WHERE position = {{m}}", (index + 1,))
        return rows[0][0] if rows else None

    def sql(self, statement: str, params: tuple[object, ...] = ()) -> list[Any]:
        if self.backend == "sqlite":
            with sqlite3.connect(self.store.path) as db:  # type: ignore[attr-defined]
                return db.execute(statement.format(m="?"), params).fetchall()
        schema = self.store.options.schema  # type: ignore[attr-defined]
        with psycopg.connect(pg_server.SERVER, autocommit=True) as conn:
            conn.execute(f'SET search_path TO "{schema}"')
            cursor = conn.execute(statement.format(m="%s"), params)
            return cursor.fetchall() if cursor.description else []

    def _rewrite(self, edit: Callable[[list[bytes]], list[object]]) -> None:
        path: Path = self.store.path  # type: ignore[attr-defined]
        lines = path.read_bytes().split(b"\n")[:-1]
        path.write_bytes(b"".join(bytes(line) + b"\n" for line in edit(lines)))  # type: ignore[call-overload]


@contextmanager
def _log(backend: str) -> Iterator[tuple[Raw, Witness]]:
    with tempfile.TemporaryDirectory(prefix="claims-tamper-") as folder:
        url = {
            "memory": "memory:",
            "sqlite": f"sqlite://{folder}/ledger.db",
            "jsonl": f"jsonl://{folder}/ledger.jsonl",
        }.get(backend) or pg_server.fresh_url()
        store = open_store(url)
        try:
            for number in range(RECORDS // 2):
                store.append(f"s{number % 2}", notes(2, first=2 * number), expected_version=-1)
            head = store.head()
            yield Raw(store, backend), Witness(position=head.position, hash=head.hash)
        finally:
            store.close()


def _tamper(raw: Raw, data: st.DataObject) -> None:
    """One edit drawn from what this backend's storage allows."""
    index = data.draw(st.integers(0, RECORDS - 1), label="record")
    kinds = ["byte", "delete", "swap", "copy"]
    if raw.backend in ("sqlite", "postgresql"):
        kinds += ["column"]
    if raw.backend == "sqlite":
        kinds += ["text", "drop"]
    kind = data.draw(st.sampled_from(kinds), label="kind")
    bodies = raw.bodies()
    if kind == "byte":
        body = bytearray(bodies[index])
        at = data.draw(st.integers(0, len(body) - 1), label="at")
        new = data.draw(st.integers(0, 255).filter(lambda b: b != body[at]), label="byte")
        body[at] = new
        raw.set_body(index, bytes(body))
    elif kind == "delete":
        raw.delete(index)
    elif kind == "swap":
        other = data.draw(st.integers(0, RECORDS - 1).filter(lambda i: i != index), label="other")
        raw.set_body(index, bodies[other])
        raw.set_body(other, bodies[index])
    elif kind == "copy":
        other = data.draw(st.integers(0, RECORDS - 1).filter(lambda i: i != index), label="other")
        raw.set_body(index, bodies[other])
    elif kind == "column":
        _set_column(raw, index, data)
    elif kind == "text":
        raw.sql("UPDATE events SET body = CAST(body AS TEXT) WHERE position = ?", (index + 1,))
    else:
        raw.sql("DROP TABLE events")


def _set_column(raw: Raw, index: int, data: st.DataObject) -> None:
    column = data.draw(st.sampled_from(COLUMNS), label="column")
    value: Any = data.draw(VALUES, label="value")
    before = raw.column(index, column)
    try:
        raw.set_column(index, column, value)
    except (sqlite3.Error, psycopg.Error, OverflowError):
        assume(False)  # the engine refused the edit: nothing was changed
    assume(raw.column(index, column) != before)


def _check(backend: str, data: st.DataObject) -> None:
    with _log(backend) as (raw, witness):
        _tamper(raw, data)
        report = verify_store(raw.store, witness=witness)
        assert report.problem is not None
        assert isinstance(report.problem.position, int)
        assert report.problem.position >= 1


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("backend", ["memory", "sqlite", "jsonl"])
@FAST
@given(data=st.data())
def test_verify_names_a_position_after_any_edit(backend: str, data: st.DataObject) -> None:
    """Any edit of a memory, SQLite or JSONL log fails verify at a named position."""
    _check(backend, data)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_verify_names_a_position_after_any_edit_on_postgresql(data: st.DataObject) -> None:
    """Any edit of a PostgreSQL log fails verify at a named position."""
    _check("postgresql", data)
