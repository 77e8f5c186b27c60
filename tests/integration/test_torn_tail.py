"""A JSONL torn tail, written by hand: the partial last line a writer killed mid-write leaves."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from application.bootstrap import open_ledger
from ledger.codec import decode_record
from ledger.commands import Claim, RegisterTask, Release
from ledger.store.factory import open_store
from ledger.verify import verify_store
from tests.integration.harness import read_log, url_for, verify_url


class TornLog(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    path: Path
    intact: bytes
    """The file's bytes before the partial line was written."""
    partial: bytes
    acknowledged: list[str]


@pytest.fixture
def torn(tmp_path: Path) -> TornLog:
    """A JSONL log of acknowledged appends followed by half of one more record."""
    url, path = url_for("jsonl", tmp_path)
    service = open_ledger(url).service
    service.register_task(RegisterTask(task_id="t-1", title="First"))
    claimed = service.claim("t-1", Claim(session_id="s-1"))
    service.store.close()
    intact = path.read_bytes()
    last_line = intact.splitlines()[-1]
    partial = last_line[: len(last_line) // 2]
    with path.open("ab") as handle:
        handle.write(partial)
    acked = [record.event_id for record in read_log(url)]
    assert claimed.records[-1].event_id in acked
    return TornLog(url=url, path=path, intact=intact, partial=partial, acknowledged=acked)


def test_verify_reports_a_torn_tail_as_a_notice_naming_its_line_and_offset(torn: TornLog) -> None:
    """``verify_store`` passes and names the torn last line and its byte offset in a notice."""
    report = verify_url(torn.url)

    assert report.ok, report.problem
    assert report.checked == len(torn.acknowledged)
    line = len(torn.acknowledged) + 1
    assert len(report.notices) == 1
    assert f"line {line} (byte {len(torn.intact)})" in report.notices[0]
    assert "torn tail" in report.notices[0]


def test_readers_skip_a_torn_tail_without_cutting_it(torn: TornLog) -> None:
    """A reader returns the complete records only and leaves the file's bytes alone."""
    records = read_log(torn.url)

    assert [record.event_id for record in records] == torn.acknowledged
    assert torn.path.read_bytes() == torn.intact + torn.partial


def test_next_append_cuts_the_torn_tail_and_keeps_every_acknowledged_record(
    torn: TornLog,
) -> None:
    """The next writer cuts the partial bytes, then appends right after the intact lines."""
    service = open_ledger(torn.url).service
    released = service.release("t-1", Release(session_id="s-1", reason="handoff"))
    service.store.close()

    data = torn.path.read_bytes()
    assert data.startswith(torn.intact)
    appended = data[len(torn.intact) :].splitlines()
    assert [decode_record(line).event_id for line in appended] == [
        record.event_id for record in released.records
    ]
    stored = [record.event_id for record in read_log(torn.url)]
    assert stored == [*torn.acknowledged, *(record.event_id for record in released.records)]


def test_log_verifies_clean_after_the_torn_tail_was_cut(torn: TornLog) -> None:
    """Once the next append has cut the torn tail, verify passes without a notice."""
    service = open_ledger(torn.url).service
    service.release("t-1", Release(session_id="s-1", reason="handoff"))
    service.store.close()

    report = verify_url(torn.url)
    assert report.ok, report.problem
    assert report.notices == []
    assert report.checked == len(torn.acknowledged) + 1


def test_a_batch_torn_after_its_first_line_is_cut_whole(tmp_path: Path) -> None:
    """A two-record batch whose write stopped inside its second line leaves none of its records."""
    url, path = url_for("jsonl", tmp_path)
    service = open_ledger(url).service
    service.register_task(RegisterTask(task_id="t-1", title="First"))
    service.claim("t-1", Claim(session_id="s-1"))
    acknowledged = [record.event_id for record in read_log(url)]
    batch = service.release("t-1", Release(session_id="s-1", reason="completed")).records
    service.store.close()
    assert len(batch) == 2
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])

    service = open_ledger(url).service
    service.register_task(RegisterTask(task_id="t-2", title="Second"))
    service.store.close()

    stored = [record.event_id for record in read_log(url)]
    assert stored[: len(acknowledged)] == acknowledged
    assert not {record.event_id for record in batch} & set(stored)


def test_verify_notes_a_batch_missing_its_last_line(tmp_path: Path) -> None:
    """A batch cut at a line boundary is an unfinished append: a notice, never a failure."""
    url, path = url_for("jsonl", tmp_path)
    service = open_ledger(url).service
    service.register_task(RegisterTask(task_id="t-1", title="First"))
    claimed = service.claim("t-1", Claim(session_id="s-1")).records[-1]
    service.release("t-1", Release(session_id="s-1", reason="completed"))
    service.store.close()
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))

    store = open_store(url)
    report = verify_store(store)
    assert report.ok
    assert report.head_position == claimed.position
    assert "never arrived" in report.notices[0]
    assert store.head().position == claimed.position
