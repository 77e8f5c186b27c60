"""One-dimensional arrays sent to PostgreSQL in its binary array format, built in one go.

psycopg dumps a Python list by finding a dumper for its elements, upgrading it for
each array and dumping element by element through its generic machinery: for the
append's fourteen small arrays that was a third of the client's time per group of
appends. An ``Array`` is already in PostgreSQL's binary wire format (``array_send``:
dimensions, then each element's length and bytes), so its dumper only hands the bytes
over. Only the types the append sends are here: ``bytea[]``, ``text[]``, ``int8[]`` and
``int4[]``, each element possibly NULL.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import ClassVar

import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format

_HEADER = struct.Struct(">iiIii")
"""Dimensions (1), has-NULLs flag, element type, then the one dimension: size, lower bound."""
_EMPTY = struct.Struct(">iiI")
"""An empty array: no dimensions, no NULLs, the element type."""
_LENGTH = struct.Struct(">i")
_NULL = _LENGTH.pack(-1)
_INT8 = struct.Struct(">iq")
"""An int8 element: its length (8), then the value."""
_INT4 = struct.Struct(">ii")


class Array:
    """An array already encoded in PostgreSQL's binary format; a subclass per type."""

    __slots__ = ("data",)
    element_oid: ClassVar[int]

    def __init__(self, data: bytes) -> None:
        self.data = data

    @classmethod
    def _encoded(cls, count: int, cells: bytes, *, has_null: bool = False) -> Array:
        """The array of ``count`` elements whose encodings (each with its length
        prefix, or the NULL mark) are ``cells``, joined."""
        if not count:
            return cls(_EMPTY.pack(0, 0, cls.element_oid))
        return cls(_HEADER.pack(1, has_null, cls.element_oid, count, 1) + cells)


class ByteaArray(Array):
    __slots__ = ()
    element_oid = 17

    @classmethod
    def of(cls, items: Sequence[bytes]) -> Array:
        return cls._encoded(len(items), _sized(items))


class TextArray(Array):
    __slots__ = ()
    element_oid = 25

    @classmethod
    def of(cls, items: Sequence[str]) -> Array:
        return cls._encoded(len(items), _sized([item.encode() for item in items]))


class Int8Array(Array):
    __slots__ = ()
    element_oid = 20

    @classmethod
    def of(cls, items: Sequence[int | None]) -> Array:
        pack = _INT8.pack
        return cls._encoded(
            len(items),
            b"".join([_NULL if item is None else pack(8, item) for item in items]),
            has_null=None in items,
        )


class Int4Array(Array):
    __slots__ = ()
    element_oid = 23

    @classmethod
    def of(cls, items: Sequence[int]) -> Array:
        pack = _INT4.pack
        return cls._encoded(len(items), b"".join([pack(4, item) for item in items]))


def _sized(items: Sequence[bytes]) -> bytes:
    """Variable-length elements, each after its length."""
    pack = _LENGTH.pack
    return b"".join([pack(len(item)) + item for item in items])


def _dumper(array: type[Array], array_oid: int) -> type[Dumper]:
    class ArrayDumper(Dumper):
        format = Format.BINARY
        oid = array_oid

        def dump(self, obj: Array) -> bytes:
            return obj.data

    ArrayDumper.__name__ = f"{array.__name__}Dumper"
    psycopg.adapters.register_dumper(array, ArrayDumper)
    return ArrayDumper


DUMPERS = (
    _dumper(ByteaArray, 1001),
    _dumper(TextArray, 1009),
    _dumper(Int8Array, 1016),
    _dumper(Int4Array, 1007),
)
"""Registered on psycopg's global adapters: every connection can send an ``Array``."""
