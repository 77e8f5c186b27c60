"""Writers on PostgreSQL whose host clocks are wrong (libfaketime): one hour ahead, ten
minutes behind. The server's clock decides (ADR 0017): no second holder of a live
lease, no lease extended into the past, and the log shows the server's times."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import msgspec
import pytest

from application.bootstrap import Ledger, open_ledger
from ledger.commands import Claim, RegisterTask
from ledger.config import ClaimConfig
from ledger.store.postgres import PostgresStore
from ledger.terms import LeaseTerms
from tests import pg_server
from tests.campaign.checker import check_claims, check_server_time
from tests.campaign.faketimed import faketimed_command
from tests.integration.clock_workers import ClockOutcome
from tests.integration.harness import HANG_GUARD_SECONDS, REPO_ROOT, worker_env

AHEAD = "+1h"
BEHIND = "-10m"
MINUTE = 60_000
SHORT_LEASES = {"CLAIMS_MIN_TTL": "1"}
"""Leases of a few hundred milliseconds, so that a lease lapses within the test."""

pytestmark = pytest.mark.slow


@pytest.fixture
def url() -> str:
    """A fresh, empty PostgreSQL ledger."""
    return pg_server.fresh_url()


@pytest.fixture
def ledger(url: str) -> Iterator[Ledger]:
    """The ledger at ``url`` with task t1, opened as agents open it."""
    opened = open_ledger(url, config=ClaimConfig(min_ttl=1))
    opened.service.register_task(RegisterTask(task_id="t1", title="T"))
    yield opened
    opened.close()


def _start(url: str, offset: str, *args: str) -> subprocess.Popen[bytes]:
    """``clock_workers`` with libfaketime's clock moved by ``offset`` (monotonic left alone)."""
    worker = "tests.integration.clock_workers"
    command, env = faketimed_command(offset, worker, [url, *args], {**worker_env(), **SHORT_LEASES})
    return subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE)


def _finish(proc: subprocess.Popen[bytes]) -> ClockOutcome:
    out, _ = proc.communicate(timeout=HANG_GUARD_SECONDS)
    assert proc.returncode == 0, f"{proc.args!r} failed with {proc.returncode}"
    return msgspec.json.decode(out, type=ClockOutcome)


def _run(url: str, offset: str, *args: str) -> ClockOutcome:
    return _finish(_start(url, offset, *args))


def _server_now(ledger: Ledger) -> datetime:
    store = ledger.store
    assert isinstance(store, PostgresStore)
    return store.ledger_now()


def _until_server_passes(ledger: Ledger, when: datetime) -> None:
    """Wait until the server's clock is past ``when`` (a lease lapsing)."""
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while _server_now(ledger) <= when:
        assert time.monotonic() < deadline, "the server's clock never passed the lease"
        time.sleep(0.02)


def _log_problems(ledger: Ledger) -> list[str]:
    records = list(ledger.store.read_all())
    return [*check_claims(records), *check_server_time(records)]


def test_faketime_moves_the_workers_clock(ledger: Ledger, url: str) -> None:
    """The fault is real: the worker's own clock reads an hour past the server's."""
    outcome = _run(url, AHEAD, "claim", "t1", "s1")

    assert outcome.host_now - _server_now(ledger) > timedelta(minutes=50)


def test_a_writer_an_hour_ahead_does_not_take_a_live_lease(ledger: Ledger, url: str) -> None:
    """Its clock says the 30-minute lease lapsed; the server's says not: refused."""
    ledger.service.claim("t1", Claim(session_id="s1"))

    outcome = _run(url, AHEAD, "claim", "t1", "s2")

    assert outcome.code == "TASK_ALREADY_CLAIMED"
    assert _log_problems(ledger) == []


def test_a_writer_an_hour_ahead_cannot_take_over_a_live_lease(ledger: Ledger, url: str) -> None:
    """An unforced takeover needs the lease lapsed on the server's clock."""
    ledger.service.claim("t1", Claim(session_id="s1"))

    outcome = _run(url, AHEAD, "takeover", "t1", "s2")

    assert outcome.code == "TASK_ALREADY_CLAIMED"


def test_a_holder_behind_cannot_renew_a_lapsed_lease(ledger: Ledger, url: str) -> None:
    """Its clock says the lease is live; the server's says it lapsed: CLAIM_EXPIRED."""
    claimed = ledger.service.claim("t1", Claim(session_id="s1", terms=LeaseTerms(ttl_ms=200))).lease
    _until_server_passes(ledger, claimed.expires_at)

    outcome = _run(url, BEHIND, "heartbeat", "t1", "s1", "--extend-ms", str(MINUTE))

    assert outcome.code == "CLAIM_EXPIRED"
    assert _log_problems(ledger) == []


def test_a_holder_behind_extends_from_the_servers_time(ledger: Ledger, url: str) -> None:
    """A heartbeat of five minutes ends five minutes after the server's time, not in
    the past of it."""
    ledger.service.claim("t1", Claim(session_id="s1"))

    outcome = _run(url, BEHIND, "heartbeat", "t1", "s1", "--extend-ms", str(5 * MINUTE))

    [beat] = list(ledger.store.read_all())[-1:]
    assert outcome.expires_at == beat.occurred_at + timedelta(minutes=5)
    assert beat.occurred_at <= beat.recorded_at < outcome.expires_at
    assert _log_problems(ledger) == []


def test_skewed_writers_racing_for_one_task_leave_one_holder(ledger: Ledger, url: str) -> None:
    """Writers ahead, behind and on time claim at once: one wins, the log is sound."""
    offsets = {"ahead": AHEAD, "behind": BEHIND, "on-time": "+0"}
    procs = {name: _start(url, offset, "claim", "t1", name) for name, offset in offsets.items()}

    outcomes = {name: _finish(proc) for name, proc in procs.items()}

    winners = [name for name, outcome in outcomes.items() if outcome.code is None]
    assert len(winners) == 1
    assert {outcome.code for outcome in outcomes.values()} == {None, "TASK_ALREADY_CLAIMED"}
    assert _log_problems(ledger) == []
