"""Concurrent clients through the API: one winner per task, every task claimed once."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import TypeVar

import httpx
import pytest

from tests.http.server import Server

CLIENTS = 32
BACKLOG = 1000
T = TypeVar("T")


def race(count: int, work: Callable[[int, httpx.Client], T], server: Server) -> list[T]:
    """Run ``work`` in ``count`` threads, each with its own connection, from one barrier."""
    barrier = threading.Barrier(count)
    results: list[T | None] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            with server.client() as client:
                client.get("/healthz")
                barrier.wait(timeout=60)
                results[index] = work(index, client)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    return [result for result in results if result is not None]


@pytest.fixture(scope="module")
def raced(server: Server) -> list[httpx.Response]:
    """32 sessions claim one task at the same moment."""
    with server.client() as client:
        client.post("/api/tasks", json={"taskId": "contested", "title": "Everyone wants it"})

    def claim(index: int, client: httpx.Client) -> httpx.Response:
        return client.post("/api/tasks/contested/claim", json={"sessionId": f"racer-{index}"})

    return race(CLIENTS, claim, server)


def test_one_claim_wins(raced: list[httpx.Response]) -> None:
    """Exactly one of 32 concurrent claims answers 200."""
    assert Counter(answer.status_code for answer in raced) == {200: 1, 409: CLIENTS - 1}


def test_losers_see_the_winner(raced: list[httpx.Response]) -> None:
    """Every 409 names the winning session as the holder."""
    winner = next(a.json()["claim"]["sessionId"] for a in raced if a.status_code == 200)
    holders = {a.json()["claim"]["sessionId"] for a in raced if a.status_code == 409}
    assert holders == {winner}


@pytest.fixture(scope="module")
def drained(server: Server) -> tuple[list[list[str]], int]:
    """32 clients run claim-next over a backlog of 1,000 tasks until it is empty."""
    tasks = [{"id": f"bulk-{n:04d}", "title": f"Bulk {n}", "roi": n % 17} for n in range(BACKLOG)]
    with server.client() as client:
        assert client.post("/api/tasks/import", json=tasks).status_code == 200

    def drain(index: int, client: httpx.Client) -> list[str]:
        claimed: list[str] = []
        while True:
            answer = client.post("/api/tasks/claim-next", json={"sessionId": f"worker-{index}"})
            if answer.status_code == 404:
                assert answer.json()["error"] == "NO_TASK_AVAILABLE"
                return claimed
            assert answer.status_code == 200, answer.text
            claimed.append(answer.json()["claim"]["taskId"])

    per_client = race(CLIENTS, drain, server)
    with server.client() as client:
        held = client.get("/api/tasks/in-flight").json()["summary"]["total"]
    return per_client, held


def test_claim_next_claims_each_task_once(drained: tuple[list[list[str]], int]) -> None:
    """No task of the backlog is handed to two clients: as many claims as tasks, all distinct."""
    claimed = [task for tasks in drained[0] for task in tasks if task.startswith("bulk-")]
    assert len(claimed) == len(set(claimed)) == BACKLOG


def test_claim_next_claims_every_task(drained: tuple[list[list[str]], int]) -> None:
    """Every task of the backlog is claimed, and all those claims are in flight."""
    claimed = {task for tasks in drained[0] for task in tasks if task.startswith("bulk-")}
    assert claimed == {f"bulk-{n:04d}" for n in range(BACKLOG)}
    assert drained[1] >= BACKLOG
