"""The cost of one claim as the log grows, and as one task's own stream grows.

Each log is built fast (``bench.seedlog``), then opened with the default
``synchronous=FULL``. A sample is one claim followed by one release (two durable
appends), timed together:

- "fresh task": every sample takes a task from the seeded log that this process
  has not touched (so the service folds its 10-record stream from the store);
- "hot task, warm": a task heartbeated 10,000 times, through one service that
  keeps the folded state in its per-process cache (it folds the stream once, before
  the first sample, and then reads only what is new);
- "hot task, fresh service": the same task through a fresh ``ClaimService`` per
  sample, as a one-shot CLI process would: it starts from the stream's snapshot and
  folds only the records after it (the first sample writes that snapshot);
- then whole fresh processes on the hot task against new tasks (``bench.hot_stream``).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from application.bootstrap import wire
from application.service import ClaimService
from bench.ledger_cycles import RELEASE_REASON
from bench.seedlog import SeededLog, build
from bench.stats import median, percentile
from ledger.commands import Claim, Release
from ledger.store.sqlite import SqliteStore
from ledger.terms import LeaseTerms

SESSION = "bench-growth"


@dataclass(frozen=True)
class Latency:
    """Claim+release latency samples for one case, in milliseconds."""

    case: str
    log_events: int
    stream_records: int
    samples: tuple[float, ...]
    note: str = ""

    @property
    def median_ms(self) -> float:
        return median(self.samples)

    @property
    def p99_ms(self) -> float:
        return percentile(self.samples, 0.99)


@dataclass(frozen=True)
class GrowthPlan:
    small_events: int
    large_events: int
    hot_beats: int
    samples: int
    cold_samples: int


def measure(folder: Path, plan: GrowthPlan) -> tuple[list[Latency], dict[str, float]]:
    """Every growth case, and how long each log took to build (seconds)."""
    from bench import hot_stream  # it builds its rows from this module's ``Latency``

    builds: dict[str, float] = {}
    small, builds["small"] = _timed_build(folder / "small.db", plan.small_events, 0)
    large, builds["large"] = _timed_build(folder / "large.db", plan.large_events, plan.hot_beats)
    rows = [_fresh_tasks(small, plan.samples), _fresh_tasks(large, plan.samples)]
    rows += _hot_task(large, plan)
    rows += hot_stream.measure(large, max(3, plan.cold_samples // 4), folder / "pycache")
    return rows, builds


def _timed_build(path: Path, events: int, hot_beats: int) -> tuple[SeededLog, float]:
    started = time.perf_counter()
    log = build(path, events=events, hot_beats=hot_beats)
    return log, time.perf_counter() - started


def _fresh_tasks(log: SeededLog, samples: int) -> Latency:
    store = SqliteStore(log.path)
    service = wire(store).service
    service.start_session(SESSION, agent_type="bench")
    tasks = random.Random(7).sample(log.tasks, min(samples, len(log.tasks)))
    timings = tuple(_claim_release(service, task) for task in tasks)
    store.close()
    case = "claim+release, a fresh task (10-record stream)"
    return Latency(case, log.events, 10, timings)


def _hot_task(log: SeededLog, plan: GrowthPlan) -> list[Latency]:
    assert log.hot_task is not None
    hot = log.hot_task
    store = SqliteStore(log.path)
    service = wire(store).service
    service.start_session(SESSION, agent_type="bench")
    length = service.task(hot).version
    warm = tuple(_claim_release(service, hot) for _ in range(plan.samples))
    cold = _sampled(plan.cold_samples, lambda: _claim_release(wire(store).service, hot))
    store.close()
    return [
        Latency("claim+release, hot task, warm service", log.events, length, warm),
        Latency("claim+release, hot task, fresh service", log.events, length, cold),
    ]


def _sampled(count: int, sample: Callable[[], float]) -> tuple[float, ...]:
    return tuple(sample() for _ in range(count))


def _claim_release(service: ClaimService, task: str) -> float:
    """Milliseconds for one claim and one release of ``task``."""
    started = time.perf_counter_ns()
    service.claim(task, Claim(session_id=SESSION, terms=LeaseTerms(agent_type="bench")))
    service.release(task, Release(session_id=SESSION, reason=RELEASE_REASON))
    return (time.perf_counter_ns() - started) / 1e6
