"""What a projection is: a named, versioned, pure fold over records.

A projection owns a state type (a msgspec Struct, so it can be snapshotted),
says which record types it reads, and applies one record at a time. Bump
``schema_version`` whenever the state's shape or meaning changes: a saved state of
another version is never trusted, the projection is rebuilt from the log.
"""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar

import msgspec

from ledger.records import Record

S = TypeVar("S", bound=msgspec.Struct)


class Projection(Generic[S]):
    name: ClassVar[str]
    schema_version: ClassVar[int]
    state_type: type[S]
    handles: ClassVar[frozenset[str]]
    """The record types ``apply`` reads; the runner skips the others."""

    def initial(self) -> S:
        return self.state_type()

    def apply(self, state: S, record: Record) -> None:
        """Fold one record into ``state`` (in place: states are large and folds hot)."""
        raise NotImplementedError
