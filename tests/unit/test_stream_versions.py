"""What ``StreamVersions`` knows is always true, and a commit reported late keeps it.

A marker here is a counter of the log's commits. The model is the log's streams and
their versions; whenever ``stands_at`` says a stream stands at a version, the model
must agree.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.records import Record
from ledger.store.stream_versions import StreamVersions

STREAMS = ("a", "b", "c")


def mark(n: int) -> bytes:
    return str(n).encode()


def last(stream: str, version: int) -> Record:
    return cast(Record, SimpleNamespace(stream=stream, version=version))


def test_a_read_at_the_commits_moment_before_it_is_reported_keeps_what_was_known() -> None:
    """The event loop reads under the header a commit has just written, before the
    committer reports it: what stood before still stands where the commit did not write."""
    known = StreamVersions()
    known.read(mark(1), "a", 3)
    known.read(mark(1), "b", 5)
    known.read(mark(2), "c", 1)
    known.committed(mark(1), mark(2), [last("a", 4)])
    assert known.stands_at(mark(2), "a", 4)
    assert known.stands_at(mark(2), "b", 5)
    assert known.stands_at(mark(2), "c", 1)
    assert not known.stands_at(mark(2), "a", 3)


def test_a_read_at_another_moment_than_the_commits_end_forgets() -> None:
    known = StreamVersions()
    known.read(mark(1), "b", 5)
    known.read(mark(3), "c", 1)
    known.committed(mark(1), mark(2), [last("a", 4)])
    assert known.stands_at(mark(2), "a", 4)
    assert not known.stands_at(mark(2), "b", 5)
    assert not known.stands_at(mark(2), "c", 1)


def test_what_was_kept_aside_serves_one_commit_only() -> None:
    """Knowledge of moment 1, kept aside by a read at 2, is not carried into a commit
    from 2 to 3: between 1 and 2 the commit was not necessarily the store's own."""
    known = StreamVersions()
    known.read(mark(1), "b", 5)
    known.read(mark(2), "c", 1)
    known.committed(mark(2), mark(3), [last("a", 4)])
    assert known.stands_at(mark(3), "c", 1)
    assert not known.stands_at(mark(3), "b", 5)


operation = st.one_of(
    st.tuples(st.just("read"), st.sampled_from(STREAMS)),
    st.tuples(st.just("own"), st.lists(st.sampled_from(STREAMS), min_size=1, max_size=2)),
    st.tuples(
        st.just("own-read-first"),
        st.lists(st.sampled_from(STREAMS), min_size=1, max_size=2),
        st.sampled_from(STREAMS),
    ),
    st.tuples(st.just("foreign"), st.lists(st.sampled_from(STREAMS), min_size=1, max_size=2)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(operation, max_size=30))
def test_what_is_known_is_what_the_log_holds(operations: list[tuple[object, ...]]) -> None:
    """Any mix of reads, commits of the store's own (reported at once, or after a read
    at their new moment) and other writers' commits: nothing known is ever wrong."""
    known = StreamVersions()
    log = dict.fromkeys(STREAMS, 0)
    commits = 0

    def write(streams: object) -> list[Record]:
        nonlocal commits
        commits += 1
        written = []
        for stream in cast(list[str], streams):
            log[stream] += 1
            written.append(last(stream, log[stream]))
        return written

    for op in operations:
        kind = op[0]
        if kind == "read":
            stream = cast(str, op[1])
            known.read(mark(commits), stream, log[stream])
        elif kind == "foreign":
            write(op[1])
        else:
            before = mark(commits)
            lasts = write(op[1])
            if kind == "own-read-first":
                stream = cast(str, op[2])
                known.read(mark(commits), stream, log[stream])
            known.committed(before, mark(commits), lasts)
        for stream in STREAMS:
            for version in range(log[stream] + 3):
                if known.stands_at(mark(commits), stream, version):
                    assert version == log[stream], (stream, version, log)
