"""The HTTP load generator, run as its own process: ``python -m bench.http_load MODE ...``.

It speaks plain HTTP/1.1 with keep-alive over asyncio streams (one connection per
client), so that the generator costs little next to the server it measures, and
prints one JSON document of raw samples on stdout.

Modes:
- ``cycles``: each client runs claim, heartbeat, release on its own tasks, as fast
  as the server answers (closed loop).
- ``paced``: the same cycles started at a fixed total rate, spread over the
  clients (open loop), to see the latency at a given load.
- ``sse``: N clients follow ``/api/events`` while one writer claims tasks at a
  fixed rate; each delivery is timed against the record's ``recordedAt``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

OPS = ("claim", "heartbeat", "release")


class Connection:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        payload = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        )
        self.writer.write(head.encode() + payload)
        return await self._answer()

    async def get_stream(self, path: str) -> None:
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        status = await self.reader.readline()
        assert b" 200 " in status, status
        while (await self.reader.readline()) not in (b"\r\n", b""):
            pass

    async def _answer(self) -> tuple[int, bytes]:
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def cycle(conn: Connection, task: str, session: str, samples: dict[str, list[int]]) -> None:
    """Claim, heartbeat and release one task, timing each request in nanoseconds."""
    bodies = (
        (f"/api/tasks/{task}/claim", {"sessionId": session}),
        (f"/api/tasks/{task}/claim/heartbeat", {"sessionId": session}),
        (f"/api/tasks/{task}/release", {"sessionId": session, "reason": "paused"}),
    )
    started = time.perf_counter_ns()
    for op, (path, body) in zip(OPS, bodies, strict=True):
        sent = time.perf_counter_ns()
        status, answer = await conn.post(path, body)
        if status != 200:
            raise RuntimeError(f"{op} {task}: {status} {answer[:200]!r}")
        samples[op].append(time.perf_counter_ns() - sent)
    samples["cycle"].append(time.perf_counter_ns() - started)


async def run_cycles(port: int, clients: int, tasks: Sequence[Sequence[str]]) -> dict[str, Any]:
    conns = [await Connection.open(port) for _ in range(clients)]
    samples: dict[str, list[int]] = {op: [] for op in (*OPS, "cycle")}

    async def client(index: int) -> None:
        for task in tasks[index]:
            await cycle(conns[index], task, f"bench-{index}", samples)

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.perf_counter() - started
    for conn in conns:
        conn.close()
    return {"elapsed": elapsed, "cycles": len(samples["cycle"]), "samples": samples}


async def run_paced(
    port: int, clients: int, tasks: Sequence[Sequence[str]], rate: float
) -> dict[str, Any]:
    """Start cycles at ``rate`` per second in all; a late cycle starts at once."""
    conns = [await Connection.open(port) for _ in range(clients)]
    samples: dict[str, list[int]] = {op: [] for op in (*OPS, "cycle")}
    interval = clients / rate
    started = time.perf_counter()

    async def client(index: int) -> None:
        due = started + index * (interval / clients)
        for task in tasks[index]:
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await cycle(conns[index], task, f"bench-{index}", samples)
            due += interval

    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.perf_counter() - started
    for conn in conns:
        conn.close()
    return {"elapsed": elapsed, "cycles": len(samples["cycle"]), "samples": samples, "rate": rate}


async def run_sse(port: int, clients: int, tasks: Sequence[str], rate: float) -> dict[str, Any]:
    """``clients`` followers; one writer claims ``tasks`` at ``rate`` per second."""
    followers = [await Connection.open(port) for _ in range(clients)]
    for conn in followers:
        await conn.get_stream("/api/events")
    latencies: list[float] = []
    expected = len(tasks)

    async def follow(conn: Connection) -> None:
        seen = 0
        while seen < expected:
            line = await conn.reader.readline()
            if not line.startswith(b"data: "):
                continue
            arrived = time.time()
            event = json.loads(line[6:])
            if event["type"] != "task:claimed":
                continue
            recorded = datetime.fromisoformat(event["recordedAt"].replace("Z", "+00:00"))
            latencies.append(arrived - recorded.timestamp())
            seen += 1

    async def write() -> None:
        conn = await Connection.open(port)
        await asyncio.sleep(0.5)
        for task in tasks:
            status, answer = await conn.post(f"/api/tasks/{task}/claim", {"sessionId": "writer"})
            if status != 200:
                raise RuntimeError(f"claim {task}: {status} {answer[:200]!r}")
            await asyncio.sleep(1 / rate)
        conn.close()

    await asyncio.wait_for(
        asyncio.gather(write(), *(follow(conn) for conn in followers)), timeout=300
    )
    for conn in followers:
        conn.close()
    return {"clients": clients, "events": expected, "latencies": latencies}


def task_ids(prefix: str, clients: int, count: int) -> list[list[str]]:
    """The tasks each client cycles through (registered beforehand by ``bench.http_api``)."""
    return [[f"{prefix}-{i}-{n}" for n in range(count)] for i in range(clients)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http_load")
    parser.add_argument("mode", choices=("cycles", "paced", "sse"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--prefix", required=True, help="client i cycles PREFIX-i-0, PREFIX-i-1…")
    parser.add_argument("--count", type=int, required=True, help="tasks per client")
    parser.add_argument("--rate", type=float, default=0.0)
    args = parser.parse_args(argv)
    tasks = task_ids(args.prefix, args.clients, args.count)
    if args.mode == "cycles":
        result = asyncio.run(run_cycles(args.port, args.clients, tasks))
    elif args.mode == "paced":
        result = asyncio.run(run_paced(args.port, args.clients, tasks, args.rate))
    else:
        result = asyncio.run(run_sse(args.port, args.clients, tasks[0], args.rate))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
