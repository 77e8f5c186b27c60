"""SQL expressions that render DuckDB values as text, byte for byte as Python would.

Long answers (a payout per task and worker over the whole history) are written by
DuckDB as text and streamed out a page at a time, instead of becoming Python
objects first. These expressions make that text identical to what the answer's
Structs would encode to: ``msgspec.json`` for JSON, and ``csv.writer`` (the
default dialect with ``lineterminator="\\n"``) for CSV, where a value is written as
``str(value)`` and ``None`` as an empty field. ``tests/analytics/test_render.py``
holds each expression to its Python counterpart.
"""

from __future__ import annotations

from typing import Final

_SHORT_ESCAPES: Final = {8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r"}


def json_str(column: str) -> str:
    """A ``VARCHAR`` as msgspec encodes a ``str | None``. DuckDB's ``to_json`` agrees
    except for the case of some ``\\u00XX`` escapes (of control characters), so a
    string whose JSON holds ``\\u00`` is escaped here instead (a substring test costs
    less than a regular expression on every string)."""
    encoded = f"to_json({column})::VARCHAR"
    return (
        f"CASE WHEN {column} IS NULL THEN 'null'"
        f" WHEN contains({encoded}, '\\u00') THEN {_escaped(column)}"
        f" ELSE {encoded} END"
    )


def _escaped(column: str) -> str:
    text = f"replace(replace({column}, '\\', '\\\\'), '\"', '\\\"')"
    for code in range(32):
        escape = _SHORT_ESCAPES.get(code, f"\\u{code:04x}")
        text = f"replace({text}, chr({code}), '{escape}')"
    return f"'\"' || {text} || '\"'"


def json_int(column: str) -> str:
    """An integer column as msgspec encodes an ``int | None``."""
    return f"coalesce({column}::VARCHAR, 'null')"


def json_float(column: str) -> str:
    """A ``DOUBLE`` as msgspec encodes a finite ``float``. DuckDB's cast to text is
    Python's ``repr``, which msgspec matches for ``1e-4 <= |x| < 1e16`` and 0 (tested
    first: the common case costs one cast); elsewhere msgspec's exponent has no sign or
    leading zeros (``1e-07`` is ``1e-7``, ``1e+16`` is ``1e16``), and it writes
    ``1e-5 <= |x| < 1e-4`` in fixed notation (``6.1e-05`` is ``0.000061``)."""
    text = f"{column}::VARCHAR"
    digits = f"replace(regexp_extract({text}, '^-?([0-9.]+)e', 1), '.', '')"
    magnitude = f"abs({column})"
    return (
        f"CASE WHEN {column} IS NULL THEN 'null'"
        f" WHEN ({magnitude} >= 1e-4::DOUBLE AND {magnitude} < 1e16::DOUBLE) OR {column} = 0"
        f" THEN {text}"
        f" WHEN {magnitude} >= 1e-5::DOUBLE AND {magnitude} < 1e-4::DOUBLE"
        f" THEN (CASE WHEN {column} < 0 THEN '-' ELSE '' END) || '0.0000' || {digits}"
        f" ELSE regexp_replace({text}, 'e\\+?(-?)0*(\\d)', 'e\\1\\2') END"
    )


def json_time(column: str) -> str:
    """A ``TIMESTAMPTZ`` (the connection's time zone is UTC) as msgspec encodes an
    aware ``datetime``: microseconds only when there are some, then ``Z``."""
    return (
        f"CASE WHEN {column} IS NULL THEN 'null'"
        f" WHEN epoch_us({column}) % 1000000 = 0"
        f" THEN strftime({column}, '\"%Y-%m-%dT%H:%M:%SZ\"')"
        f" ELSE strftime({column}, '\"%Y-%m-%dT%H:%M:%S.%fZ\"') END"
    )


def json_bool(column: str) -> str:
    """A ``BOOLEAN`` as msgspec encodes a ``bool | None``."""
    return f"CASE WHEN {column} IS NULL THEN 'null' WHEN {column} THEN 'true' ELSE 'false' END"


def json_object(members: list[tuple[str, str]]) -> str:
    """A JSON object of ``(key, rendered SQL expression)`` pairs, keys in that order
    (the keys are plain ASCII names and are not escaped). One ``concat`` builds it in
    one pass (a chain of ``||`` makes a string per step)."""
    parts: list[str] = []
    for index, (key, value) in enumerate(members):
        parts += [f"'{'{' if index == 0 else ','}\"{key}\":'", value]
    return f"concat({', '.join(parts)}, '}}')"


def csv_str(column: str) -> str:
    """A ``VARCHAR`` as ``csv.writer`` writes a ``str | None``: quoted (quotes doubled)
    when it holds a comma, a quote or a newline."""
    return (
        f"CASE WHEN {column} IS NULL THEN ''"
        f" WHEN contains({column}, ',') OR contains({column}, '\"')"
        f" OR contains({column}, chr(10))"
        f" THEN '\"' || replace({column}, '\"', '\"\"') || '\"'"
        f" ELSE {column} END"
    )


def csv_number(column: str) -> str:
    """An integer or ``DOUBLE`` as ``csv.writer`` writes an ``int``/``float | None``
    (``str``, which is ``repr`` for a float)."""
    return f"coalesce({column}::VARCHAR, '')"


def csv_time(column: str) -> str:
    """A ``TIMESTAMPTZ`` (UTC) as ``csv.writer`` writes an aware ``datetime``: ``str``."""
    return (
        f"CASE WHEN {column} IS NULL THEN ''"
        f" WHEN epoch_us({column}) % 1000000 = 0"
        f" THEN strftime({column}, '%Y-%m-%d %H:%M:%S+00:00')"
        f" ELSE strftime({column}, '%Y-%m-%d %H:%M:%S.%f+00:00') END"
    )


def csv_bool(column: str) -> str:
    """A ``BOOLEAN`` as ``csv.writer`` writes a ``bool | None``: ``True``, ``False``, empty."""
    return f"CASE WHEN {column} IS NULL THEN '' WHEN {column} THEN 'True' ELSE 'False' END"


def csv_iso(column: str) -> str:
    """A ``TIMESTAMPTZ`` (UTC) as ``csv.writer`` writes the text msgspec turns an aware
    ``datetime`` into (``msgspec.to_builtins``): ``json_time`` without its quotes."""
    return f"CASE WHEN {column} IS NULL THEN '' ELSE trim({json_time(column)}, '\"') END"


def csv_line(fields: list[str]) -> str:
    """One CSV line (no terminator) of rendered SQL expressions (never ``NULL``)."""
    return f"concat_ws(',', {', '.join(fields)})"
