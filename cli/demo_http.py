"""``claims demo --serve``: the HTTP server and dashboard, with simulated agents driving it.

The server runs as ``claims serve`` in a child process on the demo's store; the
agents are threads here that use only the HTTP API (stdlib ``urllib``), as agents
on other hosts would. Settings are shortened so that a minute shows everything:
claims and heartbeats, a crashed agent whose lease expires and is swept, a
takeover after expiry, a forced takeover with a reason, releases with reasons.
New tasks are filed whenever the backlog runs low, so the board stays busy until
Ctrl-C (or ``--duration``).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

DEMO_SETTINGS = {
    "CLAIMS_MIN_TTL": "1000",
    "CLAIMS_DEFAULT_TTL": "8000",
    "CLAIMS_WARNING_THRESHOLD": "3000",
    "CLAIMS_EXPIRING_THRESHOLD": "2000",
    "CLAIMS_ORPHAN_THRESHOLD": "20000",
    "CLAIMS_CLEANUP_INTERVAL": "2000",
}
"""Seconds instead of minutes: stale after 3 s, swept every 2 s."""

PHASES = ("design", "impl", "test", "docs")
WORDS = (
    ("auth", "login form", "high"),
    ("api", "rate limiting", "high"),
    ("ci", "dependency cache", "medium"),
    ("db", "claims index", "medium"),
    ("ui", "dark mode", "low"),
    ("sse", "resume by Last-Event-ID", "high"),
    ("audit", "Parquet export", "medium"),
    ("payout", "configurable weights", "low"),
    ("docs", "quickstart", "medium"),
    ("tests", "flaky upload test", "critical"),
)

Say = Callable[[str, str], None]


class Api:
    """The few calls an agent makes, over plain HTTP with JSON bodies."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        token = os.environ.get("CLAIMS_API_TOKEN")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            with error:
                return error.code, json.loads(error.read() or b"null")


CONFLICT = 409


class Backlog:
    """Files tasks with made-up titles; called again whenever the queue runs low."""

    def __init__(self, api: Api, rng: random.Random) -> None:
        self.api = api
        self.rng = rng
        self.serial = itertools.count(1)
        self.lock = threading.Lock()

    def file(self, count: int) -> None:
        with self.lock:
            for _ in range(count):
                area, what, priority = self.rng.choice(WORDS)
                code = CONFLICT
                while code == CONFLICT:  # a ledger kept from an earlier demo has this id
                    number = next(self.serial)
                    code, _ = self.api.call(
                        "POST",
                        "/api/tasks",
                        {
                            "taskId": f"{area}-{number}",
                            "title": f"{what[:1].upper()}{what[1:]} ({area} #{number})",
                            "priority": priority,
                            "roi": round(self.rng.uniform(1, 10), 1),
                            "phase": self.rng.choice(PHASES),
                        },
                    )


