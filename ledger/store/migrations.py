"""Versioned DDL: numbered ``.sql`` files per dialect, applied once, recorded in a table."""

from __future__ import annotations

from pathlib import Path

import msgspec


class Migration(msgspec.Struct, frozen=True):
    version: int
    name: str
    sql: str


MIGRATIONS_TABLE = "schema_migrations"


def load_migrations(dialect: str) -> list[Migration]:
    """The migrations shipped for ``dialect`` (``sqlite``, ``postgres``), oldest first."""
    folder = Path(__file__).parent / "sql" / dialect
    found: list[Migration] = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        number, _, rest = entry.name.partition("_")
        found.append(
            Migration(version=int(number), name=rest.removesuffix(".sql"), sql=entry.read_text())
        )
    found.sort(key=lambda migration: migration.version)
    return found
