"""Writers killed with SIGKILL in the middle of a stream of appends, ten rounds per backend.

In each round three ``crash-writer`` processes claim, heartbeat and release tasks of
one shared pool; every event id a writer acknowledges was returned by ``append``
before it was written (and fsynced) to the writer's ack file. Once all three are
moving they are killed one by one at random moments. After each round the log is
read back by a fresh process-level store object; each test checks one property.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import msgspec
import pytest

from application.bootstrap import open_ledger
from ledger.commands import Claim, RegisterTask, Release
from ledger.verify import VerifyReport
from tests.integration.harness import (
    BACKENDS,
    HANG_GUARD_SECONDS,
    acknowledged,
    only_torn_tail_notices,
    read_log,
    start_worker,
    url_for,
    verify_url,
)

ROUNDS = 10
WRITERS = 3
POOL = tuple(f"pool-{n}" for n in range(6))
MAX_KILL_DELAY_SECONDS = 0.02

pytestmark = pytest.mark.slow


class Round(msgspec.Struct, frozen=True, kw_only=True):
    """What one round left behind."""

    acknowledged: list[str]
    stored: list[str]
    returncodes: list[int]
    report: VerifyReport


class CrashRun(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    rounds: list[Round]


def _wait_until_moving(procs: list[subprocess.Popen[bytes]], acks: list[Path]) -> None:
    """Block until every writer has acknowledged at least one event."""
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while not all(acknowledged(ack) for ack in acks):
        for proc in procs:
            assert proc.poll() is None, f"writer {proc.args!r} died on its own"
        assert time.monotonic() < deadline, "writers never acknowledged an event"
        time.sleep(0.002)


def _kill_round(url: str, folder: Path, number: int, rng: random.Random) -> Round:
    acks = [folder / f"ack-round{number}-writer{k}" for k in range(WRITERS)]
    with (folder / "stderr.log").open("ab") as stderr:
        procs = [
            start_worker(
                ["crash-writer", url, f"writer-{k}", str(ack), str(rng.randrange(1 << 30)), *POOL],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
            for k, ack in enumerate(acks)
        ]
        try:
            _wait_until_moving(procs, acks)
            for proc in rng.sample(procs, len(procs)):
                time.sleep(rng.uniform(0, MAX_KILL_DELAY_SECONDS))
                os.kill(proc.pid, signal.SIGKILL)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                proc.wait(timeout=HANG_GUARD_SECONDS)
    return Round(
        acknowledged=[event_id for ack in acks for event_id in acknowledged(ack)],
        stored=[record.event_id for record in read_log(url)],
        returncodes=[proc.returncode for proc in procs],
        report=verify_url(url),
    )


@pytest.fixture(scope="module", params=BACKENDS)
def crash_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> CrashRun:
    """Ten rounds of kill -9 against writers of one store."""
    backend: str = request.param
    folder = tmp_path_factory.mktemp(f"crash-{backend}")
    url, _ = url_for(backend, folder)
    service = open_ledger(url).service
    service.import_tasks([RegisterTask(task_id=task, title=f"Pool {task}") for task in POOL])
    service.store.close()
    rng = random.Random(f"kill-9-{backend}")
    rounds = [_kill_round(url, folder, number, rng) for number in range(ROUNDS)]
    return CrashRun(url=url, rounds=rounds)


def test_every_round_killed_writers_that_were_mid_stream(crash_run: CrashRun) -> None:
    """Each round's writers had acknowledged events and were ended by SIGKILL."""
    for number, round_ in enumerate(crash_run.rounds):
        assert round_.returncodes == [-signal.SIGKILL] * WRITERS, f"round {number}"
        assert round_.acknowledged, f"round {number}"


def test_every_acknowledged_event_survives_kill_9(crash_run: CrashRun) -> None:
    """After every round, each event id a killed writer acknowledged is in the log."""
    acked: set[str] = set()
    for number, round_ in enumerate(crash_run.rounds):
        acked.update(round_.acknowledged)
        missing = acked - set(round_.stored)
        assert not missing, f"round {number} lost {sorted(missing)}"


def test_log_verifies_after_every_kill_round(crash_run: CrashRun) -> None:
    """After every round ``verify_store`` passes, with at most a torn-tail notice."""
    for number, round_ in enumerate(crash_run.rounds):
        assert round_.report.ok, f"round {number}: {round_.report.problem}"
        assert only_torn_tail_notices(round_.report), f"round {number}: {round_.report.notices}"


def test_no_event_id_is_stored_twice_after_kills(crash_run: CrashRun) -> None:
    """Killed and restarted writers never store one event id twice."""
    for number, round_ in enumerate(crash_run.rounds):
        assert len(set(round_.stored)) == len(round_.stored), f"round {number}"


def test_log_grows_across_kill_rounds(crash_run: CrashRun) -> None:
    """Each round's writers carried on appending after the previous round's kills."""
    sizes = [len(round_.stored) for round_ in crash_run.rounds]
    assert sizes == sorted(set(sizes))


def test_a_next_writer_carries_on_after_the_kills(crash_run: CrashRun) -> None:
    """A fresh writer appends after the last round, and the whole log still verifies."""
    service = open_ledger(crash_run.url).service
    head = service.store.head_position()
    service.register_task(RegisterTask(task_id="after-the-kills", title="Survivor"))
    claimed = service.claim("after-the-kills", Claim(session_id="survivor"))
    released = service.release("after-the-kills", Release(session_id="survivor"))
    service.store.close()

    written = [r.event_id for r in (*claimed.records, *released.records)]
    stored = [record.event_id for record in read_log(crash_run.url)]
    assert stored[-len(written) :] == written
    assert len(stored) > head
    report = verify_url(crash_run.url)
    assert report.ok, report.problem
    assert report.notices == []
