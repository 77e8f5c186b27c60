"""The CLI's ``--json`` prints the bodies the OpenAPI document describes: one class each."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from application.bodies import (
    ClaimResponse,
    CurrentTaskResponse,
    HeartbeatResponse,
    InFlightResponse,
    ReleaseResponse,
    SweepResponse,
    TaskCreated,
    TaskResponse,
)
from tests.e2e.conftest import Claims

CASES: list[tuple[tuple[str, ...], type[msgspec.Struct]]] = [
    (("task", "add", "t2", "--title", "Two"), TaskResponse),
    (("task", "propose", "t3", "--title", "Three", "--fingerprint", "f3"), TaskCreated),
    (("claim", "t1", "--session", "s1"), ClaimResponse),
    (("heartbeat", "t1", "--session", "s1"), HeartbeatResponse),
    (("in-flight",), InFlightResponse),
    (("current-task", "s1"), CurrentTaskResponse),
    (("sweep",), SweepResponse),
    (("release", "t1", "--session", "s1", "--reason", "completed"), ReleaseResponse),
]


@pytest.mark.parametrize(("args", "body"), CASES, ids=lambda case: getattr(case, "__name__", ""))
def test_cli_json_decodes_as_the_documented_body(
    claims: Claims, args: tuple[str, ...], body: type[msgspec.Struct]
) -> None:
    """Each command's JSON is exactly its body class: strict decode, same bytes back."""
    assert claims.json("task", "add", "t1", "--title", "One").code == 0
    for before, _ in CASES[: [c[0] for c in CASES].index(args)]:
        claims.json(*before)
    result = claims.json(*args)
    assert result.code == 0, result.stdout + result.stderr
    decoded = msgspec.json.decode(result.stdout.strip(), type=body, strict=True)
    again: Any = msgspec.json.decode(msgspec.json.encode(decoded))
    assert again == result.body
