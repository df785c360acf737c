"""Closing a survey round below the charter's minimum (issue 14, "Only offer what can be done"):
the close act says, before the person confirms, what the round will then count as — from one
rule (``rules.acts.round_close_notice``) the read model calls, not a page's own arithmetic —
and shows the count only to who runs the round (running counts stay hidden, R8)."""
from __future__ import annotations

import pytest

from governance import services as sv
from governance.queries import pilots as pilots_q
from governance.rules.acts import round_close_notice
from tests.apptest_support import choose, click, confirm, open_page, pages_db, shown_text, successes, values
from tests.world import VERY, World

__all__ = ["pages_db"]


def test_below_the_minimum_the_notice_says_what_the_round_will_count_as() -> None:
    notice = round_close_notice(19, 30, override_allowed=False)
    assert notice is not None
    assert notice.startswith("19 responses — below the charter's minimum of 30.")
    assert "\"insufficient evidence\"" in notice and "'adopt' will not be open" in notice
    assert round_close_notice(1, 30, override_allowed=False).startswith("1 response — ")  # type: ignore[union-attr]
    assert "only through the charter's override, and flagged" in (
        round_close_notice(0, 5, override_allowed=True) or "")


@pytest.mark.parametrize(("responses", "minimum"), [(30, 30), (31, 30), (5, 5)])
def test_at_or_above_the_minimum_there_is_nothing_to_warn_about(responses: int, minimum: int) -> None:
    assert round_close_notice(responses, minimum, override_allowed=False) is None


@pytest.fixture
def thin_round(world: World) -> tuple[int, int]:
    """(pilot, round): a round open with 2 answers against the default minimum of 30."""
    _, pilot = world.pilot_in_use()
    world.pass_window()
    rnd = world.survey(pilot, [(world.members[0], VERY), (world.members[1], VERY)], close=False)
    return pilot, rnd


def test_the_read_model_carries_the_notice_for_who_runs_the_round_only(world: World, thin_round) -> None:
    pilot, _ = thin_round
    [runner_view] = pilots_q.pilot_detail(world.uow, world.commissioner, pilot).rounds
    assert runner_view.close_notice is not None and runner_view.close_notice.startswith(
        "2 responses — below the charter's minimum of 30.")
    # A rostered user must not learn the running count from the notice (R8).
    [member_view] = pilots_q.pilot_detail(world.uow, world.members[0], pilot).rounds
    assert member_view.n is None and member_view.close_notice is None


@pytest.mark.usefixtures("pages_db")
def test_the_close_act_warns_before_confirming_and_the_warning_writes_nothing(world: World, thin_round) -> None:
    pilot, rnd = thin_round
    at = choose(open_page(world.commissioner, "evaluate"), "rounds-pilot", pilot)
    [warning] = [w for w in values(at.warning) if "below the charter's minimum" in w]
    assert warning.startswith("2 responses — below the charter")
    before = world.fingerprint()
    at = click(at, "close-round")
    # The confirmation repeats it, above the question; nothing is closed until confirmed.
    assert "below the charter's minimum of 30" in shown_text(at)
    assert world.fingerprint() == before
    at = confirm(at, "close-round")
    assert "Round closed." in successes(at)
    [closed] = pilots_q.pilot_detail(world.uow, world.commissioner, pilot).rounds
    assert closed.id == rnd and closed.closed_at is not None and closed.close_notice is None
    ind = pilots_q.pilot_detail(world.uow, world.commissioner, pilot).evidence.indispensability
    assert ind.status == "insufficient" and ind.score is None  # as the notice said


@pytest.mark.usefixtures("pages_db")
def test_a_round_with_enough_responses_closes_without_a_warning(world: World) -> None:
    sv.adopt_charter(world.uow, world.steering, reason="A small panel: two responses suffice.",
                     min_survey_responses=5)
    _, pilot = world.pilot_in_use()
    world.pass_window()
    world.survey(pilot, [(m, VERY) for m in world.members[:5]], close=False)
    at = choose(open_page(world.commissioner, "evaluate"), "rounds-pilot", pilot)
    assert not [w for w in values(at.warning) if "below the charter's minimum" in w]
