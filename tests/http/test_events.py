"""``GET /api/events``: position order, exact resume by Last-Event-ID, several servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests import pg_server
from tests.http.server import Server, start_server
from tests.http.sse import open_stream


def claim_and_release(client: httpx.Client, task: str, session: str) -> None:
    client.post(f"/api/tasks/{task}/claim", json={"sessionId": session})
    client.post(f"/api/tasks/{task}/release", json={"sessionId": session, "reason": "completed"})


def test_events_arrive_in_position_order(
    server: Server, client: httpx.Client, fresh: Callable[[str], str]
) -> None:
    """Every event after the requested position arrives, gapless and in order."""
    start = server.head()
    with open_stream(server.base_url, after=start) as stream:
        for _ in range(5):
            task = fresh("ordered")
            client.post("/api/tasks", json={"taskId": task, "title": task})
            claim_and_release(client, task, "agent-a")
        head = server.head()
        messages = stream.take(head - start)
    assert [m.id for m in messages] == list(range(start + 1, head + 1))


def test_event_names_follow_seed_002(
    server: Server, client: httpx.Client, task: str, session: str
) -> None:
    """A claim and a release stream as task:claimed and task:released with seed 002's data."""
    start = server.head()
    with open_stream(server.base_url, after=start) as stream:
        claim_and_release(client, task, session)
        messages = stream.take(3)
    assert [m.event for m in messages] == ["task:claimed", "task:released", "task:status-changed"]
    assert messages[0].data["type"] == "task:claimed"
    assert messages[0].data["data"]["taskId"] == task
    assert messages[0].data["data"]["sessionId"] == session
    assert messages[1].data["data"]["reason"] == "completed"


def test_expiry_streams_as_claim_expired(
    server: Server, client: httpx.Client, task: str, session: str
) -> None:
    """The sweep of a lapsed lease streams task:claim-expired."""
    client.post(f"/api/tasks/{task}/claim", json={"sessionId": session, "ttlMs": 1})
    start = server.head()
    with open_stream(server.base_url, after=start) as stream:
        client.post("/api/tasks/claims/cleanup")
        names = {m.data["data"].get("taskId"): m.event for m in stream.take(server.head() - start)}
    assert names[task] == "task:claim-expired"


def test_resume_gets_exactly_the_missed_events(
    server: Server, client: httpx.Client, fresh: Callable[[str], str]
) -> None:
    """Reconnecting with Last-Event-ID yields each missed position once, nothing else."""
    start = server.head()
    with open_stream(server.base_url, after=start) as stream:
        task = fresh("resumed")
        client.post("/api/tasks", json={"taskId": task, "title": task})
        claim_and_release(client, task, "agent-a")
        seen = stream.take(2)
    for _ in range(4):
        other = fresh("missed")
        client.post("/api/tasks", json={"taskId": other, "title": other})
        claim_and_release(client, other, "agent-b")
    head = server.head()
    with open_stream(server.base_url, last_event_id=seen[-1].id) as stream:
        resumed = stream.take(head - seen[-1].id)
    assert [m.id for m in resumed] == list(range(seen[-1].id + 1, head + 1))


def test_resume_from_far_back_reads_the_store(
    server: Server, client: httpx.Client, fresh: Callable[[str], str]
) -> None:
    """A client resuming from position 0 gets the whole log from the store, in order."""
    task = fresh("history")
    client.post("/api/tasks", json={"taskId": task, "title": task})
    head = server.head()
    with open_stream(server.base_url, last_event_id=0) as stream:
        messages = stream.take(head)
    assert [m.id for m in messages] == list(range(1, head + 1))


def test_last_event_id_wins_over_after(
    server: Server, client: httpx.Client, fresh: Callable[[str], str]
) -> None:
    """Last-Event-ID, sent by a reconnecting EventSource, wins over the ?after= of its URL."""
    task = fresh("precedence")
    client.post("/api/tasks", json={"taskId": task, "title": task})
    head = server.head()
    with open_stream(server.base_url, after=0, last_event_id=head - 1) as stream:
        first = stream.next()
    assert first.id == head


@pytest.fixture(params=["sqlite", "postgresql"])
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    """Two server processes on one store: a SQLite file, or one PostgreSQL database
    (as two hosts behind a load balancer would run them)."""
    db = pg_server.fresh_url() if request.param == "postgresql" else None
    first = start_server(tmp_path, db=db)
    second = start_server(tmp_path, db=first.db)
    yield first, second
    second.stop()
    first.stop()


def test_two_servers_refuse_each_others_claims(pair: tuple[Server, Server]) -> None:
    """A claim made through one server is refused through the other."""
    one, two = pair
    with one.client() as a, two.client() as b:
        a.post("/api/tasks", json={"taskId": "shared", "title": "Shared"})
        assert a.post("/api/tasks/shared/claim", json={"sessionId": "via-one"}).status_code == 200
        refused = b.post("/api/tasks/shared/claim", json={"sessionId": "via-two"})
    assert refused.status_code == 409
    assert refused.json()["claim"]["sessionId"] == "via-one"


def test_each_server_streams_the_others_events(pair: tuple[Server, Server]) -> None:
    """Events written through one server arrive on the other's stream."""
    one, two = pair
    with one.client() as a, open_stream(two.base_url, after=0) as stream:
        a.post("/api/tasks", json={"taskId": "seen-there", "title": "Seen"})
        message = stream.next()
    assert (message.id, message.event) == (1, "task:registered")
    assert message.data["data"]["taskId"] == "seen-there"


def test_both_streams_carry_both_servers_events(pair: tuple[Server, Server]) -> None:
    """Each server's stream has every event, whichever server it went through, in
    position order, and the two streams agree."""
    one, two = pair
    with (
        one.client() as a,
        two.client() as b,
        open_stream(one.base_url, after=0) as first,
        open_stream(two.base_url, after=0) as second,
    ):
        a.post("/api/tasks", json={"taskId": "via-one", "title": "One"})
        b.post("/api/tasks", json={"taskId": "via-two", "title": "Two"})
        a.post("/api/tasks/via-two/claim", json={"sessionId": "s-one"})
        b.post("/api/tasks/via-one/claim", json={"sessionId": "s-two"})
        head = one.head()
        seen = [[stream.next() for _ in range(head)] for stream in (first, second)]
    assert seen[0] == seen[1]
    assert [message.id for message in seen[0]] == list(range(1, head + 1))
    tasks = [(m.event, m.data["stream"]) for m in seen[0] if m.event.startswith("task:")]
    assert tasks == [
        ("task:registered", "task-via-one"),
        ("task:registered", "task-via-two"),
        ("task:claimed", "task-via-two"),
        ("task:claimed", "task-via-one"),
    ]
