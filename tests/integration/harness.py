"""The test side of the integration suite: start workers, open the gate, read the log back."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, TypeVar

import msgspec

from ledger.events import Claimed
from ledger.records import Record
from ledger.store.factory import open_store
from ledger.verify import VerifyReport, verify_store
from tests import pg_server
from tests.integration.workers import go_path, ready_path

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parents[2]
FILE_BACKENDS = ("sqlite", "jsonl")
BACKENDS = (*FILE_BACKENDS, "postgresql")
"""The backends the multi-process races and crash rounds run on."""
FILE_NAMES = {"sqlite": "ledger.db", "jsonl": "ledger.jsonl"}
HANG_GUARD_SECONDS = 600.0
"""How long to wait for a worker before calling the run hung (never a pass/fail on speed:
eight PostgreSQL workers draining 2,000 tasks took over 120 s on two cores at a load of 12)."""


def url_for(backend: str, folder: Path) -> tuple[str, Path]:
    """The URL of a ``backend`` store in ``folder``, as agents pass it, and its file
    (for PostgreSQL: a fresh schema, and a path that names no file)."""
    if backend == "postgresql":
        return pg_server.fresh_url(), folder / "postgresql"
    path = folder / FILE_NAMES[backend]
    return f"{backend}://{path}", path


def worker_env() -> dict[str, str]:
    """The test's environment without ``CLAIMS_*`` overrides, so workers use the defaults."""
    return {name: value for name, value in os.environ.items() if not name.startswith("CLAIMS_")}


def start_worker(
    args: Sequence[str], *, stdout: int | IO[bytes], stderr: IO[bytes]
) -> subprocess.Popen[bytes]:
    """Run ``python -m tests.integration.workers ARGS`` from the repository root."""
    command = [sys.executable, "-W", "error", "-m", "tests.integration.workers", *args]
    return subprocess.Popen(command, cwd=REPO_ROOT, env=worker_env(), stdout=stdout, stderr=stderr)


def open_gate(
    barrier: Path, names: Iterable[str], procs: Sequence[subprocess.Popen[bytes]]
) -> None:
    """Wait until every worker is ready at the barrier, then let them all go at once."""
    waiting = {ready_path(barrier, name) for name in names}
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while waiting:
        waiting = {path for path in waiting if not path.exists()}
        exited = [proc for proc in procs if proc.poll() is not None]
        if exited:
            raise AssertionError(f"a worker exited before the start: {exited[0].args!r}")
        if time.monotonic() > deadline:
            raise AssertionError(f"workers never got ready: {sorted(map(str, waiting))}")
        time.sleep(0.005)
    go_path(barrier).touch()


def finish(proc: subprocess.Popen[bytes], kind: type[T]) -> T:
    """Wait for a worker that prints one JSON document and decode it as ``kind``."""
    out, _ = proc.communicate(timeout=HANG_GUARD_SECONDS)
    assert proc.returncode == 0, f"worker {proc.args!r} failed with {proc.returncode}"
    return msgspec.json.decode(out, type=kind)


def run_together(workers: Mapping[str, Sequence[str]], folder: Path, kind: type[T]) -> list[T]:
    """Start one worker per name with its arguments and the barrier as the last one, open
    the gate once all wait there, and return what each printed, in order. Workers still
    running when this fails are killed."""
    barrier = folder / "barrier"
    barrier.mkdir()
    log = folder / "stderr.log"
    procs: list[subprocess.Popen[bytes]] = []
    with log.open("wb") as stderr:
        try:
            for args in workers.values():
                command = [*args, str(barrier)]
                procs.append(start_worker(command, stdout=subprocess.PIPE, stderr=stderr))
            open_gate(barrier, workers, procs)
            return [finish(proc, kind) for proc in procs]
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- workers' stderr ---\n{log.read_text()}") from exc
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()


def read_log(url: str) -> list[Record]:
    """Every record of the store at ``url``, read by a fresh store object."""
    store = open_store(url)
    try:
        return list(store.read_all())
    finally:
        store.close()


def verify_url(url: str) -> VerifyReport:
    """``verify_store`` over a freshly opened store."""
    store = open_store(url)
    try:
        return verify_store(store)
    finally:
        store.close()


def claimed_per_task(records: Iterable[Record]) -> Counter[str]:
    """How many ``Claimed`` events each task's stream holds."""
    return Counter(record.data.task_id for record in records if isinstance(record.data, Claimed))


def only_torn_tail_notices(report: VerifyReport) -> bool:
    """Every notice is about an unacknowledged torn last line (the only notice allowed)."""
    return all("torn tail" in notice for notice in report.notices)


def acknowledged(ack: Path) -> list[str]:
    """Event ids a worker acknowledged: complete lines only (a kill may cut the last)."""
    if not ack.exists():
        return []
    data = ack.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    return complete.decode("ascii").split()
