"""The organisation's time zone, a charter term: an IANA name (default UTC), validated; pages
and the light path show every date and time in it with its abbreviation; the audit log and
exports stay in UTC and say so; working days (feedback due dates) count the organisation's
calendar days."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from governance import services as sv
from governance.errors import InvalidInput
from governance.queries import zone as zone_q
from governance.rules import deadlines
from governance.rules.charter import validate_charter
from governance.rules.times import local_date, moment_text, time_zone_problem, utc_text
from governance.storage.models import AuditEvent, Charter, FeedbackItem, Vote
from tests.apptest_support import choose, frames, open_page, open_tab, pages_db, shown_text
from tests.lite_support import Lite, lite_fixture
from tests.world import World

__all__ = ["pages_db", "lite_fixture"]  # the fixtures, imported for pytest

AUCKLAND = "Pacific/Auckland"


def _in_zone(world: World, zone: str = AUCKLAND) -> None:
    sv.adopt_charter(world.uow, world.steering, reason="Our offices keep Auckland time.", time_zone=zone)


def test_a_moment_is_written_in_the_zone_with_its_abbreviation() -> None:
    winter, summer = datetime(2026, 12, 3, 9, 4, tzinfo=UTC), datetime(2026, 7, 3, 9, 4, tzinfo=UTC)
    assert moment_text(winter, "Europe/London") == "03 Dec 2026 09:04 GMT"
    assert moment_text(summer, "Europe/London") == "03 Jul 2026 10:04 BST"
    assert moment_text(summer, "America/Jamaica") == "03 Jul 2026 04:04 EST"
    assert moment_text(winter, AUCKLAND) == "03 Dec 2026 22:04 NZDT"
    assert utc_text(summer) == "03 Jul 2026 09:04 UTC"
    assert moment_text(winter.date(), AUCKLAND) == "03 Dec 2026" and moment_text(None) == "—"
    assert local_date(datetime(2026, 3, 8, 20, 0, tzinfo=UTC), AUCKLAND).isoformat() == "2026-03-09"


@pytest.mark.parametrize("bad", ["Mars/Olympus_Mons", "", "   ", "../../etc/passwd", "/etc/localtime", "GMT+25",
                                 None, 3])
def test_a_name_that_is_not_a_time_zone_is_refused_naming_an_example(bad: object) -> None:
    problem = time_zone_problem(bad)
    assert problem is not None and "Europe/London" in problem
    with pytest.raises(InvalidInput) as refused:
        validate_charter(time_zone=bad)
    assert set(refused.value.problems) == {"time_zone"}


def test_the_charter_default_is_utc_and_a_bad_zone_is_refused_with_nothing_written(world: World) -> None:
    assert validate_charter().time_zone == "UTC" and zone_q.time_zone(world.uow) == "UTC"
    with world.refuses(InvalidInput, match="Time zone 'Europe/Londres' is not a time zone name.*Europe/London"):
        sv.adopt_charter(world.uow, world.steering, reason="Our offices keep London time.",
                         time_zone="Europe/Londres")


def test_a_zone_is_adopted_like_any_charter_change_and_recorded(world: World) -> None:
    _in_zone(world, " Europe/London ")
    assert zone_q.time_zone(world.uow) == "Europe/London"
    with world.db.uow().reading() as s:
        payload = json.loads(s.scalars(select(AuditEvent.payload).where(AuditEvent.action == "charter.adopted")
                                       .order_by(AuditEvent.seq.desc())).first())
        assert s.scalars(select(Charter.time_zone).order_by(Charter.version)).all()[-1] == "Europe/London"
    assert payload["after"]["time_zone"] == "Europe/London" and payload["before"]["time_zone"] == "UTC"
    assert payload["changed"] == {"time_zone": {"before": "UTC", "after": "Europe/London"}}


def test_feedback_is_due_in_working_days_of_the_organisations_calendar(world: World) -> None:
    _, pilot = world.pilot_in_use()
    _in_zone(world)
    now = world.clock.now()
    sunday_evening_utc = (now + timedelta(days=(6 - now.weekday()) % 7 or 7)).replace(hour=20, minute=0)
    world.clock.set(sunday_evening_utc)  # already Monday morning in Auckland
    item = sv.raise_feedback(world.uow, world.members[0], pilot, kind="wrong_output",
                             body="The summary leaves out the allergy line.")
    with world.db.uow().reading() as s:
        due = s.get(FeedbackItem, item).due_on
    monday = local_date(sunday_evening_utc, AUCKLAND)
    assert monday.weekday() == 0
    assert due == deadlines.working_days_after(monday, 10, "")
    assert due != deadlines.working_days_after(sunday_evening_utc.date(), 10, "")


def test_pages_show_times_in_the_zone_and_the_audit_log_in_utc(world: World, pages_db: object) -> None:
    _in_zone(world)
    problem = world.draft_problem()
    world.add_criterion(problem)
    vote = sv.propose_ratification(world.uow, world.facilitator, problem, days=7)
    with world.db.uow().reading() as s:
        deadline = s.get(Vote, vote).deadline
    at = choose(open_page(world.members[0], "votes"), "open-vote", vote)
    text = shown_text(at)
    assert moment_text(deadline, AUCKLAND) in text and "NZ" in moment_text(deadline, AUCKLAND)
    assert utc_text(deadline) not in text
    log = open_tab(open_page(world.auditor, "audit"), "audit-tab", "Event log")
    times = [str(v) for f in frames(log) if "Time (UTC)" in f.columns for v in f["Time (UTC)"]]
    assert times and all(t.endswith(" UTC") for t in times)


def test_the_light_path_shows_times_in_the_zone(lite: Lite) -> None:
    world = lite.world
    _in_zone(world)
    problem = world.draft_problem(title="Night-shift handovers", statement="Handover notes are lost at 7am.")
    world.add_criterion(problem)
    vote = sv.propose_ratification(world.uow, world.facilitator, problem, days=7)
    with world.db.uow().reading() as s:
        deadline = s.get(Vote, vote).deadline
    lite.sign_in(world.members[0])
    page = lite.client.get(f"/lite/vote/{vote}").text
    assert f"closes {moment_text(deadline, AUCKLAND, sep=', ')}" in page and " UTC" not in page
