"""A short, seeded fault campaign on each file backend (the long one: ``python -m
bench.campaign``; docs/reliability.md). Writers, the sweeper and the HTTP server are
killed with SIGKILL at random moments, appends and snapshot saves fail with I/O
errors and a full disk, writers' clocks disagree and one steps back, readers tail the
log and SSE clients drop and resume; then every invariant is checked from the log."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.campaign.backends import CAMPAIGN_BACKENDS
from tests.campaign.run import CampaignConfig, CampaignReport, run_campaign

OPS = 1200
SEED = 7

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=sorted(CAMPAIGN_BACKENDS))
def report(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> CampaignReport:
    backend: str = request.param
    folder: Path = tmp_path_factory.mktemp(f"campaign-{backend}")
    config = CampaignConfig(backend=backend, ops=OPS, seed=SEED, fault_rate=0.04)
    return run_campaign(config, folder)


def test_no_invariant_is_violated(report: CampaignReport) -> None:
    """No two live claims on a task, tokens only grow, verify passes, S7 holds, every
    failure was a clear ledger error, readers and SSE clients saw every position once,
    projections and analytics equal a rebuild."""
    assert report.violations == []


def test_no_acknowledged_operation_is_lost(report: CampaignReport) -> None:
    """Every operation an agent journalled as acknowledged is in the log."""
    assert report.findings.acknowledged > OPS // 4
    assert report.findings.lost == []


def test_every_fault_kind_of_the_backend_fired(report: CampaignReport) -> None:
    """The run did inject each kind of fault its backend takes, so the checks above
    were made against a log that went through all of them."""
    backend = CAMPAIGN_BACKENDS[report.config.backend]
    assert {kind: report.faults[kind] for kind in backend.faults if report.faults[kind] == 0} == {}
    assert report.ops >= OPS


def test_sse_clients_resumed_and_readers_tailed(report: CampaignReport) -> None:
    """SSE clients reconnected with Last-Event-ID and readers polled while writers wrote."""
    assert report.sse_resumes > 0
    assert report.reader_polls > 2 * report.config.readers
