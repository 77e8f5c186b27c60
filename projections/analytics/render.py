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
_CONTROL: Final = "'[\\x00-\\x1f]'"


def json_str(column: str) -> str:
    """A ``VARCHAR`` as msgspec encodes a ``str | None``. DuckDB's ``to_json`` agrees
    except for the case of some ``\\u`` escapes, so a string with a control character
    is escaped here instead."""
    return (
        f"CASE WHEN {column} IS NULL THEN 'null'"
        f" WHEN regexp_matches({column}, {_CONTROL}) THEN {_escaped(column)}"
        f" ELSE to_json({column})::VARCHAR END"
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
    Python's ``repr``; msgspec differs in two ways: its exponent has no sign or
    leading zeros (``1e-07`` is ``1e-7``, ``1e+16`` is ``1e16``), and it writes
    ``1e-5 <= |x| < 1e-4`` in fixed notation (``6.1e-05`` is ``0.000061``)."""
    text = f"{column}::VARCHAR"
    digits = f"replace(regexp_extract({text}, '^-?([0-9.]+)e', 1), '.', '')"
    return (
        f"CASE WHEN {column} IS NULL THEN 'null'"
        f" WHEN abs({column}) >= 1e-5::DOUBLE AND abs({column}) < 1e-4::DOUBLE"
        f" THEN (CASE WHEN {column} < 0 THEN '-' ELSE '' END) || '0.0000' || {digits}"
        f" WHEN contains({text}, 'e')"
        f" THEN regexp_replace({text}, 'e\\+?(-?)0*(\\d)', 'e\\1\\2') ELSE {text} END"
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
    (the keys are plain ASCII names and are not escaped)."""
    parts = [
        f"'{'{' if index == 0 else ','}\"{key}\":' || {value}"
        for index, (key, value) in enumerate(members)
    ]
    return "(" + " || ".join(parts) + " || '}')"


def csv_str(column: str) -> str:
    """A ``VARCHAR`` as ``csv.writer`` writes a ``str | None``: quoted (quotes doubled)
    when it holds a comma, a quote or a newline."""
    return (
        f"CASE WHEN {column} IS NULL THEN ''"
        f" WHEN regexp_matches({column}, '[,\"\\n]')"
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
    """One CSV line (no terminator) of rendered SQL expressions."""
    return " || ',' || ".join(fields)
