"""Analytics on DuckDB: claim intervals, audit trails, statistics and payout shares.

A DuckDB file of its own (``<ledger>.analytics.duckdb`` by default) is fed
incrementally from the ledger, by position, with its checkpoint stored in it. Its
tables: ``events`` (every record, typed columns), ``claim_intervals`` (one row per
claim, from start to end, with claimed and heartbeat-backed active durations),
``tasks``, ``sessions``, ``token_usage`` (measured tokens, one row per message) and
``payout_work`` (per finished task and worker). See docs/analytics.md for every definition.

Modules: ``schema`` (DDL), ``rows`` (row types), ``fold`` (the claim-interval fold),
``transfer`` (bulk loading), ``feeder`` (incremental updates), ``payout_work`` (its
refresh), ``audit``, ``stats``, ``payout``, ``cost`` (measured tokens),
``readonly`` (``claims sql``), ``export``, ``window`` (periods),
``reference`` (the same figures in plain Python), ``service`` (``Analytics``).
Result Structs encode with camelCase keys, as every JSON body of the project.
Importing this package imports DuckDB; the CLI's hook commands never do.
"""

from __future__ import annotations

from projections.analytics.audit import Subject, Trail
from projections.analytics.connect import MEMORY, default_path
from projections.analytics.feeder import Checkpoint, UpdateResult
from projections.analytics.payout import Payout, Weights
from projections.analytics.readonly import QueryResult
from projections.analytics.service import Analytics
from projections.analytics.stats import Filter, Stats
from projections.analytics.window import Window

__all__ = [
    "MEMORY",
    "Analytics",
    "Checkpoint",
    "Filter",
    "Payout",
    "QueryResult",
    "Stats",
    "Subject",
    "Trail",
    "UpdateResult",
    "Weights",
    "Window",
    "default_path",
]
