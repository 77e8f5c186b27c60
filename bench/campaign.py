"""``python -m bench.campaign``: the long reliability campaign (docs/reliability.md).

    python -m bench.campaign --backend sqlite --ops 10000 --seed 1
    python -m bench.campaign --backend all --ops 10000 --seed 1 --keep

Runs the fault campaign of ``tests.campaign`` at full size on each backend, prints
a table of its figures and every violation, and exits 1 if any invariant broke or
any acknowledged operation was lost.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tests import pg_server
from tests.campaign.backends import ALL_FAULTS, CAMPAIGN_BACKENDS
from tests.campaign.run import CampaignConfig, CampaignReport, run_campaign


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.campaign", description=__doc__)
    parser.add_argument("--backend", choices=[*CAMPAIGN_BACKENDS, "all"], default="all")
    parser.add_argument("--ops", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--fault-rate", type=float, default=0.02)
    parser.add_argument("--keep", action="store_true", help="keep each run's folder")
    args = parser.parse_args(argv)
    names = list(CAMPAIGN_BACKENDS) if args.backend == "all" else [args.backend]
    reports: list[CampaignReport] = []
    for name in names:
        folder = Path(tempfile.mkdtemp(prefix=f"claims-campaign-{name}-"))
        config = CampaignConfig(
            backend=name,
            ops=args.ops,
            seed=args.seed,
            writers=args.writers,
            fault_rate=args.fault_rate,
        )
        print(f"{name}: {args.ops} operations, seed {args.seed}, in {folder}", file=sys.stderr)
        try:
            reports.append(run_campaign(config, folder))
        finally:
            if not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
                pg_server.drop_created()
    print(table(reports))
    failed = False
    for report in reports:
        for problem in [*report.violations, *report.findings.lost]:
            failed = True
            print(f"{report.config.backend}: {problem}")
    return 1 if failed else 0


def table(reports: Sequence[CampaignReport]) -> str:
    """The figures of each run as a Markdown table, one column per backend."""
    rows: list[tuple[str, list[str]]] = [
        ("operations run", [f"{r.ops:,}" for r in reports]),
        ("acknowledged operations", [f"{r.findings.acknowledged:,}" for r in reports]),
        ("records in the log", [f"{r.findings.records:,}" for r in reports]),
    ]
    rows += [(f"faults: {kind}", [str(r.faults[kind]) for r in reports]) for kind in ALL_FAULTS]
    rows += [
        ("faults injected, all kinds", [str(sum(r.faults.values())) for r in reports]),
        ("SSE resumes (Last-Event-ID)", [str(r.sse_resumes) for r in reports]),
        ("tailing reader polls", [f"{r.reader_polls:,}" for r in reports]),
        ("invariant violations", [str(len(r.violations)) for r in reports]),
        ("acknowledged operations lost", [str(len(r.findings.lost)) for r in reports]),
        ("seconds", [f"{r.seconds:.0f}" for r in reports]),
    ]
    header = "| | " + " | ".join(r.config.backend for r in reports) + " |"
    rule = "|---|" + "---:|" * len(reports)
    body = ["| " + name + " | " + " | ".join(cells) + " |" for name, cells in rows]
    return "\n".join([header, rule, *body])


if __name__ == "__main__":
    sys.exit(main())
