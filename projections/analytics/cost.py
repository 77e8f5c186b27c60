"""Measured tokens per task and worker from the ``token_usage`` table: the figures of
``projections.cost.cost_totals`` at the store's checkpoint, summed by DuckDB instead of
a fold over the whole log (which cost seconds a question at a million records).

The table holds each (session, message id) once, as the ledger does; the sums per
(task, session) and per unattributed session are DuckDB's, the rest (shares, order)
is ``projections.cost.totals_of``, so both paths give the same totals.
"""

from __future__ import annotations

import duckdb

from projections.cost import CostTotals, Tokens, totals_of

_SUMS = """
SELECT task_id, session_id, count(*) AS messages,
    sum(input_tokens)::BIGINT, sum(output_tokens)::BIGINT,
    sum(cache_creation_tokens)::BIGINT, sum(cache_read_tokens)::BIGINT
FROM token_usage
WHERE {condition}
GROUP BY ALL
"""


def cost_totals(con: duckdb.DuckDBPyConnection, *, task_id: str | None = None) -> CostTotals:
    """Measured tokens per task, per worker and unattributed (``task_id``: that task only,
    and no unattributed tokens, as ``projections.cost.cost_totals`` gives them)."""
    if task_id is None:
        rows = con.execute(_SUMS.replace("{condition}", "TRUE")).fetchall()
    else:
        rows = con.execute(_SUMS.replace("{condition}", "task_id = ?"), [task_id]).fetchall()
    by_pair: dict[tuple[str, str], Tokens] = {}
    unattributed: dict[str, Tokens] = {}
    for task, session, messages, input_, output, creation, read in rows:
        tokens = Tokens(
            messages=messages,
            input=input_,
            output=output,
            cache_creation=creation,
            cache_read=read,
            total=input_ + output + creation + read,
        )
        if task is None:
            unattributed[session] = tokens
        else:
            by_pair[(task, session)] = tokens
    return totals_of(by_pair, unattributed)