class Agent(threading.Thread):
    """One simulated agent: claim-next, heartbeat while working, release; sometimes
    it walks away from a claim (a crash), and the slow one gets taken over."""

    def __init__(
        self,
        name: str,
        api: Api,
        backlog: Backlog,
        say: Say,
        stop: threading.Event,
        *,
        crashes: bool,
        slow: bool,
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.api = api
        self.backlog = backlog
        self.say = say
        self.stop = stop
        self.crashes = crashes
        self.slow = slow
        self.rng = random.Random(sum(map(ord, name)))
        self.agent_type = "cli" if name.endswith(("1", "3")) else "autonomous"

    def run(self) -> None:
        self.api.call(
            "POST", "/api/sessions", {"sessionId": self.name, "agentType": self.agent_type}
        )
        while not self.stop.is_set():
            self.round()

    def round(self) -> None:
        code, body = self.api.call("POST", "/api/tasks/claim-next", {"sessionId": self.name})
        if code == 404:
            self.backlog.file(4)
            self.stop.wait(0.5)
            return
        if code != 200:
            self.say(self.name, f"claim-next refused: {body.get('error')}")
            self.stop.wait(1)
            return
        task = body["claim"]["taskId"]
        self.say(self.name, f"claimed   {task} (fencing token {body['claim']['fencingToken']})")
        if self.crashes and self.rng.random() < 0.5:
            self.say(self.name, f"crashes holding {task}; its lease will lapse")
            self.stop.wait(self.rng.uniform(10, 14))
            self.say(self.name, "restarts")
            return
        beats = self.rng.randint(6, 9) if self.slow else self.rng.randint(1, 4)
        for _ in range(beats):
            if self.stop.wait(self.rng.uniform(1.0, 2.2)):
                return
            code, body = self.api.call(
                "POST", f"/api/tasks/{task}/claim/heartbeat", {"sessionId": self.name}
            )
            if code != 200:
                self.say(self.name, f"lost      {task}: {body.get('error')}")
                return
            self.say(self.name, f"heartbeat {task} (#{body['claim']['heartbeatCount']})")
        reason = "completed" if self.rng.random() < 0.8 else "abandoned"
        code, body = self.api.call(
            "POST", f"/api/tasks/{task}/release", {"sessionId": self.name, "reason": reason}
        )
        if code == 200:
            held = body["released"]["claimDuration"] / 1000
            self.say(self.name, f"released  {task} ({reason}, held {held:.1f}s)")
        else:
            self.say(self.name, f"release of {task} refused: {body.get('error')}")


class Lead(threading.Thread):
    """Takes over what the crashed agent left once it has expired, and forces the
    slow agent off its task now and then, with a reason."""

    def __init__(self, api: Api, say: Say, stop: threading.Event, slow: str) -> None:
        super().__init__(name="lead", daemon=True)
        self.api = api
        self.say = say
        self.stop = stop
        self.slow = slow

    def run(self) -> None:
        self.api.call("POST", "/api/sessions", {"sessionId": "lead", "agentType": "cli"})
        turn = 0
        while not self.stop.wait(3):
            turn += 1
            self.rescue_expired()
            if turn % 4 == 0:
                self.force_slow()

    def rescue_expired(self) -> None:
        code, body = self.api.call("GET", "/api/tasks/in-flight?includeExpired=true")
        if code != 200:
            return
        for entry in body["inFlight"]:
            if entry["claim"]["healthStatus"] == "expired":
                self.take(entry["taskId"], {})
                return

    def force_slow(self) -> None:
        code, body = self.api.call("GET", f"/api/sessions/{self.slow}/current-task")
        current = body.get("currentTask") if code == 200 else None
        if current:
            reason = f"{self.slow} is too slow; lead finishes it"
            self.take(current["taskId"], {"force": True, "reason": reason, "forcedBy": "lead"})

    def take(self, task: str, extra: dict[str, Any]) -> None:
        code, body = self.api.call(
            "POST", f"/api/tasks/{task}/takeover", {"sessionId": "lead", **extra}
        )
        if code != 200:
            return
        how = "forced" if body["takeover"]["forced"] else "after expiry"
        self.say("lead", f"took over {task} from {body['takeover']['fromSession']} ({how})")
        self.stop.wait(1.5)
        self.api.call("POST", f"/api/tasks/{task}/release", {"sessionId": "lead"})
        self.say("lead", f"released  {task} (completed)")


def start_server(url: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "cli", "serve", "--db", url, "--port", str(port)]
    return subprocess.Popen(args, env=env)


def wait_ready(api: Api, server: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}; is the port free?")
        with contextlib.suppress(OSError):
            if api.call("GET", "/readyz")[0] == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("the server did not become ready")


def run_demo(
    *,
    url: str,
    port: int,
    agents: int,
    duration: float | None,
    say: Say,
    note: Callable[[str], None],
) -> int:
    """Start the server, file a backlog, run the agents; returns the server's exit code."""
    env = {**os.environ, **DEMO_SETTINGS}
    env.pop("CLAIMS_SESSION", None)
    server = start_server(url, port, env)
    api = Api(f"http://127.0.0.1:{port}")
    stop = threading.Event()
    previous = _stop_on_terminate()
    workers: list[threading.Thread] = []
    try:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C (or SIGTERM) stops the demo
            wait_ready(api, server)
            note(f"dashboard: http://127.0.0.1:{port}/   (store: {url})")
            note("press Ctrl-C to stop" if duration is None else f"running for {duration:g}s")
            backlog = Backlog(api, random.Random(7))
            backlog.file(12)
            names = [f"agent-{n}" for n in range(1, agents + 1)]
            for name in names:
                crashes, slow = name == names[-1], name == names[0]
                workers.append(Agent(name, api, backlog, say, stop, crashes=crashes, slow=slow))
            workers.append(Lead(api, say, stop, names[0]))
            for worker in workers:
                worker.start()
            stop.wait(duration)
        stop.set()
        for worker in workers:
            if worker.is_alive():  # one not started yet, when stopped while starting them
                worker.join(timeout=15)
    finally:
        stop.set()
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=15)
        if server.poll() is None:
            server.kill()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return server.wait()


def _stop_on_terminate() -> signal.Handlers | Callable[..., object] | int | None:
    """Take ``SIGTERM`` (``kill``, a service manager) as Ctrl-C, so the demo stops its
    server and agents as it does on Ctrl-C instead of leaving the server running; the
    handler it replaces, or ``None`` off the main thread (where none can be set)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
