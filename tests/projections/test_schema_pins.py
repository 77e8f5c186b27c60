"""Each projection's state shape is pinned to its schema version.

A snapshot is trusted only if its schema version is the code's, so a change to a
state's shape without a new schema version would let an old snapshot be read as
the new shape (new fields at their defaults) instead of rebuilt. When this test
fails: bump the projection's ``schema_version`` and pin the new digest here. A
change of a fold's meaning needs a bump too, which no digest can see.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
import pytest

from projections.base import Projection
from projections.board import PROJECTIONS

PINS = {
    "tasks": (5, "55d54d41082a2156"),
    "claims": (3, "186f2d4fa0f2b914"),
    "sessions": (1, "06310ec21d1aed6d"),
    "fingerprints": (1, "69da310a5870a99e"),
}


def shape_digest(state_type: type[Any]) -> str:
    """The state's JSON schema without titles and descriptions (docs may change freely)."""
    schema = _without_prose(msgspec.json.schema(state_type))
    return hashlib.sha256(msgspec.json.encode(schema, order="deterministic")).hexdigest()[:16]


def _without_prose(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_prose(v) for k, v in value.items() if k not in ("title", "description")}
    if isinstance(value, list):
        return [_without_prose(item) for item in value]
    return value


@pytest.mark.parametrize("projection", PROJECTIONS, ids=lambda p: p.name)
def test_state_shape_matches_its_pinned_schema_version(projection: Projection[Any]) -> None:
    """The state's shape digest is the one pinned for its current schema version."""
    digest = shape_digest(projection.state_type)
    assert (projection.schema_version, digest) == PINS[projection.name]
