"""Readers tail the log while four writers append batches, on each shared backend:
every reader sees every position once, in order, never part of a batch (S3, S8),
and every acknowledged event is in the log."""

from __future__ import annotations

import msgspec
import pytest

from tests.integration.harness import BACKENDS, read_log, run_together, url_for, verify_url
from tests.integration.workers import AppendOutcome, TailOutcome, batch_sizes

WRITERS = 4
READERS = 3
APPENDS = 120
TOTAL = WRITERS * sum(batch_sizes(APPENDS))

pytestmark = pytest.mark.slow


class Tailed(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    writers: list[AppendOutcome]
    readers: list[TailOutcome]


@pytest.fixture(scope="module", params=BACKENDS)
def tailed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Tailed:
    backend: str = request.param
    folder = tmp_path_factory.mktemp(f"tail-{backend}")
    url, _ = url_for(backend, folder)
    workers: dict[str, list[str]] = {
        f"writer-{n}": ["append-batches", url, f"writer-{n}", str(APPENDS)] for n in range(WRITERS)
    }
    workers.update(
        {f"reader-{n}": ["tail", url, f"reader-{n}", str(TOTAL)] for n in range(READERS)}
    )
    outcomes = run_together(workers, folder, msgspec.Raw)
    decoded_writers = [msgspec.json.decode(raw, type=AppendOutcome) for raw in outcomes[:WRITERS]]
    decoded_readers = [msgspec.json.decode(raw, type=TailOutcome) for raw in outcomes[WRITERS:]]
    return Tailed(url=url, writers=decoded_writers, readers=decoded_readers)


def test_every_reader_sees_every_position_once_in_order(tailed: Tailed) -> None:
    for reader in tailed.readers:
        assert reader.positions == list(range(1, TOTAL + 1))


def test_no_reader_ever_saw_part_of_a_batch(tailed: Tailed) -> None:
    assert all(reader.ends_of_batches for reader in tailed.readers)


def test_readers_saw_exactly_what_the_writers_stored(tailed: Tailed) -> None:
    acknowledged = sorted(event_id for writer in tailed.writers for event_id in writer.event_ids)
    assert len(acknowledged) == TOTAL
    for reader in tailed.readers:
        assert sorted(reader.event_ids) == acknowledged
    assert sorted(record.event_id for record in read_log(tailed.url)) == acknowledged
    assert verify_url(tailed.url).ok
