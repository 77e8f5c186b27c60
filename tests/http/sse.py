"""A small ``text/event-stream`` reader for the tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Message:
    id: int
    event: str
    data: dict[str, Any]


class Stream:
    """Messages of one open SSE response, in arrival order."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.iter_lines()

    def take(self, count: int) -> list[Message]:
        return [self.next() for _ in range(count)]

    def next(self) -> Message:
        fields: dict[str, str] = {}
        for line in self._lines:
            if line == "":
                if "data" in fields:
                    return Message(int(fields["id"]), fields["event"], json.loads(fields["data"]))
                fields = {}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        raise AssertionError("the stream ended")


@contextmanager
def open_stream(
    base_url: str,
    *,
    after: int | None = None,
    last_event_id: int | None = None,
    read_timeout: float = 20.0,
) -> Iterator[Stream]:
    """Connect to ``/api/events``; a read that waits ``read_timeout`` seconds raises
    ``httpx.ReadTimeout`` (fails the test) instead of hanging."""
    params = {} if after is None else {"after": str(after)}
    headers = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
    timeout = httpx.Timeout(read_timeout, connect=10)
    with (
        httpx.Client(base_url=base_url, timeout=timeout) as client,
        client.stream("GET", "/api/events", params=params, headers=headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        yield Stream(response)
