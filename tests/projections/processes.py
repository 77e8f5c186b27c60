"""Start ``tests.projections.workers`` processes, with the integration suite's gate."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TypeVar

from tests.integration.harness import REPO_ROOT, finish, open_gate, worker_env

T = TypeVar("T")


def start(
    args: Sequence[str], *, stdout: int | IO[bytes], stderr: IO[bytes]
) -> subprocess.Popen[bytes]:
    """Run ``python -m tests.projections.workers ARGS`` from the repository root."""
    command = [sys.executable, "-W", "error", "-m", "tests.projections.workers", *args]
    return subprocess.Popen(command, cwd=REPO_ROOT, env=worker_env(), stdout=stdout, stderr=stderr)


def run_together(workers: Mapping[str, Sequence[str]], folder: Path, kind: type[T]) -> list[T]:
    """One worker per name, the barrier as its last argument; open the gate once all
    wait there; return what each printed, in order. Kills stragglers on failure."""
    barrier = folder / "barrier"
    barrier.mkdir()
    log = folder / "stderr.log"
    procs: list[subprocess.Popen[bytes]] = []
    with log.open("wb") as stderr:
        try:
            for args in workers.values():
                procs.append(start([*args, str(barrier)], stdout=subprocess.PIPE, stderr=stderr))
            open_gate(barrier, workers, procs)
            return [finish(proc, kind) for proc in procs]
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- workers' stderr ---\n{log.read_text()}") from exc
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
