"""The claim, heartbeat, release and takeover bodies as msgspec Structs, for the hot path.

They accept exactly what the pydantic models of ``api.models.requests`` accept, with
the same values (``tests/http/test_lease_schemas.py`` holds them to it): strict types,
unknown members refused, ``60000.0`` taken as the integer 60000, the same lengths,
ranges and id pattern. ``metadata`` is kept as raw JSON and read with ``json.loads``,
the parser FastAPI uses, so that its numbers and its nesting limit are the same.

What they refuse goes to the FastAPI route, whose pydantic model answers the 400
VALIDATION_ERROR, so a refusal reads the same whichever path saw the body first.

The ``*Body`` protocols are what the routes' command builders read: the pydantic
model and the Struct of a body both satisfy them.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Protocol

import msgspec

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]*\Z"
"""``api.models.requests.ID_PATTERN`` for Python's ``re``, whose ``$`` also matches
before a final newline (pydantic's regex engine does not)."""
MAX_WHOLE = 2**53

SessionId = Annotated[str, msgspec.Meta(max_length=128, pattern=ID_PATTERN)]
Text = Annotated[str, msgspec.Meta(max_length=500)]
Labels = Annotated[list[Text], msgspec.Meta(max_length=100)]
Number = int | float
"""A whole number of milliseconds or a fencing token, checked by ``_whole``."""
EMPTY_OBJECT = msgspec.Raw(b"{}")


def _whole(value: Number | None, name: str) -> int | None:
    """``Millis`` and ``Token`` of the pydantic models: a JSON number with no fraction,
    0 to 2**53; a float such as ``60000.0`` becomes the integer."""
    if value is None:
        return None
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{name} must be a whole number")
        value = int(value)
    if not 0 <= value <= MAX_WHOLE:
        raise ValueError(f"{name} must be between 0 and {MAX_WHOLE}")
    return value


def _object(raw: msgspec.Raw) -> dict[str, Any]:
    """The ``metadata`` member as FastAPI's ``json.loads`` reads it; a JSON object only."""
    if raw is EMPTY_OBJECT:
        return {}
    value = json.loads(bytes(raw))
    if not isinstance(value, dict):
        raise ValueError("metadata must be an object")
    return value


class _Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class LeaseBody(Protocol):
    """What a claim and a takeover carry."""

    @property
    def sessionId(self) -> str: ...
    @property
    def ttlMs(self) -> int | None: ...
    @property
    def agentType(self) -> str | None: ...
    @property
    def tier(self) -> str | None: ...
    @property
    def scope(self) -> list[str]: ...
    @property
    def constraints(self) -> list[str]: ...
    @property
    def metadata(self) -> dict[str, Any]: ...


class ClaimBody(LeaseBody, Protocol):
    @property
    def requestId(self) -> str | None: ...


class HeartbeatBody(Protocol):
    @property
    def sessionId(self) -> str: ...
    @property
    def extendMs(self) -> int | None: ...
    @property
    def fencingToken(self) -> int | None: ...


class ReleaseBody(Protocol):
    @property
    def sessionId(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def fencingToken(self) -> int | None: ...


class TakeoverBody(LeaseBody, Protocol):
    @property
    def reason(self) -> str | None: ...
    @property
    def force(self) -> bool: ...
    @property
    def forcedBy(self) -> str | None: ...


class _Lease(_Strict):
    sessionId: SessionId
    ttl: Number | None = msgspec.field(default=None, name="ttlMs")
    agentType: Text | None = None
    tier: Text | None = None
    scope: Labels = msgspec.field(default_factory=list)
    constraints: Labels = msgspec.field(default_factory=list)
    rawMetadata: msgspec.Raw = msgspec.field(default=EMPTY_OBJECT, name="metadata")

    def __post_init__(self) -> None:
        self.ttl = _whole(self.ttl, "ttlMs")
        _object(self.rawMetadata)

    @property
    def ttlMs(self) -> int | None:
        assert not isinstance(self.ttl, float)
        return self.ttl

    @property
    def metadata(self) -> dict[str, Any]:
        """Read again on each use (checked once when decoded): a fresh dict each time."""
        return _object(self.rawMetadata)


class ClaimStruct(_Lease):
    """``ClaimRequest``."""

    requestId: Text | None = None


class TakeoverStruct(_Lease):
    """``TakeoverRequest``."""

    reason: Text | None = None
    force: bool = False
    forcedBy: Text | None = None


class HeartbeatStruct(_Strict):
    """``HeartbeatRequest``."""

    sessionId: SessionId
    extend: Number | None = msgspec.field(default=None, name="extendMs")
    token: Number | None = msgspec.field(default=None, name="fencingToken")

    def __post_init__(self) -> None:
        self.extend = _whole(self.extend, "extendMs")
        self.token = _whole(self.token, "fencingToken")

    @property
    def extendMs(self) -> int | None:
        assert not isinstance(self.extend, float)
        return self.extend

    @property
    def fencingToken(self) -> int | None:
        assert not isinstance(self.token, float)
        return self.token


class ReleaseStruct(_Strict):
    """``ReleaseRequest``."""

    sessionId: SessionId
    reason: Text = "released"
    token: Number | None = msgspec.field(default=None, name="fencingToken")

    def __post_init__(self) -> None:
        self.token = _whole(self.token, "fencingToken")

    @property
    def fencingToken(self) -> int | None:
        assert not isinstance(self.token, float)
        return self.token
