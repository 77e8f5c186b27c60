"""HTTP API benchmark: ``python -m bench.http_api [--size smoke|full] [--json FILE]``.

On one SQLite store (``synchronous=FULL``, the default), side by side in one run:

- claim+heartbeat+release cycles through ``claims serve`` with 1, 8 and 32
  concurrent clients, the load generator (``bench.http_load``) in a second process
  on loopback, with p50/p99 per request and per cycle;
- the same cycles through the library in-process (``ClaimService``; client
  threads share one service behind a lock, as the server does): the ceiling the
  API should approach;
- an open-loop run at a fixed 500 cycles/s over 32 clients (issue 5's target:
  p99 under 50 ms);
- SSE: 100 clients following ``/api/events`` while a writer claims tasks at a
  fixed rate; the time from each record's commit (its ``recordedAt``, millisecond
  precision) to its delivery at each client.

Figures only: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from application.bootstrap import open_ledger, wire
from bench.http_load import task_ids
from bench.stats import percentile
from ledger.commands import Beat, Claim, RegisterTask, Release
from ledger.store.factory import open_store

CLAIMS = str(Path(sys.executable).with_name("claims"))


@dataclass(frozen=True)
class Size:
    name: str
    cycles: dict[int, int]
    """Cycles per client, by number of clients."""
    paced_rate: float
    paced_seconds: float
    sse_clients: int
    sse_events: int
    sse_rate: float


SIZES = {
    "smoke": Size("smoke", {1: 40, 8: 8, 32: 3}, 100, 1, 10, 10, 50),
    "full": Size("full", {1: 1500, 8: 250, 32: 80}, 500, 8, 100, 200, 50),
}


@dataclass(frozen=True)
class Row:
    """One line of the cycles table."""

    path: str
    clients: int
    cycles: int
    cycles_per_s: float
    op_p50_ms: float
    op_p99_ms: float
    cycle_p50_ms: float
    cycle_p99_ms: float


@dataclass(frozen=True)
class SseRow:
    clients: int
    events: int
    deliveries: int
    p50_ms: float
    p99_ms: float
    max_ms: float


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http_api", description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--json", help="also write every figure to this JSON file")
    args = parser.parse_args(argv)
    size = SIZES[args.size]
    with tempfile.TemporaryDirectory(prefix="bench-http-") as folder:
        rows, paced, sse = run(Path(folder), size)
    print(table(rows, paced, sse, size))
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "rows": [asdict(r) for r in rows],
                    "paced": asdict(paced),
                    "sse": asdict(sse),
                },
                indent=2,
            )
            + "\n"
        )
    return 0


def run(folder: Path, size: Size) -> tuple[list[Row], Row, SseRow]:
    """Library and API rows interleaved per client count (the disk's speed drifts),
    at FULL and then at NORMAL durability; the paced and SSE runs at FULL."""
    rows: list[Row] = []
    paced_count = max(1, int(size.paced_rate * size.paced_seconds / 32))
    for synchronous in ("full", "normal"):
        url = f"sqlite://{folder / synchronous}.db"
        if synchronous == "normal":
            url += "?synchronous=normal"
        plans = {f"api{c}": (c, n) for c, n in size.cycles.items()}
        plans |= {f"lib{c}": (c, n) for c, n in size.cycles.items()}
        plans |= {"paced": (32, paced_count), "sse": (1, size.sse_events)}
        register(url, plans)
        label = synchronous.upper()
        with server(url) as port:
            for clients, count in size.cycles.items():
                rows.append(library(url, f"lib{clients}", clients, count, label))
                rows.append(api(port, f"api{clients}", clients, count, label))
            if synchronous == "full":
                paced = api(port, "paced", 32, paced_count, label, rate=size.paced_rate)
                sse = stream(port, size)
    return rows, paced, sse


def register(url: str, plans: dict[str, tuple[int, int]]) -> None:
    """Every task the run cycles through, registered before any clock starts."""
    store = open_store(url)
    service = wire(store).service
    specs = [
        RegisterTask(task_id=task, title=task)
        for prefix, (clients, count) in plans.items()
        for tasks in task_ids(prefix, clients, count)
        for task in tasks
    ]
    service.import_tasks(specs)
    store.close()


def library(url: str, prefix: str, clients: int, count: int, label: str) -> Row:
    """The same cycles in-process: client threads share one ``ClaimService`` behind a
    lock, which is how the server runs them (one service thread, ADR 0009)."""
    lists = task_ids(prefix, clients, count)
    service = open_ledger(url).service
    guard = threading.Lock()
    samples: dict[str, list[int]] = {"op": [], "cycle": []}
    barrier = threading.Barrier(clients + 1)

    def timed(call: Any, *args: Any) -> int:
        started = time.perf_counter_ns()
        with guard:
            call(*args)
        return time.perf_counter_ns() - started

    def client(index: int) -> None:
        session = f"lib-{index}"
        ops: list[int] = []
        cycles: list[int] = []
        barrier.wait()
        for task in lists[index]:
            started = time.perf_counter_ns()
            ops.append(timed(service.claim, task, Claim(session_id=session)))
            ops.append(timed(service.heartbeat, task, Beat(session_id=session)))
            ops.append(timed(service.release, task, Release(session_id=session, reason="paused")))
            cycles.append(time.perf_counter_ns() - started)
        with guard:
            samples["op"] += ops
            samples["cycle"] += cycles

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    service.store.close()
    return _row(f"library, {label}", clients, samples["op"], samples["cycle"], elapsed)


def api(port: int, prefix: str, clients: int, count: int, label: str, rate: float = 0.0) -> Row:
    """Cycles through the API from a load generator in its own process."""
    mode = "paced" if rate else "cycles"
    args = [sys.executable, "-m", "bench.http_load", mode, "--port", str(port)]
    args += ["--clients", str(clients), "--prefix", prefix, "--count", str(count)]
    args += ["--rate", str(rate)]
    result = _load(args)
    samples = result["samples"]
    ops = samples["claim"] + samples["heartbeat"] + samples["release"]
    path = f"HTTP, {label}, paced {rate:g}/s" if rate else f"HTTP, {label}"
    return _row(path, clients, ops, samples["cycle"], result["elapsed"])


def stream(port: int, size: Size) -> SseRow:
    args = [sys.executable, "-m", "bench.http_load", "sse", "--port", str(port)]
    args += ["--clients", str(size.sse_clients), "--prefix", "sse"]
    args += ["--count", str(size.sse_events), "--rate", str(size.sse_rate)]
    result = _load(args)
    latencies = [max(0.0, value) * 1000 for value in result["latencies"]]
    return SseRow(
        clients=size.sse_clients,
        events=size.sse_events,
        deliveries=len(latencies),
        p50_ms=percentile(latencies, 0.5),
        p99_ms=percentile(latencies, 0.99),
        max_ms=max(latencies),
    )


@contextmanager
def server(url: str) -> Iterator[int]:
    """``claims serve`` on a free loopback port, without the sweeper."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMS_")}
    process = subprocess.Popen(
        [CLAIMS, "serve", "--db", url, "--port", str(port), "--no-sweep"],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait(port: int, process: subprocess.Popen[bytes]) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the server did not become ready")


def _load(args: list[str]) -> dict[str, Any]:
    done = subprocess.run(args, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _row(path: str, clients: int, ops: list[int], cycles: list[int], elapsed: float) -> Row:
    ms = [value / 1e6 for value in ops]
    cycle_ms = [value / 1e6 for value in cycles]
    return Row(
        path=path,
        clients=clients,
        cycles=len(cycles),
        cycles_per_s=len(cycles) / elapsed,
        op_p50_ms=percentile(ms, 0.5),
        op_p99_ms=percentile(ms, 0.99),
        cycle_p50_ms=percentile(cycle_ms, 0.5),
        cycle_p99_ms=percentile(cycle_ms, 0.99),
    )


def table(rows: Sequence[Row], paced: Row, sse: SseRow, size: Size) -> str:
    one, five, _ = os.getloadavg()
    lines = [
        f"claim+heartbeat+release cycles on SQLite ({size.name};"
        f" {os.cpu_count()} cores, load average {one:.2f} {five:.2f} at the end)",
        "",
        "| path | clients | cycles | cycles/s | op p50 ms | op p99 ms | cycle p50 ms"
        " | cycle p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in [*rows, paced]:
        lines.append(
            f"| {row.path} | {row.clients} | {row.cycles:,} | {row.cycles_per_s:,.0f}"
            f" | {row.op_p50_ms:.2f} | {row.op_p99_ms:.2f} | {row.cycle_p50_ms:.2f}"
            f" | {row.cycle_p99_ms:.2f} |"
        )
    lines += [
        "",
        f"SSE: {sse.clients} clients, {sse.events} claims at {size.sse_rate:g}/s,"
        f" {sse.deliveries:,} deliveries: commit to delivery p50 {sse.p50_ms:.1f} ms,"
        f" p99 {sse.p99_ms:.1f} ms, max {sse.max_ms:.1f} ms",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
