"""The analytics tables: DDL with explicit column types, times as TIMESTAMPTZ.

``SCHEMA_VERSION`` changes whenever a table or a column's meaning changes; a store
built under another version is dropped and fed again from position 0 (it holds
nothing that the ledger does not).
"""

from __future__ import annotations

from typing import Final

SCHEMA_VERSION: Final = 5

TABLES: Final = (
    "events",
    "claim_intervals",
    "tasks",
    "sessions",
    "token_usage",
    "payout_work",
)
"""The tables people query and export; ``meta`` and ``checkpoint`` are bookkeeping."""

EVENTS = """
CREATE TABLE IF NOT EXISTS events (
    position        BIGINT NOT NULL,
    stream          VARCHAR NOT NULL,
    version         BIGINT NOT NULL,
    event_id        VARCHAR NOT NULL,
    type            VARCHAR NOT NULL,
    schema_version  INTEGER NOT NULL,
    occurred_at     TIMESTAMPTZ NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL,
    actor           VARCHAR NOT NULL,
    correlation_id  VARCHAR,
    causation_id    VARCHAR,
    hash            VARCHAR NOT NULL,
    task_id         VARCHAR,
    session_id      VARCHAR,
    fencing_token   BIGINT,
    previous_token  BIGINT,
    from_session    VARCHAR,
    reason          VARCHAR,
    forced          BOOLEAN,
    forced_by       VARCHAR,
    lease_ms        BIGINT,
    expires_at      TIMESTAMPTZ,
    agent_type      VARCHAR,
    tier            VARCHAR,
    status          VARCHAR,
    previous_status VARCHAR,
    title           VARCHAR,
    priority        VARCHAR,
    roi             DOUBLE,
    fingerprint     VARCHAR,
    phase           VARCHAR,
    host            VARCHAR,
    pid             BIGINT,
    scope           VARCHAR[],
    constraints     VARCHAR[],
    metadata        JSON
)
"""

CLAIM_INTERVALS = """
CREATE TABLE IF NOT EXISTS claim_intervals (
    task_id          VARCHAR NOT NULL,
    fencing_token    BIGINT NOT NULL,
    session_id       VARCHAR NOT NULL,
    agent_type       VARCHAR,
    tier             VARCHAR,
    started_at       TIMESTAMPTZ NOT NULL,
    start_position   BIGINT NOT NULL,
    started_by       VARCHAR NOT NULL,
    taken_from       VARCHAR,
    start_forced     BOOLEAN NOT NULL,
    forced_by        VARCHAR,
    handoff_reason   VARCHAR,
    ttl_ms           BIGINT NOT NULL,
    lease_expires_at TIMESTAMPTZ NOT NULL,
    last_heartbeat   TIMESTAMPTZ NOT NULL,
    heartbeats       BIGINT NOT NULL,
    ended_at         TIMESTAMPTZ,
    end_position     BIGINT,
    end_reason       VARCHAR NOT NULL,
    release_reason   VARCHAR,
    taken_by         VARCHAR,
    end_forced       BOOLEAN,
    claimed_ms       BIGINT,
    active_ms        BIGINT NOT NULL,
    max_silence_ms   BIGINT NOT NULL,
    previous_session VARCHAR,
    previous_token   BIGINT,
    previous_end     TIMESTAMPTZ
)
"""

TASKS = """
CREATE TABLE IF NOT EXISTS tasks (
    task_id             VARCHAR NOT NULL,
    title               VARCHAR,
    priority            VARCHAR,
    roi                 DOUBLE,
    fingerprint         VARCHAR,
    phase               VARCHAR,
    status              VARCHAR NOT NULL,
    registered          BOOLEAN NOT NULL,
    registered_at       TIMESTAMPTZ,
    registered_position BIGINT,
    status_changed_at   TIMESTAMPTZ,
    finished_at         TIMESTAMPTZ,
    finished_position   BIGINT,
    completed_by        VARCHAR,
    last_claim_session  VARCHAR,
    last_claim_token    BIGINT,
    last_claim_end      TIMESTAMPTZ,
    last_position       BIGINT NOT NULL
)
"""

SESSIONS = """
CREATE TABLE IF NOT EXISTS sessions (
    session_id    VARCHAR NOT NULL,
    agent_type    VARCHAR,
    tier          VARCHAR,
    host          VARCHAR,
    pid           BIGINT,
    started_at    TIMESTAMPTZ,
    ended_at      TIMESTAMPTZ,
    end_reason    VARCHAR,
    starts        BIGINT NOT NULL,
    last_position BIGINT NOT NULL
)
"""

TOKEN_USAGE = """
CREATE TABLE IF NOT EXISTS token_usage (
    session_id            VARCHAR NOT NULL,
    message_id            VARCHAR NOT NULL,
    position              BIGINT NOT NULL,
    used_at               TIMESTAMPTZ NOT NULL,
    source                VARCHAR NOT NULL,
    model                 VARCHAR,
    task_id               VARCHAR,
    fencing_token         BIGINT,
    input_tokens          BIGINT NOT NULL,
    output_tokens         BIGINT NOT NULL,
    cache_creation_tokens BIGINT NOT NULL,
    cache_read_tokens     BIGINT NOT NULL
)
"""
"""One row per (session, message id): the first ``tokens_used`` record of it."""

PAYOUT_WORK = """
CREATE TABLE IF NOT EXISTS payout_work (
    task_id          VARCHAR NOT NULL,
    session_id       VARCHAR NOT NULL,
    title            VARCHAR,
    finished_at      TIMESTAMPTZ NOT NULL,
    completed_by     VARCHAR,
    total_ms         BIGINT NOT NULL,
    agent_type       VARCHAR,
    claims           BIGINT NOT NULL,
    active_ms        BIGINT NOT NULL,
    last_start       BIGINT NOT NULL,
    time_share       DOUBLE NOT NULL,
    completion_share DOUBLE NOT NULL,
    first_worker     BOOLEAN NOT NULL,
    last_worker      BOOLEAN NOT NULL,
    json_open        VARCHAR NOT NULL,
    json_worker      VARCHAR NOT NULL
)
"""
"""One row per finished task and worker: what its payout share is made of, whether it
is the task's first or last worker in session order (where the streamed JSON opens and
closes the task's object), and the JSON text of the row up to its weighed share: the
task's members and ``"workers":[`` on its first worker (else empty), and the worker's
object up to ``"share":`` (``projections.analytics.payout_text``)."""

BOOKKEEPING = (
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR NOT NULL, value VARCHAR NOT NULL)",
    """
    CREATE TABLE IF NOT EXISTS checkpoint (
        position    BIGINT NOT NULL,
        hash        VARCHAR NOT NULL,
        recorded_at TIMESTAMPTZ
    )
    """,
)

DDL: Final = (EVENTS, CLAIM_INTERVALS, TASKS, SESSIONS, TOKEN_USAGE, PAYOUT_WORK, *BOOKKEEPING)

ORDER_BY: Final = {
    "events": "position",
    "claim_intervals": "started_at, task_id, fencing_token",
    "tasks": "task_id",
    "sessions": "session_id",
    "token_usage": "position",
    "payout_work": "finished_at, task_id, session_id",
}
"""A stable row order for each table, used by exports and comparisons."""
