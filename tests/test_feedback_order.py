"""Feedback lists newest first, with a "Mine" filter: the items I raised or own (on a pilot of
my commissioning team, whose owner answers them) — issue 14, "Only offer what can be done"."""
from __future__ import annotations

import pytest

from governance import services as sv
from governance.queries.evaluate import feedback_page
from tests.apptest_support import open_page, pages_db, shown_text
from tests.world import World

__all__ = ["pages_db"]


@pytest.fixture
def three_items(world: World) -> tuple[int, list[int]]:
    """(pilot, [oldest, middle, newest]): raised an hour apart by two frontline users."""
    _, pilot = world.pilot_in_use()
    items = []
    for who, body in ((world.members[0], "The first letter came out blank."),
                      (world.members[1], "The second one lost its NHS number."),
                      (world.members[0], "The third one was fine but slow.")):
        items.append(sv.raise_feedback(world.uow, who, pilot, kind="wrong_output", body=body))
        world.clock.advance(hours=1)
    return pilot, items


def test_feedback_is_listed_newest_first(world: World, three_items) -> None:
    _, items = three_items
    assert [r.id for r in feedback_page(world.uow, world.auditor).rows] == items[::-1]
    # Paging keeps the order: the newest is on the first page.
    assert [r.id for r in feedback_page(world.uow, world.auditor, per_page=2, page=2).rows] == [items[0]]


def test_mine_is_what_i_raised_or_own_and_nothing_else(world: World, three_items) -> None:
    _, (oldest, middle, newest) = three_items
    assert [r.id for r in feedback_page(world.uow, world.members[0], mine=True).rows] == [newest, oldest]
    assert [r.id for r in feedback_page(world.uow, world.members[1], mine=True).rows] == [middle]
    # The commissioning team owns the pilot: every item on it is theirs to answer.
    assert [r.id for r in feedback_page(world.uow, world.commissioner, mine=True).rows] == [newest, middle, oldest]
    # Someone who neither raised nor owns any has none of their own.
    outsider = world.person("Olu Outsider", ["commissioning"])
    assert feedback_page(world.uow, outsider, mine=True).rows == []
    assert feedback_page(world.uow, world.members[2], mine=True).total == 0


@pytest.mark.usefixtures("pages_db")
def test_the_feedback_tab_shows_the_newest_first_and_filters_to_mine(world: World, three_items) -> None:
    at = open_page(world.members[1], "evaluate")
    toggle = at.toggle(key="feedback-mine")
    assert toggle.label == "Mine: raised by me or on my pilots"
    text = shown_text(at)
    # Not a responder: everything, newest first.
    # (typed text is shown escaped for markdown, so the sentences are matched without their full stop)
    assert (text.index("The third one was fine but slow") < text.index("The second one lost its NHS number")
            < text.index("The first letter came out blank"))
    at = toggle.set_value(True).run()
    text = shown_text(at)
    assert "The second one lost its NHS number" in text
    assert "The first letter came out blank" not in text and "The third one was fine but slow" not in text
