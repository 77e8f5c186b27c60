"""The PostgreSQL server the tests run against, and a fresh schema per test.

The server is the one this machine kind runs (``CLAIMS_TEST_POSTGRES`` names
another). A test that needs it fails with a clear message when it is down: it
never skips, so a CI run without the server is red, not quietly green.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

SERVER = os.environ.get("CLAIMS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
PREFIX = "t_"
_created: list[str] = []


def fresh_url(*, options: str = "") -> str:
    """The URL of a new, empty ledger in a schema of its own (dropped at session end)."""
    schema = f"{PREFIX}{uuid.uuid4().hex[:20]}"
    with admin() as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    _created.append(schema)
    extra = f"&{options}" if options else ""
    return f"{SERVER}?schema={schema}{extra}"


@contextmanager
def admin() -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A plain autocommit connection to the test database, or a loud failure."""
    try:
        conn = psycopg.connect(SERVER, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise AssertionError(
            f"the PostgreSQL test server at {SERVER} is not reachable ({exc}); start it with"
            " `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`"
        ) from exc
    with conn:
        yield conn


def drop_created() -> None:
    """Drop every schema this process created."""
    if not _created:
        return
    with admin() as conn:
        for schema in _created:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    _created.clear()


def restart() -> None:
    """Restart the local cluster with a fast shutdown: every connection is cut and
    in-flight transactions roll back, as in a crash-restart or a failover."""
    version = next(Path("/etc/postgresql").iterdir()).name
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "-m", "fast"],
        check=True,
        capture_output=True,
        timeout=120,
    )


def terminate(application_name: str) -> int:
    """End every backend whose connections call themselves ``application_name``;
    how many were ended."""
    with admin() as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = %s AND pid <> pg_backend_pid()",
            (application_name,),
        ).fetchall()
    return sum(1 for row in rows if row[0])
