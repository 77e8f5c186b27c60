"""A fuzz run from the OpenAPI document: no 500, and no answer that breaks the document.

Schemathesis generates requests for every operation (valid ones and, per
operation, invalid ones), sends them to a real server and checks each answer:
not a server error, a documented status, a documented content type, a body that
matches its schema, and invalid input refused. Not checked: that every
schema-valid request succeeds, since the claim rules refuse some of them on
purpose (a done task is TASK_NOT_CLAIMABLE, 400, as seed 002 says).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.http.server import CLAIMS, Server, start_server

EXAMPLES = 25
"""Cases per operation: small enough for CI, about twenty seconds in all."""
STREAMING = {("GET", "/api/events")}
"""Never ends by itself; tested in test_events.py."""


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with a few tasks, one claimed, so that generated requests meet real state."""
    started = start_server(tmp_path_factory.mktemp("fuzz"))
    with started.client() as client:
        for n in range(3):
            client.post("/api/tasks", json={"taskId": f"t{n}", "title": f"T{n}"})
        client.post("/api/tasks/t0/claim", json={"sessionId": "s0"})
    yield started
    started.stop()


def operations(server: Server) -> list[Any]:
    schema = schemathesis.openapi.from_url(server.url("/openapi.json"))
    found = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    return [op for op in found if (op.method.upper(), op.path) not in STREAMING]


def test_fuzz_finds_no_server_error_and_no_undocumented_answer(fuzzed: Server) -> None:
    """Every generated request is answered as the OpenAPI document says, never with a 500."""
    chosen = operations(fuzzed)
    assert len(chosen) >= 20
    failures: list[str] = []
    for operation in chosen:
        try:
            _fuzz(operation, fuzzed.base_url)
        except Exception as error:  # collected: one report for every operation
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")
    assert not failures, "\n\n".join(failures)


def test_fuzz_leaves_a_log_that_verifies(fuzzed: Server) -> None:
    """After the fuzz run the server still answers and ``claims verify`` passes on its log."""
    assert httpx.get(fuzzed.url("/readyz")).status_code == 200
    done = subprocess.run(
        [CLAIMS, "verify", "--db", fuzzed.db, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _fuzz(operation: Any, base_url: str) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        case.call_and_validate(
            base_url=base_url, excluded_checks=[positive_data_acceptance], timeout=30
        )

    check()
