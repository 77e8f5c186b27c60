"""Fresh-process timings: what an agent's hook pays for one ``claims heartbeat``.

Floors first: a bare interpreter, one that imports the service layer, and one that
does the whole heartbeat through the library (open the store, fold the task,
append durably). Then the real command, ``claims --db URL heartbeat TASK --session
S``, through the console script next to this interpreter (or ``-m cli``). When the
CLI is not importable yet, its row is skipped with a note.
"""

from __future__ import annotations

import importlib.util
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
from ledger.commands import Claim, RegisterTask
from ledger.store.sqlite import SqliteStore
from ledger.terms import LeaseTerms

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
    python = sys.executable
    rows = [
        _timed("python -c pass", [python, "-c", "pass"], runs),
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
    return [*rows, _cli_heartbeat(url, runs)]


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


def _cli_heartbeat(url: str, runs: int) -> Startup:
    label = "claims heartbeat (CLI)"
    command = cli_command()
    if command is None:
        return Startup(label, (), "skipped: the cli package (cli.main) is not importable yet")
    argv = [*command, "--db", url, "heartbeat", TASK, "--session", SESSION]
    trial = _run(argv)
    if trial.returncode != 0:
        tail = (trial.stderr or trial.stdout).strip().splitlines()[-1:] or ["no output"]
        return Startup(label, (), f"skipped: exit {trial.returncode}: {tail[0][:120]}")
    return _timed(label, argv, runs, note=f"via {' '.join(Path(part).name for part in command)}")


def _timed(label: str, argv: Sequence[str], runs: int, note: str = "") -> Startup:
    samples = []
    for _ in range(runs):
        started = time.perf_counter_ns()
        result = _run(argv)
        samples.append((time.perf_counter_ns() - started) / 1e6)
        if result.returncode != 0:
            return Startup(label, (), f"failed: exit {result.returncode}: {result.stderr[-200:]}")
    return Startup(label, tuple(samples), note)


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLAIMS_")}
    return subprocess.run(list(argv), capture_output=True, text=True, env=env, check=False)


def _claimed_task(path: Path) -> str:
    """A store (default durability) holding one task claimed by the hook's session."""
    store = SqliteStore(path)
    service = wire(store).service
    service.register_task(RegisterTask(task_id=TASK, title="A task an agent heartbeats"))
    service.claim(TASK, Claim(session_id=SESSION, terms=LeaseTerms(agent_type="bench")))
    store.close()
    return f"sqlite://{path.resolve()}"
