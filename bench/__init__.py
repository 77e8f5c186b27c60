"""The one-command benchmark: ``python -m bench [--size smoke|full]``.

Sections, all in one run on one machine (see ``docs/benchmarks.md``):

- throughput: durable claim, heartbeat and release appends through ``ClaimService``
  (SQLite and JSONL, 1 and 4 writer processes) beside the raw limits (a bare
  ``sqlite3`` insert loop, a bare JSONL ``write`` + ``fsync`` loop) and the
  ``eventsourcing`` library's SQLite recorder doing read-change-save commands;
- growth: claim+release latency with 10k and 1M events stored, and on one task
  heartbeated 10,000 times, with a warm and a cold (fresh service) fold;
- startup: a fresh-process ``claims heartbeat`` against bare interpreter floors.

Benchmarks print figures; they never assert speed.
"""
