"""``claims serve`` and ``claims demo --serve`` as a user runs them; hooks stay light."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.http.server import CLAIMS, free_port

HEAVY = ("fastapi", "starlette", "uvicorn", "pydantic", "api", "duckdb", "psycopg", "psycopg_pool")


def test_hook_commands_do_not_import_the_http_stack(tmp_path: Path) -> None:
    """``claims heartbeat`` on the default store imports none of FastAPI, Starlette,
    uvicorn, pydantic, api, DuckDB or psycopg."""
    db = f"sqlite://{tmp_path / 'ledger.db'}"
    code = (
        "import atexit, sys\n"
        f"heavy = {HEAVY!r}\n"
        "atexit.register(lambda: print(sorted(m for m in sys.modules"
        " if m.split('.')[0] in heavy), file=sys.stderr))\n"
        "from cli.main import main\n"
        f"main(['heartbeat', 'some-task', '--session', 'agent-a', '--db', {db!r}, '--json'])\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMS_")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert json.loads(done.stdout)["error"] == "TASK_NOT_FOUND"
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_serve_help_names_loopback_default() -> None:
    """``claims serve --help`` shows the 127.0.0.1:8765 defaults."""
    done = subprocess.run([CLAIMS, "serve", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "127.0.0.1" in done.stdout
    assert "8765" in done.stdout


@pytest.mark.slow
def test_demo_serve_drives_agents_through_the_api(tmp_path: Path) -> None:
    """``claims demo --serve`` starts the server, agents claim and heartbeat over HTTP,
    and it stops cleanly after --duration with a log that verifies."""
    db = f"sqlite://{tmp_path / 'demo.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMS_")}
    port = str(free_port())
    done = subprocess.run(
        [CLAIMS, "demo", "--serve", "--db", db, "--port", port, "--duration", "8"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"dashboard: http://127.0.0.1:{port}/" in done.stdout
    assert "claimed " in done.stdout
    assert "heartbeat " in done.stdout
    verified = subprocess.run(
        [CLAIMS, "verify", "--db", db, "--json"], capture_output=True, text=True, timeout=60
    )
    assert json.loads(verified.stdout)["success"] is True


def _on_a_terminal(argv: list[str], env: dict[str, str], timeout: float) -> tuple[int, str]:
    """Run ``argv`` with a pseudo-terminal as its stdout and stderr, as in a user's
    shell; its exit code and everything it wrote."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the command
        os.execve(argv[0], argv, env)
    out = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the terminal closed: the command ended
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(fd)
    waited, status = os.waitpid(pid, 0 if time.monotonic() < deadline else os.WNOHANG)
    if not waited:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        raise AssertionError(f"still running after {timeout} s: {out[-2000:]!r}")
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


@pytest.mark.slow
def test_demo_serve_on_a_terminal_paints_its_notes_and_stops_cleanly(tmp_path: Path) -> None:
    """On a terminal the demo writes in colour (its notes in bold): the README's first
    command, as a user starts it."""
    db = f"sqlite://{tmp_path / 'demo.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMS_")}
    env.pop("NO_COLOR", None)
    env["TERM"] = "xterm-256color"
    port = str(free_port())
    code, out = _on_a_terminal(
        [CLAIMS, "demo", "--serve", "--db", db, "--port", port, "--duration", "4"], env, 120
    )
    assert code == 0, out[-2000:]
    assert "unexpected error" not in out
    assert f"\x1b[1mdashboard: http://127.0.0.1:{port}/" in out
    assert "claimed " in out


@pytest.mark.slow
def test_demo_serve_stopped_by_sigterm_stops_its_server(tmp_path: Path) -> None:
    """``kill`` (SIGTERM) stops the demo as Ctrl-C does: its server process goes with it
    and the port is free again."""
    db = f"sqlite://{tmp_path / 'demo.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMS_")}
    port = free_port()
    demo = subprocess.Popen(
        [CLAIMS, "demo", "--serve", "--db", db, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert demo.stdout is not None
        for line in demo.stdout:
            if "dashboard:" in line:
                break
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # the server answers
        demo.send_signal(signal.SIGTERM)
        rest = demo.communicate(timeout=60)[0]
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    assert demo.returncode == 0
    assert "explore it:" in rest
    with pytest.raises(ConnectionRefusedError):  # nobody listens any more
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
