"""``claims demo``: several agent processes race for one backlog through the CLI."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import click

from cli.app import app_of
from cli.table import heading, paint

BACKLOG = [
    ("auth-login", "Fix the login form", "high", 9.0, "auth/login"),
    ("auth-login-dup", "Login form broken (duplicate report)", "high", 8.5, "auth/login"),
    ("api-rate-limit", "Add rate limiting to the API", "high", 8.0, None),
    ("docs-quickstart", "Write the quickstart", "medium", 6.5, None),
    ("ci-cache", "Cache dependencies in CI", "medium", 6.0, None),
    ("db-index", "Index claims by session", "medium", 5.5, None),
    ("ui-dark-mode", "Dark mode for the dashboard", "low", 4.0, None),
    ("metrics-p95", "Report p95 claim duration", "medium", 5.0, None),
    ("flaky-test", "Fix the flaky upload test", "critical", 7.5, None),
    ("deps-bump", "Bump dependencies", "low", 2.0, None),
    ("sse-resume", "Resume the event stream by Last-Event-ID", "high", 7.0, None),
    ("audit-export", "Export the audit trail to Parquet", "medium", 4.5, None),
    ("payout-weights", "Make payout weights configurable", "low", 3.0, None),
    ("verify-speed", "Verify 1M records in a second", "medium", 3.5, None),
]
ROUNDS = 3
COLOURS = ["cyan", "magenta", "green", "yellow", "blue", "red"]


@click.command()
@click.option("--agents", type=click.IntRange(2, 8), default=4, show_default=True)
@click.option(
    "--db",
    "db",
    default=None,
    metavar="URL",
    help="Store (default: a new scratch ledger in a temp dir, never the project's).",
)
@click.option(
    "--serve", is_flag=True, help="Run the HTTP server and dashboard; agents use the API."
)
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True)
@click.option(
    "--duration",
    type=click.FloatRange(1, None),
    default=None,
    help="With --serve: stop after this many seconds (default: at Ctrl-C).",
)
@click.pass_context
def demo(
    ctx: click.Context,
    agents: int,
    db: str | None,
    serve: bool,
    port: int,
    duration: float | None,
) -> None:
    """Watch agents race for a backlog: claims, heartbeats, an expiry, a forced takeover.

    Every agent is a separate process that uses only the `claims` CLI. It ends
    with the in-flight table, a session history and `claims verify`.

    With --serve, it starts `claims serve` and agents drive the HTTP API until
    Ctrl-C: open the dashboard it prints to watch claims, heartbeats, expiries and
    takeovers live. Either way it works in a new scratch ledger of its own (the
    project's .claims/ is left alone) unless --db names one.

    \b
    claims demo --serve          # then open http://127.0.0.1:8765/
    """
    app = app_of(ctx)
    colour = app.colour
    url = db or f"sqlite://{Path(tempfile.mkdtemp(prefix='claims-demo-')) / 'ledger.db'}"
    if serve:
        _serve_demo(url, port, agents, duration, colour)
        return
    env = {
        **os.environ,
        "CLAIMS_DB": url,
        "CLAIMS_MIN_TTL": "1000",
        "CLAIMS_WARNING_THRESHOLD": "1500",
    }
    env.pop("CLAIMS_SESSION", None)
    step = _Step(env, colour)
    click.echo(paint(f"ledger: {url}", "bright_black", enabled=colour))
    for task_id, title, priority, roi, fingerprint in BACKLOG:
        extra = ["--fingerprint", fingerprint] if fingerprint else []
        step(
            "task",
            "add",
            task_id,
            "--title",
            title,
            "--priority",
            priority,
            "--roi",
            str(roi),
            *extra,
        )
    names = [f"agent-{n}" for n in range(1, agents + 1)]
    procs = [
        _start_agent(name, env, crash=name == names[-1], slow=name == names[0]) for name in names
    ]
    threads = [
        threading.Thread(target=_relay, args=(proc, COLOURS[i % len(COLOURS)], colour))
        for i, proc in enumerate(procs)
    ]
    for thread in threads:
        thread.start()
    time.sleep(2.5)
    _force_takeover(step, env, names[0])
    deadline = time.monotonic() + 90
    while any(proc.poll() is None for proc in procs) and time.monotonic() < deadline:
        time.sleep(1.0)
        step("sweep", quiet=True)
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for thread in threads:
        thread.join()
    click.echo(heading("\n== in flight ==", enabled=colour))
    step("in-flight", "--include-expired")
    click.echo(heading("\n== history of agent-1 ==", enabled=colour))
    step("session", "history", names[0])
    click.echo(heading("\n== backlog ==", enabled=colour))
    step("task", "list")
    click.echo(heading("\n== verify ==", enabled=colour))
    step("verify")
    click.echo(f"\nexplore it: CLAIMS_DB={url} claims in-flight")


def _serve_demo(url: str, port: int, agents: int, duration: float | None, colour: bool) -> None:
    from cli.demo_http import run_demo

    shades: dict[str, str] = {}

    def say(who: str, text: str) -> None:
        fg = shades.setdefault(who, COLOURS[len(shades) % len(COLOURS)])
        click.echo(paint(f"{who:<8} {text}", fg, enabled=colour))

    def note(text: str) -> None:
        click.echo(heading(text, enabled=colour))

    run_demo(url=url, port=port, agents=agents, duration=duration, say=say, note=note)
    click.echo(f"explore it: CLAIMS_DB={url} claims in-flight --include-expired")


class _Step:
    """Runs one `claims` command as a user would, echoing it first."""

    def __init__(self, env: dict[str, str], colour: bool) -> None:
        self._env = env
        self._colour = colour

    def __call__(self, *args: str, quiet: bool = False) -> int:
        if not quiet:
            line = f"$ claims {shlex.join(args)}"
            click.echo(paint(line, "bright_black", enabled=self._colour))
        done = subprocess.run(
            [sys.executable, "-m", "cli", *args],
            env=self._env,
            capture_output=quiet,
            text=True,
            check=False,
        )
        if quiet and done.stdout.strip() and "swept 0" not in done.stdout:
            click.echo(
                paint(
                    "sweeper  " + done.stdout.strip().replace("\n", "; "),
                    "red",
                    enabled=self._colour,
                )
            )
        return done.returncode


def _start_agent(
    name: str, env: dict[str, str], *, crash: bool, slow: bool
) -> subprocess.Popen[str]:
    flags = [*(["--crash"] if crash else []), *(["--slow"] if slow else [])]
    args = [sys.executable, "-m", "cli.demo_agent", name, str(ROUNDS), *flags]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True)


def _relay(proc: subprocess.Popen[str], fg: str, colour: bool) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        click.echo(paint(line.rstrip("\n"), fg, enabled=colour))


def _force_takeover(step: _Step, env: dict[str, str], victim: str) -> None:
    """The lead takes the slow agent's claim by force, with a reason, and finishes it."""
    done = subprocess.run(
        [sys.executable, "-m", "cli", "current-task", victim, "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    current = json.loads(done.stdout or "{}").get("currentTask")
    if not current:
        return
    task = current["taskId"]
    reason = f"{victim} is too slow; lead finishes it"
    step("takeover", task, "--session", "lead", "--force", "--reason", reason, "--by", "lead")
    step("release", task, "--session", "lead", "--reason", "completed")
