"""The HTTP side of the campaign: a ``claims serve`` process that gets killed, an agent
that works through it, and SSE clients that drop and resume with ``Last-Event-ID``.

The agent and the clients are threads of the orchestrator. When the server is down
they wait for the next one (the orchestrator starts it on a new port) and carry on.
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from ledger.events import task_stream
from tests.campaign.agent import CONFIG_ENV
from tests.campaign.journal import OK, UNEXPECTED, Journal, OpRecord
from tests.http.server import Server, start_server
from tests.http.sse import open_stream

WAIT_SECONDS = 0.05
IDLE_SECONDS = 2.0
"""An SSE client that has heard nothing for this long drops the connection and resumes,
so that it sees its target set while the log is quiet (the server's keepalive comes only
every 15 s)."""
ROUTES = {
    "claim": "/api/tasks/{task}/claim",
    "heartbeat": "/api/tasks/{task}/claim/heartbeat",
    "release": "/api/tasks/{task}/release",
    "claim-next": "/api/tasks/claim-next",
}
HARNESS_FAULTS = frozenset({"NOT_FOUND", "METHOD_NOT_ALLOWED", "VALIDATION_ERROR"})
"""Answers the agent's well-formed requests never get: counted as violations."""


class ServerSlot:
    """The server in service now (``None`` while it is down), shared by the threads."""

    def __init__(self, folder: Path, url: str) -> None:
        self.folder = folder
        self.db = url
        self._lock = threading.Lock()
        self._server: Server | None = None
        self._starting: threading.Thread | None = None
        self.starts = 0

    def start(self) -> None:
        server = start_server(self.folder, db=self.db, env=CONFIG_ENV)
        with self._lock:
            self._server = server
            self.starts += 1

    def start_in_background(self) -> None:
        """Start the next server on a thread of its own, unless one is starting already."""
        with self._lock:
            if self._starting is not None and self._starting.is_alive():
                return
            self._starting = threading.Thread(target=self.start, name="server-start", daemon=True)
            self._starting.start()

    def wait_started(self) -> None:
        with self._lock:
            starting = self._starting
        if starting is not None:
            starting.join()

    def kill(self) -> None:
        """SIGKILL the server and wait for it; the slot stays empty until ``start``."""
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.process.kill()
            server.process.wait()

    def stop(self) -> None:
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.stop()

    def base_url(self) -> str | None:
        with self._lock:
            return None if self._server is None else self._server.base_url


class HttpAgent(threading.Thread):
    """Claims, heartbeats, releases and claim-next over HTTP, journalling each answer."""

    def __init__(self, slot: ServerSlot, journal: Journal, seed: int, tasks: list[str]) -> None:
        super().__init__(name="http-agent", daemon=True)
        self.slot = slot
        self.journal = journal
        self.rng = random.Random(seed)
        self.tasks = tasks
        self.session = "http-agent"
        self.halt = threading.Event()
        self.held: dict[str, int] = {}
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.halt.is_set():
                base = self.slot.base_url()
                if base is None:
                    time.sleep(WAIT_SECONDS)
                    continue
                try:
                    self._one(base)
                except httpx.TransportError:
                    time.sleep(WAIT_SECONDS)
        except BaseException as error:  # reported by the orchestrator, not lost in a thread
            self.error = error

    def _one(self, base: str) -> None:
        rng = self.rng
        op = rng.choice(("claim", "claim", "heartbeat", "release", "claim-next"))
        if op in ("heartbeat", "release") and not self.held:
            op = "claim"
        task = rng.choice(sorted(self.held)) if op in ("heartbeat", "release") else None
        task = task or rng.choice(self.tasks)
        body: dict[str, Any] = {"sessionId": self.session}
        if op in ("claim", "claim-next"):
            body["ttlMs"] = rng.randint(300, 3000)
        if op in ("heartbeat", "release"):
            body["fencingToken"] = self.held.pop(task) if op == "release" else self.held[task]
        if op == "release":
            body["reason"] = "completed"
        path = ROUTES[op].format(task=task)
        answer = httpx.post(base + path, json=body, timeout=30)
        payload = answer.json()
        if answer.status_code >= 300:
            self.held.pop(task, None)
            code = str(payload.get("error"))
            if (answer.status_code >= 500 and code != "STORE_ERROR") or code in HARNESS_FAULTS:
                code = UNEXPECTED
            failed = OpRecord(
                agent=self.session, op=op, outcome=code, task=task, detail=answer.text
            )
            self.journal.write(failed)
            return
        self.journal.write(self._acknowledged(op, task, body, payload))

    def _acknowledged(
        self, op: str, task: str, body: dict[str, Any], payload: dict[str, Any]
    ) -> OpRecord:
        if op == "release":
            return OpRecord(
                agent=self.session,
                op=op,
                outcome=OK,
                task=task,
                session=self.session,
                token=body["fencingToken"],
            )
        claim = payload["claim"]
        task = claim["taskId"]
        if op != "heartbeat":
            self.held[task] = claim["fencingToken"]
        return OpRecord(
            agent=self.session,
            op=op,
            outcome=OK,
            task=task,
            stream=task_stream(task),
            version=claim["version"],
            session=self.session,
            token=claim["fencingToken"],
        )


class SseClient(threading.Thread):
    """Reads ``/api/events`` from position 0, drops the connection after a random number
    of events (or loses it when the server is killed) and resumes with ``Last-Event-ID``.
    Keeps every position it was sent, in arrival order, with its event id."""

    def __init__(self, slot: ServerSlot, name: str, seed: int) -> None:
        super().__init__(name=name, daemon=True)
        self.slot = slot
        self.rng = random.Random(seed)
        self.seen: list[tuple[int, str]] = []
        self.connects = 0
        self.target: int | None = None
        """Once set: stop after this position."""
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self._done():
                base = self.slot.base_url()
                if base is None:
                    time.sleep(WAIT_SECONDS)
                    continue
                try:
                    self._session(base)
                except (httpx.HTTPError, AssertionError):
                    time.sleep(WAIT_SECONDS)
        except BaseException as error:  # reported by the orchestrator
            self.error = error

    def _done(self) -> bool:
        last = self.seen[-1][0] if self.seen else 0
        return self.target is not None and last >= self.target

    def _session(self, base: str) -> None:
        last = self.seen[-1][0] if self.seen else 0
        budget = self.rng.randint(1, 200)
        self.connects += 1
        with open_stream(base, last_event_id=last, read_timeout=IDLE_SECONDS) as stream:
            for _ in range(budget):
                message = stream.next()
                self.seen.append((message.id, message.data["eventId"]))
                if self._done():
                    return
