"""Checked reads at the store level, on every backend that keeps its log outside the
process: an edited, deleted or moved record stops ``read_all``, ``read_stream`` and
``append`` with ``CorruptLog`` naming the position, and nothing is appended after it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ledger.errors import CorruptLog
from ledger.store.factory import open_store
from ledger.store.protocol import ANY, EventStore
from tests import pg_server
from tests.conformance.helpers import note, notes

BACKENDS = ("sqlite", "jsonl", "postgresql")


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    """Six records in two streams: positions 1 to 6, ``a`` v1-v3 and ``b`` v1-v3."""
    yield from _opened(request.param, tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    """The same six records on a SQL backend, where a row can go without a trace in
    the others (a JSONL log with a line removed is refused as soon as it is indexed)."""
    yield from _opened(request.param, tmp_path)


def _opened(backend: str, tmp_path: Path) -> Iterator[EventStore]:
    url = {
        "sqlite": f"sqlite://{tmp_path / 'ledger.db'}",
        "jsonl": f"jsonl://{tmp_path / 'ledger.jsonl'}",
    }.get(backend) or pg_server.fresh_url()
    opened = open_store(url)
    for number in range(6):
        opened.append("ab"[number % 2], [note(number)], expected_version=ANY)
    yield opened
    opened.close()


def _edit(store: EventStore, position: int, old: bytes, new: bytes) -> None:
    """Replace bytes of the record at ``position`` behind the store's back."""
    if store.url.startswith("jsonl"):
        path: Path = store.path  # type: ignore[attr-defined]
        lines = path.read_bytes().split(b"\n")
        lines[position - 1] = lines[position - 1].replace(old, new)
        path.write_bytes(b"\n".join(lines))
        return
    ((body,),) = _sql(store, f"SELECT body FROM events WHERE position = {position}", ())
    _sql(
        store,
        f"UPDATE events SET body = {{m}} WHERE position = {position}",
        (bytes(body).replace(old, new),),
    )


def _delete(store: EventStore, position: int) -> None:
    if store.url.startswith("jsonl"):
        path: Path = store.path  # type: ignore[attr-defined]
        lines = path.read_bytes().split(b"\n")
        del lines[position - 1]
        path.write_bytes(b"\n".join(lines))
        return
    _sql(store, f"DELETE FROM events WHERE position = {position}", ())


def _sql(store: EventStore, statement: str, params: tuple[object, ...]) -> list[Any]:
    if store.url.startswith("sqlite"):
        with sqlite3.connect(store.path) as db:  # type: ignore[attr-defined]
            return db.execute(statement.format(m="?"), params).fetchall()
    with psycopg.connect(pg_server.SERVER, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{store.options.schema}"')  # type: ignore[attr-defined]
        cursor = conn.execute(statement.format(m="%s"), params)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture
def reopen() -> Iterator[Callable[[EventStore], EventStore]]:
    """Opens a fresh handle on a store (JSONL indexes the file again); closes it after."""
    opened: list[EventStore] = []

    def fresh(store: EventStore) -> EventStore:
        url = _pg_url(store) if store.url.startswith("postgres") else store.url
        opened.append(open_store(url))
        return opened[-1]

    yield fresh
    for handle in opened:
        handle.close()


def _pg_url(store: EventStore) -> str:
    return f"{pg_server.SERVER}?schema={store.options.schema}"  # type: ignore[attr-defined]


def test_an_edited_record_stops_read_all_at_its_position(
    store: EventStore, reopen: Callable[[EventStore], EventStore]
) -> None:
    """A title edited in record 3 is LOG_CORRUPT at position 3 for a whole-log read."""
    _edit(store, 3, b"event 2", b"event X")
    with pytest.raises(CorruptLog) as caught:
        list(reopen(store).read_all())
    assert caught.value.context["position"] == 3


def test_an_edited_record_stops_a_read_of_its_stream(
    store: EventStore, reopen: Callable[[EventStore], EventStore]
) -> None:
    """The stream read before a decision refuses the edited record."""
    _edit(store, 3, b"event 2", b"event X")
    with pytest.raises(CorruptLog) as caught:
        reopen(store).read_stream("a")
    assert caught.value.context["position"] == 3


def test_a_resumed_read_checks_the_link_to_its_anchor(sql_store: EventStore) -> None:
    """``read_all(after=3)`` refuses record 4 when record 3 was removed before it."""
    _delete(sql_store, 3)
    with pytest.raises(CorruptLog) as caught:
        list(sql_store.read_all(after=3))
    assert caught.value.context["position"] == 3


def test_a_deleted_middle_record_stops_read_all(
    store: EventStore, reopen: Callable[[EventStore], EventStore]
) -> None:
    """A record deleted in the middle is LOG_CORRUPT where it is missing."""
    _delete(store, 4)
    with pytest.raises(CorruptLog) as caught:
        list(reopen(store).read_all())
    assert caught.value.context["position"] == 4


def test_a_stream_with_a_record_removed_is_refused(
    store: EventStore, reopen: Callable[[EventStore], EventStore]
) -> None:
    """Stream ``a`` without its v2 (position 3) has a version gap: LOG_CORRUPT."""
    _delete(store, 3)
    with pytest.raises(CorruptLog):
        reopen(store).read_stream("a")


def test_append_refuses_a_head_whose_link_is_broken(sql_store: EventStore) -> None:
    """With the record before the head gone, an append writes nothing."""
    _delete(sql_store, 5)
    with pytest.raises(CorruptLog) as caught:
        sql_store.append("c", notes(1, first=10), expected_version=ANY)
    assert caught.value.context["position"] == 6
    assert sql_store.head().position == 6


def test_append_refuses_an_edited_head(
    store: EventStore, reopen: Callable[[EventStore], EventStore]
) -> None:
    """The last record edited: the next append refuses to seal onto it."""
    _edit(store, 6, b"event 5", b"event X")
    reopened = reopen(store)
    with pytest.raises(CorruptLog) as caught:
        reopened.append("c", notes(1, first=10), expected_version=ANY)
    assert caught.value.context["position"] == 6
