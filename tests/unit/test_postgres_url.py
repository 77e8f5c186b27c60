"""PostgreSQL store URLs: the ledger's options out, libpq's through unchanged,
passwords never shown."""

from __future__ import annotations

import pytest
from psycopg.conninfo import conninfo_to_dict

from ledger.errors import InvalidStoreUrl
from ledger.store.postgres_url import parse_postgres_url, redact


def test_the_ledgers_options_are_taken_out_and_libpqs_pass_through() -> None:
    found = parse_postgres_url(
        "postgresql://app@db:6432/work?schema=team_a&pool_size=8&statement_timeout=500"
        "&retry_for=3&migrate=false&sslmode=require&application_name=agents"
    )

    assert (found.schema, found.pool_size, found.statement_timeout_ms) == ("team_a", 8, 500)
    assert (found.retry_for_s, found.migrate, found.connect_timeout_s) == (3, False, 5)
    passed = conninfo_to_dict(found.conninfo)
    assert passed["sslmode"] == "require"
    assert passed["application_name"] == "agents"
    assert "schema" not in passed
    assert "pool_size" not in passed


def test_a_libpq_option_keeps_its_spaces() -> None:
    """``options=-c a=b`` reaches libpq with its space (not turned into ``+``)."""
    found = parse_postgres_url(
        "postgresql://app@db/work?options=-c%20synchronous_commit%3Doff&connect_timeout=2"
    )

    passed = conninfo_to_dict(found.conninfo)
    assert passed["options"] == "-c synchronous_commit=off"
    assert found.connect_timeout_s == 2


def test_the_display_url_hides_the_password_and_names_the_schema() -> None:
    found = parse_postgres_url("postgresql://app:s3cret@db:5432/work?pool_size=2")

    assert "s3cret" not in found.display
    assert found.display == "postgresql://app:***@db:5432/work?schema=claims&pool_size=2"
    assert redact("postgresql://app:pw@db/work") == "postgresql://app:***@db/work"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://db/work?schema=Bad-Name",
        "postgresql://db/work?schema=pg_ledger",
        "postgresql://db/work?schema=" + "a" * 49,
        "postgresql://db/work?pool_size=0",
        "postgresql://db/work?pool_size=many",
        "postgresql://db/work?statement_timeout=-1",
        "postgresql://db/work?migrate=maybe",
        "postgresql://db/work?connect_timeout=0",
    ],
)
def test_bad_options_are_invalid_store_urls(url: str) -> None:
    with pytest.raises(InvalidStoreUrl):
        parse_postgres_url(url)
