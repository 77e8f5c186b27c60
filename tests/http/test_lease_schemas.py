"""The msgspec Structs of the hot path take exactly what the pydantic models take.

Each body, generated or from the table, is read twice: as FastAPI reads it
(``json.loads``, then the pydantic model of ``api.models.requests``) and as the hot
path does (the Struct of ``api.models.leases``). Both accept it with the same
command, or both refuse it. The OpenAPI document, which the pydantic models give,
is the one recorded before the hot path came (``openapi.json`` beside this file).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import msgspec
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from api.models.leases import ClaimStruct, HeartbeatStruct, ReleaseStruct, TakeoverStruct
from api.models.requests import ClaimRequest, HeartbeatRequest, ReleaseRequest, TakeoverRequest
from api.routes.claims import claim_command, takeover_command
from api.runtime import ServerOptions
from ledger.commands import Beat, Release

PAIRS: list[tuple[type[pydantic.BaseModel], type[msgspec.Struct]]] = [
    (ClaimRequest, ClaimStruct),
    (HeartbeatRequest, HeartbeatStruct),
    (ReleaseRequest, ReleaseStruct),
    (TakeoverRequest, TakeoverStruct),
]
SNAPSHOT = Path(__file__).with_name("openapi.json")


def _command(body: Any) -> object:
    """What the route builds from a body, pydantic or Struct alike."""
    if isinstance(body, ClaimRequest | ClaimStruct):
        return claim_command(body)
    if isinstance(body, TakeoverRequest | TakeoverStruct):
        return takeover_command(body)
    if isinstance(body, HeartbeatRequest | HeartbeatStruct):
        return Beat(
            session_id=body.sessionId, extend_ms=body.extendMs, fencing_token=body.fencingToken
        )
    assert isinstance(body, ReleaseRequest | ReleaseStruct)
    return Release(session_id=body.sessionId, reason=body.reason, fencing_token=body.fencingToken)


def _by_pydantic(model: type[pydantic.BaseModel], raw: bytes) -> object | None:
    try:
        return _command(model.model_validate(json.loads(raw)))
    except (ValueError, pydantic.ValidationError, RecursionError):
        return None


def _by_struct(struct: type[msgspec.Struct], raw: bytes) -> object | None:
    try:
        return _command(msgspec.json.decode(raw, type=struct))
    except (msgspec.DecodeError, ValueError, RecursionError):
        return None


def _agree(raw: bytes) -> None:
    for model, struct in PAIRS:
        assert _by_struct(struct, raw) == _by_pydantic(model, raw), (model.__name__, raw)


TABLE: list[Any] = [
    {"sessionId": "a"},
    {"sessionId": "a", "ttlMs": 60000},
    {"sessionId": "a", "ttlMs": 60000.0},
    {"sessionId": "a", "ttlMs": 60000.5},
    {"sessionId": "a", "ttlMs": -1},
    {"sessionId": "a", "ttlMs": 2**53},
    {"sessionId": "a", "ttlMs": 2**53 + 1},
    {"sessionId": "a", "ttlMs": 1e300},
    {"sessionId": "a", "ttlMs": True},
    {"sessionId": "a", "ttlMs": "60000"},
    {"sessionId": "a", "ttlMs": None},
    {"sessionId": "a", "extendMs": 5, "fencingToken": 3},
    {"sessionId": "a", "extendMs": 5.0, "fencingToken": 3.0},
    {"sessionId": "a", "fencingToken": -0.0},
    {"sessionId": "a", "fencingToken": "3"},
    {"sessionId": "a", "reason": "completed"},
    {"sessionId": "a", "reason": None},
    {"sessionId": "a", "reason": "x" * 500},
    {"sessionId": "a", "reason": "x" * 501},
    {"sessionId": "a", "force": True, "reason": "stuck", "forcedBy": "ops"},
    {"sessionId": "a", "force": 1},
    {"sessionId": "a", "requestId": "r-1"},
    {"sessionId": "a", "agentType": "autonomous", "tier": "t1"},
    {"sessionId": "a", "scope": ["src/x.py"], "constraints": ["no-push"]},
    {"sessionId": "a", "scope": ["x"] * 100},
    {"sessionId": "a", "scope": ["x"] * 101},
    {"sessionId": "a", "scope": ["x" * 501]},
    {"sessionId": "a", "scope": [1]},
    {"sessionId": "a", "scope": None},
    {"sessionId": "a", "metadata": {"k": [1, 2.5, None, {"n": 10**30}]}},
    {"sessionId": "a", "metadata": []},
    {"sessionId": "a", "metadata": None},
    {"sessionId": "a", "ttl": 60000},
    {"sessionId": "a b"},
    {"sessionId": "a\n"},
    {"sessionId": "-a"},
    {"sessionId": "a" * 128},
    {"sessionId": "a" * 129},
    {"sessionId": "é"},
    {"sessionId": 7},
    {},
    [],
    "a",
    None,
]


@pytest.mark.parametrize("body", TABLE)
def test_the_table_is_read_alike(body: Any) -> None:
    _agree(json.dumps(body).encode())


@pytest.mark.parametrize(
    "raw",
    [
        b'{"sessionId": "a", "sessionId": "b"}',
        b'{"sessionId": "a", "metadata": {"x": NaN}}',
        b'{"sessionId": "a", "ttlMs": 1e400}',
        b'{"sessionId": "a", "metadata": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"sessionId": "\\ud800"}',
        b'{"sessionId": "a"} trailing',
        b"\xef\xbb\xbf" + b'{"sessionId": "a"}',
        b"",
    ],
)
def test_raw_bodies_are_read_alike(raw: bytes) -> None:
    """Duplicates, non-standard numbers, deep nesting, broken text: never accepted by
    the Struct with another meaning (a body it refuses goes to the route)."""
    for model, struct in PAIRS:
        by_struct = _by_struct(struct, raw)
        assert by_struct is None or by_struct == _by_pydantic(model, raw)


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.sampled_from([0, 1, 60000, 2**53, 2**53 + 1, 60000.0, 0.5, -1.0, 1e20]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(["a", "session-1", "x" * 129, "a\n", "a b", "completed"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)
_members = st.sampled_from(
    [
        "sessionId",
        "ttlMs",
        "extendMs",
        "fencingToken",
        "reason",
        "force",
        "forcedBy",
        "agentType",
        "tier",
        "scope",
        "constraints",
        "metadata",
        "requestId",
        "other",
    ]
)
_bodies = st.fixed_dictionaries({"sessionId": st.sampled_from(["a", "s-1", "a b"])}).flatmap(
    lambda base: st.dictionaries(_members, _values, max_size=5).map(lambda more: base | more)
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_bodies)
def test_generated_bodies_are_read_alike(body: dict[str, Any]) -> None:
    _agree(json.dumps(body).encode())


def test_the_openapi_document_is_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The routes stay declared with their pydantic bodies: the document is the one
    recorded before the hot path (all but the package version)."""
    for name in [name for name in os.environ if name.startswith("CLAIMS_")]:
        monkeypatch.delenv(name)
    app = create_app(ServerOptions(db=f"sqlite://{tmp_path / 'doc.db'}", sweep=False))
    try:
        document = app.openapi()
    finally:
        app.state.runtime.close()
    document["info"].pop("version")
    assert document == json.loads(SNAPSHOT.read_text())
