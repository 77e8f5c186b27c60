"""``claims serve --workers 2``: two processes on one port over one store, each
streaming every event, whichever process appended it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ledger.store.factory import open_store
from ledger.verify import verify_store
from tests.http.server import Server, running
from tests.http.sse import open_stream

TASKS = 12
STREAMS = 4


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with two worker processes on a fresh SQLite store."""
    with running(tmp_path_factory.mktemp("workers"), args=("--workers", "2")) as server:
        yield server


def _children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


def _each_on_a_new_connection(server: Server, count: int) -> list[httpx.Response]:
    """Register and claim ``count`` tasks, each request on a connection of its own,
    so that the kernel spreads them over the workers."""
    answers = []
    for number in range(count):
        task_id = f"spread-{number}"
        body = {"taskId": task_id, "title": task_id}
        answers.append(httpx.post(server.url("/api/tasks"), json=body, timeout=30))
        claim = {"sessionId": f"agent-{number}"}
        claimed = httpx.post(server.url(f"/api/tasks/{task_id}/claim"), json=claim, timeout=30)
        answers.append(claimed)
    return answers


def test_the_server_runs_two_worker_processes(served: Server) -> None:
    """The supervisor started two processes that serve the port."""
    assert len(_children(served.process.pid)) >= 2


def test_every_stream_carries_every_event_of_every_worker(served: Server) -> None:
    """Streams opened on any worker see each appended position once, in order."""
    start = served.head()
    with contextlib.ExitStack() as stack:
        streams = [
            stack.enter_context(open_stream(served.base_url, after=start)) for _ in range(STREAMS)
        ]
        answers = _each_on_a_new_connection(served, TASKS)
        assert all(answer.status_code in (200, 201) for answer in answers)
        end = served.head()
        for stream in streams:
            seen = [message.id for message in stream.take(end - start)]
            assert seen == list(range(start + 1, end + 1))


def test_the_log_written_by_two_workers_verifies(served: Server) -> None:
    """Appends from both processes form one gapless, verified chain."""
    _each_on_a_new_connection(served, 4)
    store = open_store(served.db)
    try:
        report = verify_store(store)
    finally:
        store.close()
    assert report.ok, report.problem
