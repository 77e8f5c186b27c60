"""The event catalogue (docs/events.md) has a section for every event the ledger stores."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from ledger.events import Event

CATALOGUE = (Path(__file__).resolve().parents[2] / "docs/events.md").read_text()
TAGS = [cls.__struct_config__.tag for cls in get_args(Event)]


@pytest.mark.parametrize("tag", TAGS)
def test_the_catalogue_has_a_section_for_the_event(tag: str) -> None:
    """Each tag of the ``Event`` union has its ``### `tag` `` heading."""
    assert f"\n### `{tag}`\n" in CATALOGUE


def test_the_catalogue_counts_the_events_it_describes() -> None:
    """The opening sentence's count of event kinds is the union's size."""
    words = {11: "eleven", 12: "twelve", 13: "thirteen", 14: "fourteen"}
    assert f"stores {words[len(TAGS)]} kinds of event" in CATALOGUE
