"""Fresh-process timings: what an agent's hook pays for one ``claims heartbeat``.

Floors first: a bare interpreter, one that imports the service layer, and one that
does the whole heartbeat through the library (open the store, fold the task,
append durably). Then the real commands through the console script next to this
interpreter (or ``-m cli``): ``claims --db URL heartbeat TASK --session S``, and
``claims hook`` fed a Claude Code PostToolUse payload for a session whose claim a
working tree recorded (``cli.work_record``). Each note gives the ratio to ``python
-c pass``. With ``PYTHONDONTWRITEBYTECODE`` set no ``.pyc`` is written, so every
fresh process compiles the project's modules from source; the two commands are
timed again with their bytecode compiled beforehand into a ``PYTHONPYCACHEPREFIX``.
When the CLI is not importable yet, its rows are skipped with a note.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from application.bootstrap import wire
from bench.stats import median
from cli.work_record import WorkRecord, records_dir, save
from ledger.commands import Claim, RegisterTask
from ledger.store.sqlite import SqliteStore
from ledger.terms import LeaseTerms

HOOK_GOAL = 2.5
"""Issue 12: a fresh ``claims hook`` PostToolUse under 2.5x ``python -c pass``."""
TASK = "hook-task"
SESSION = "bench-hook"
LIBRARY_BEAT = (
    "import sys\n"
    "from ledger.commands import Beat\n"
    "from application.bootstrap import open_ledger\n"
    "open_ledger(sys.argv[1]).service.heartbeat(sys.argv[2], Beat(session_id=sys.argv[3]))\n"
)


@dataclass(frozen=True)
class Startup:
    """Wall-clock milliseconds of one command run as a fresh process, several times."""

    label: str
    samples: tuple[float, ...]
    note: str = ""

    @property
    def median_ms(self) -> float:
        return median(self.samples)

    @property
    def min_ms(self) -> float:
        return min(self.samples, default=math.nan)

    @property
    def max_ms(self) -> float:
        return max(self.samples, default=math.nan)


def measure(folder: Path, runs: int) -> list[Startup]:
    url = _claimed_task(folder / "hook.db")
    tree = _recorded_tree(folder / "tree", url)
    python = sys.executable
    floor = _timed("python -c pass", [python, "-c", "pass"], runs)
    rows = [
        floor,
        _timed(
            'python -c "import application.service"',
            [python, "-c", "import application.service"],
            runs,
        ),
        _timed(
            "library heartbeat, fresh process",
            [python, "-c", LIBRARY_BEAT, url, TASK, SESSION],
            runs,
        ),
    ]
    empty = folder / "pycache-empty"
    commands = [
        _cli_heartbeat(url, runs, floor, empty, compiled=False),
        _cli_hook(tree, runs, floor, empty, compiled=False, due=True),
        _cli_hook(tree, runs, floor, empty, compiled=False, due=False),
        _cli_heartbeat(url, runs, floor, folder / "pycache-heartbeat", compiled=True),
        _cli_hook(tree, runs, floor, folder / "pycache-hook", compiled=True, due=True),
        _cli_hook(tree, runs, floor, folder / "pycache-hook", compiled=True, due=False),
    ]
    return [*rows, *commands]


def cli_command() -> list[str] | None:
    """How to run ``claims`` from here, or ``None`` when the CLI is not importable."""
    try:
        found = importlib.util.find_spec("cli.main")
    except ImportError:
        found = None
    if found is None:
        return None
    script = Path(sys.executable).with_name("claims")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "cli"]


def _cli_heartbeat(url: str, runs: int, floor: Startup, cache: Path, *, compiled: bool) -> Startup:
    command = cli_command()
    argv = None if command is None else [*command, "--db", url, "heartbeat", TASK]
    return _cli_row("claims heartbeat (CLI)", argv, runs, floor, cache, compiled=compiled)


def _cli_hook(
    tree: Path, runs: int, floor: Startup, cache: Path, *, compiled: bool, due: bool
) -> Startup:
    """``claims hook`` answering a PostToolUse: with ``due``, one heartbeat of the
    recorded claim on every call (``CLAIMS_HOOK_INTERVAL=0``); without, a call inside
    the interval after a heartbeat, which the gate answers without the ledger."""
    command = cli_command()
    payload = {
        "session_id": SESSION,
        "transcript_path": "/tmp/transcript.jsonl",
        "cwd": str(tree),
        "hook_event_name": "PostToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": "make test"},
        "tool_response": {"stdout": "ok"},
    }
    argv = None if command is None else [*command, "hook", "--agent", "claude-code"]
    label = "claims hook (PostToolUse, heartbeat" + (" due)" if due else " not due: gate)")
    stdin = json.dumps(payload)
    interval = {"CLAIMS_HOOK_INTERVAL": "0" if due else "3600000"}
    return _cli_row(label, argv, runs, floor, cache, compiled=compiled, stdin=stdin, extra=interval)


def _cli_row(
    label: str,
    argv: list[str] | None,
    runs: int,
    floor: Startup,
    cache: Path,
    *,
    compiled: bool,
    stdin: str | None = None,
    extra: dict[str, str] | None = None,
) -> Startup:
    if argv is None:
        return Startup(label, (), "skipped: the cli package (cli.main) is not importable yet")
    env = {**_env(cache), **(extra or {})}
    label += ", bytecode cached" if compiled else ", compiled from source"
    warm = {key: value for key, value in env.items() if key != "PYTHONDONTWRITEBYTECODE"}
    trial = _run(argv, stdin, warm if compiled else env)
    if trial.returncode != 0:
        tail = (trial.stderr or trial.stdout).strip().splitlines()[-1:] or ["no output"]
        return Startup(label, (), f"skipped: exit {trial.returncode}: {tail[0][:120]}")
    row = _timed(label, argv, runs, stdin=stdin, env=env)
    ratio = row.median_ms / floor.median_ms if floor.samples else math.nan
    note = f"{ratio:.1f}x python -c pass"
    if label.startswith("claims hook"):
        note += f"; goal under {HOOK_GOAL}x: {'met' if ratio < HOOK_GOAL else 'missed'}"
    return Startup(label, row.samples, note)


def _env(cache: Path | None) -> dict[str, str]:
    """No ``CLAIMS_*`` but the session; with ``cache``: no bytecode written, and only
    the bytecode in ``cache`` read."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLAIMS_")}
    env["CLAIMS_SESSION"] = SESSION
    if cache is not None:
        env["PYTHONPYCACHEPREFIX"] = str(cache)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _timed(
    label: str,
    argv: Sequence[str],
    runs: int,
    note: str = "",
    *,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> Startup:
    samples = []
    for _ in range(runs):
        started = time.perf_counter_ns()
        result = _run(argv, stdin, env)
        samples.append((time.perf_counter_ns() - started) / 1e6)
        if result.returncode != 0:
            return Startup(label, (), f"failed: exit {result.returncode}: {result.stderr[-200:]}")
    return Startup(label, tuple(samples), note)


def _run(
    argv: Sequence[str], stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    chosen = env if env is not None else _env(None)
    return subprocess.run(
        list(argv), input=stdin, capture_output=True, text=True, env=chosen, check=False
    )


def _recorded_tree(tree: Path, url: str) -> Path:
    """A working tree (a ``.git`` directory is enough) recording the session's claim."""
    (tree / ".git").mkdir(parents=True)
    save(
        records_dir(tree), WorkRecord(session_id=SESSION, task_id=TASK, fencing_token=2, store=url)
    )
    return tree


def _claimed_task(path: Path) -> str:
    """A store (default durability) holding one task claimed by the hook's session."""
    store = SqliteStore(path)
    service = wire(store).service
    service.register_task(RegisterTask(task_id=TASK, title="A task an agent heartbeats"))
    service.claim(TASK, Claim(session_id=SESSION, terms=LeaseTerms(agent_type="bench")))
    store.close()
    return f"sqlite://{path.resolve()}"
