"""Fresh processes on a long task stream against a new task (issue 15, goal 1).

Each sample is one whole process, started and timed from outside, as an agent's
hook or a one-shot ``claims`` command is: claim+release through the library, and
``claims heartbeat`` through the console script. The hot task has 10,000
heartbeats in its stream (``bench.seedlog``); a "new task" is a seeded task with a
10-record stream this process has not touched. Hot and new samples alternate, so
a change in the machine's load hits both. Every process reads its bytecode from a
cache filled beforehand (``PYTHONPYCACHEPREFIX``), so the interpreter's start is
as small as it gets and the stream's share of the time as large.

The "no snapshot" row deletes the stream snapshots before each sample: the cost
of a process that must fold the whole stream (what every process paid before
stream snapshots), and the worst case after them (the first process after a
snapshot was lost).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from application.bootstrap import wire
from bench.growth import SESSION, Latency
from bench.seedlog import SeededLog
from bench.startup import cli_command
from ledger.commands import Claim
from ledger.store.sqlite import SqliteStore
from ledger.store.stream_snapshots import FileStreamSnapshots, stream_snapshots_for
from ledger.terms import LeaseTerms

GOAL = 1.2
"""A fresh process on the hot task takes at most this many times one on a new task."""
CLAIM_RELEASE = (
    "import sys\n"
    "from application.bootstrap import open_ledger\n"
    "from ledger.commands import Claim, Release\n"
    "from ledger.terms import LeaseTerms\n"
    "service = open_ledger(sys.argv[1]).service\n"
    "terms = LeaseTerms(agent_type='bench')\n"
    "service.claim(sys.argv[2], Claim(session_id=sys.argv[3], terms=terms))\n"
    "service.release(sys.argv[2], Release(session_id=sys.argv[3], reason='paused'))\n"
)
CLAIM_RELEASE_NEW = "claim+release, fresh process, new task"
CLAIM_RELEASE_HOT = "claim+release, fresh process, hot task"
CLAIM_RELEASE_COLD = "claim+release, fresh process, hot task, no snapshot"
BEAT_NEW = "claims heartbeat, fresh process, new task"
BEAT_HOT = "claims heartbeat, fresh process, hot task"
PAIRS = ((CLAIM_RELEASE_HOT, CLAIM_RELEASE_NEW), (BEAT_HOT, BEAT_NEW))


def measure(log: SeededLog, runs: int, cache: Path) -> list[Latency]:
    """Fresh-process rows for ``log``'s hot task against its untouched tasks."""
    assert log.hot_task is not None
    url = f"sqlite://{log.path.resolve()}"
    env = _env(cache)
    hot_length = _length(log, log.hot_task)
    fresh = list(log.tasks[-2 * runs - 1 :])
    claim_argv = [sys.executable, "-c", CLAIM_RELEASE, url]
    _run([*claim_argv, fresh.pop(), SESSION], {**env, "PYTHONDONTWRITEBYTECODE": ""})
    new_cr, hot_cr = _alternating(
        [[*claim_argv, fresh.pop(), SESSION] for _ in range(runs)],
        [[*claim_argv, log.hot_task, SESSION] for _ in range(runs)],
        env,
    )
    cold = _timed_without_snapshots(log, [*claim_argv, log.hot_task, SESSION], runs, env)
    rows = [
        Latency(CLAIM_RELEASE_NEW, log.events, 10, new_cr),
        Latency(CLAIM_RELEASE_HOT, log.events, hot_length, hot_cr),
        Latency(CLAIM_RELEASE_COLD, log.events, hot_length, cold),
    ]
    return rows + _heartbeats(log, fresh.pop(), url, runs, env)


def verdicts(rows: Sequence[Latency]) -> list[str]:
    """Each hot row's median over its new-task row's, against the goal."""
    by_case = {row.case: row for row in rows}
    lines = []
    for hot, new in PAIRS:
        if hot not in by_case or new not in by_case:
            continue
        ratio = by_case[hot].median_ms / by_case[new].median_ms
        verdict = "met" if ratio <= GOAL else "missed"
        lines.append(f"{hot} / new task: {ratio:.2f}x (goal at most {GOAL}x: {verdict})")
    return lines


def _heartbeats(
    log: SeededLog, task: str, url: str, runs: int, env: dict[str, str]
) -> list[Latency]:
    command = cli_command()
    assert log.hot_task is not None
    if command is None:
        return []
    _claim(log, [task, log.hot_task])
    argv = [*command, "--db", url, "heartbeat"]
    _run([*argv, task], {**env, "PYTHONDONTWRITEBYTECODE": ""})
    new, hot = _alternating([[*argv, task]] * runs, [[*argv, log.hot_task]] * runs, env)
    return [
        Latency(BEAT_NEW, log.events, _length(log, task), new),
        Latency(BEAT_HOT, log.events, _length(log, log.hot_task), hot),
    ]


def _claim(log: SeededLog, tasks: Sequence[str]) -> None:
    store = SqliteStore(log.path)
    service = wire(store).service
    for task in tasks:
        service.claim(task, Claim(session_id=SESSION, terms=LeaseTerms(agent_type="bench")))
    store.close()


def _length(log: SeededLog, task: str) -> int:
    store = SqliteStore(log.path)
    length = wire(store).service.task(task).version
    store.close()
    return length


def _alternating(
    first: Sequence[Sequence[str]], second: Sequence[Sequence[str]], env: dict[str, str]
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    a: list[float] = []
    b: list[float] = []
    for one, other in zip(first, second, strict=True):
        a.append(_run(one, env))
        b.append(_run(other, env))
    return tuple(a), tuple(b)


def _timed_without_snapshots(
    log: SeededLog, argv: Sequence[str], runs: int, env: dict[str, str]
) -> tuple[float, ...]:
    store = SqliteStore(log.path)
    snapshots = stream_snapshots_for(store)
    store.close()
    assert isinstance(snapshots, FileStreamSnapshots)
    samples = []
    for _ in range(runs):
        shutil.rmtree(snapshots.folder, ignore_errors=True)
        samples.append(_run(argv, env))
    return tuple(samples)


def _run(argv: Sequence[str], env: dict[str, str]) -> float:
    """Milliseconds of one process; a failed one is an error of the benchmark."""
    started = time.perf_counter_ns()
    done = subprocess.run(list(argv), capture_output=True, text=True, env=env, check=False)
    elapsed = (time.perf_counter_ns() - started) / 1e6
    if done.returncode != 0:
        raise RuntimeError(f"{argv[:4]} exited {done.returncode}: {done.stderr[-300:]}")
    return elapsed


def _env(cache: Path) -> dict[str, str]:
    """No ``CLAIMS_*`` but the session; bytecode read from ``cache`` only, never written."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLAIMS_")}
    env["CLAIMS_SESSION"] = SESSION
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env
