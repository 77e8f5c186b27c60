"""Opening a store in a fresh process (issue 15): the JSONL store with its persistent
index beside the log, the same store the first time (no index yet: it indexes every
line and writes the index), and the SQLite store of the same records, side by side.

A child process times ``open_store(url)`` and ``head()`` (what every command does
before its first question), without the interpreter's start-up and imports.
Run by ``python -m bench.projections`` (and ``python -m bench --only projections``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.report import table
from ledger.store.factory import open_store
from ledger.store.jsonl_index import index_path

GOAL_S = 0.1
"""Issue 15: open a 1M-record JSONL store in under 0.1 s."""
RUNS = 5


@dataclass(frozen=True)
class Opening:
    label: str
    backend: str
    seconds: float
    """The best of ``RUNS`` fresh processes (one for a first open)."""


def measure(jsonl_path: Path, sqlite_path: Path) -> list[Opening]:
    """The three openings, in that order: first JSONL open, JSONL with index, SQLite."""
    jsonl_url, sqlite_url = f"jsonl://{jsonl_path}", f"sqlite://{sqlite_path}"
    index_path(jsonl_path).unlink(missing_ok=True)
    first = _child(jsonl_url)
    return [
        Opening("first open (indexes the log, writes the index)", "jsonl", first),
        Opening("open with the index", "jsonl", min(_child(jsonl_url) for _ in range(RUNS))),
        Opening("open", "sqlite", min(_child(sqlite_url) for _ in range(RUNS))),
    ]


def render(openings: Sequence[Opening], events: int) -> str:
    sqlite = next(o.seconds for o in openings if o.backend == "sqlite")
    rows = [
        [
            f"{o.backend}: {o.label}",
            f"{o.seconds:.4f}",
            f"{o.seconds / sqlite:.1f}x",
            f"{o.seconds / GOAL_S:.2f}" if o.backend == "jsonl" else "",
            _verdict(o),
        ]
        for o in openings
    ]
    headers = [f"open a store of {events:,} records", "s", "vs SQLite", "vs goal", "< 0.1 s"]
    return table(headers, rows, [False, True, True, True, False])


def _verdict(opening: Opening) -> str:
    if opening.backend != "jsonl" or opening.label.startswith("first"):
        return ""
    return "met" if opening.seconds < GOAL_S else "MISSED"


def _child(url: str) -> float:
    done = subprocess.run(
        [sys.executable, "-m", "bench.opening", url],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return float(json.loads(done.stdout))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.opening")
    parser.add_argument("url", help="the store to open, in this fresh process")
    url = parser.parse_args(argv).url
    started = time.perf_counter()
    store = open_store(url)
    store.head()
    elapsed = time.perf_counter() - started
    store.close()
    print(json.dumps(elapsed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
