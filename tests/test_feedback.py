"""R13 outward accountability: frontline users raise feedback on a pilot; the
pilot's team answers within the charter's response time (working days);
overdue items are visible to steering and auditors.
"""
from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from governance import services as sv
from governance.errors import InvalidInput, PermissionDenied, RuleViolation
from governance.queries.evaluate import feedback_page
from governance.queries.home import my_agenda
from governance.rules.deadlines import add_working_days, working_days_after
from governance.storage.models import AuditEvent, FeedbackItem

BODY = "It reads the NHS number from the letterhead, not the patient box."


def read(world, fn):
    with world.db.uow().reading() as s:
        out = fn(s)
        s.expunge_all()
    return out


def item(world, item_id) -> FeedbackItem:
    return read(world, lambda s: s.get(FeedbackItem, item_id))


def raise_(world, pilot, who=None, kind="wrong_output", body=BODY) -> int:
    return sv.raise_feedback(world.uow, who or world.members[0], pilot, kind=kind, body=body)


@pytest.fixture
def pilot(world):
    _, pilot = world.pilot_in_use()
    return pilot


# ---------------------------------------------------------------- due dates
@pytest.mark.parametrize(("start", "days", "due"), [
    (date(2026, 3, 2), 10, date(2026, 3, 16)),   # Monday → Monday two weeks on
    (date(2026, 3, 6), 10, date(2026, 3, 20)),   # Friday → Friday two weeks on
    (date(2026, 3, 7), 10, date(2026, 3, 20)),   # Saturday: counting starts on Monday
    (date(2026, 3, 8), 10, date(2026, 3, 20)),   # Sunday
    (date(2026, 3, 5), 3, date(2026, 3, 10)),    # Thursday + 3 → Fri, Mon, Tue
    (date(2026, 3, 6), 1, date(2026, 3, 9)),     # Friday + 1 → Monday
])
def test_working_days_skip_weekends(start, days, due):
    assert add_working_days(start, days) == due
    assert due.weekday() < 5


@pytest.mark.parametrize(("country", "start", "days", "due"), [
    # Jamaica: Emancipation Day (1 Aug, a Saturday in 2026) and Independence Day (Thu 6 Aug)
    ("JM", date(2026, 8, 4), 3, date(2026, 8, 10)),     # Tue + 3 → Wed 5, (Thu 6 off), Fri 7, Mon 10
    ("JM", date(2026, 12, 24), 1, date(2026, 12, 28)),  # Christmas (Fri 25); Boxing Day is the Saturday
    ("JM", date(2026, 4, 2), 1, date(2026, 4, 7)),      # Good Friday and Easter Monday
    ("TT", date(2026, 8, 28), 1, date(2026, 9, 1)),     # Trinidad and Tobago: Independence Day, Mon 31 Aug
    ("BB", date(2026, 11, 27), 1, date(2026, 12, 1)),   # Barbados: Independence Day, Mon 30 Nov
    ("", date(2026, 8, 5), 1, date(2026, 8, 6)),        # no country: Monday–Friday only
])
def test_working_days_skip_the_public_holidays_of_the_charters_country(country, start, days, due):
    assert working_days_after(start, days, country) == due


def test_a_charter_naming_jamaica_moves_due_dates_past_its_holidays(world, pilot):
    sv.adopt_charter(world.uow, world.steering, reason="We are a Jamaican ministry; count our holidays.",
                     country="jm")
    world.clock.set(datetime(2026, 8, 4, 10, 0, tzinfo=UTC))  # Tuesday before Independence Day
    assert item(world, raise_(world, pilot)).due_on == date(2026, 8, 19)  # 10 working days, 6 Aug off
    with world.refuses(InvalidInput, match="Country 'ZZ' is not a two-letter country code"):
        sv.adopt_charter(world.uow, world.steering, reason="A country that does not exist at all.",
                         country="ZZ")


def test_the_due_date_is_the_charters_response_time_in_working_days(world, pilot):
    world.clock.set(datetime(2026, 3, 6, 16, 30, tzinfo=UTC))  # a Friday afternoon
    assert item(world, raise_(world, pilot)).due_on == date(2026, 3, 20)


def test_a_charter_with_a_shorter_response_time_gives_an_earlier_due_date(world, pilot):
    sv.adopt_charter(world.uow, world.steering, reason="Three working days is what we promised.",
                     feedback_response_working_days=3)
    world.clock.set(datetime(2026, 3, 5, 10, 0, tzinfo=UTC))  # a Thursday
    assert item(world, raise_(world, pilot)).due_on == date(2026, 3, 10)


# ------------------------------------------------------------ who raises
def test_a_rostered_user_raises_an_item_and_it_is_audited(world, pilot):
    item_id = raise_(world, pilot, kind="workaround", body="We still print the letter to check it.")
    stored = item(world, item_id)
    assert (stored.pilot_id, stored.raised_by, stored.kind) == (pilot, world.members[0], "workaround")
    assert stored.response is None
    event = read(world, lambda s: s.scalar(select(AuditEvent).where(AuditEvent.action == "feedback.raised")))
    assert event.actor_id == world.members[0] and json.loads(event.payload)["after"]["due_on"] == "2026-03-16"


def test_a_rostered_user_outside_the_panel_raises_items_too(world):
    [clerk] = world.rostered_users(1, prefix="Clerk")
    _, pilot = world.pilot_in_use(roster=[*world.members, clerk])
    assert raise_(world, pilot, who=clerk)


def test_a_panel_member_who_is_not_rostered_raises_items_too(world):
    _, pilot = world.pilot_in_use(roster=world.members[:2])
    assert raise_(world, pilot, who=world.facilitator, kind="workflow_change",
                  body="Let the clerk confirm fields before filing.")


def test_a_frontline_person_neither_rostered_nor_on_the_panel_cannot_raise_items(world, pilot):
    with world.refuses(PermissionDenied, match="from its rostered users and its panel; you are neither"):
        raise_(world, pilot, who=world.outsider)


@pytest.mark.parametrize("who", ["commissioner", "steering", "auditor", "admin"])
def test_people_without_a_frontline_role_cannot_raise_items(world, pilot, who):
    with world.refuses(PermissionDenied, match="may not raise a feedback item"):
        raise_(world, pilot, who=getattr(world, who))


@pytest.mark.parametrize(("kind", "body", "says"), [
    ("complaint", BODY, "Kind of feedback 'complaint' is not known"),
    ("wrong_output", "   ", "Feedback is empty"),
    ("wrong_output", "x" * 4001, "Feedback is too long"),
])
def test_a_malformed_item_is_refused(world, pilot, kind, body, says):
    with world.refuses(InvalidInput, match=says):
        raise_(world, pilot, kind=kind, body=body)


# ------------------------------------------------------------ who responds
def test_the_pilots_team_responds_and_the_response_is_audited(world, pilot):
    item_id = raise_(world, pilot)
    world.clock.advance(days=2)
    sv.respond_to_feedback(world.uow, world.commissioner, item_id,
                           response="Fixed: the patient box is read first since release 1.4.")
    stored = item(world, item_id)
    assert stored.responded_by == world.commissioner and stored.response.startswith("Fixed")
    event = read(world, lambda s: s.scalar(select(AuditEvent).where(
        AuditEvent.action == "feedback.responded")))
    assert json.loads(event.payload)["after"]["late"] is False


def test_only_the_pilots_team_responds(world, pilot):
    item_id = raise_(world, pilot)
    stranger = world.person("Cora Other", ["commissioning"])
    with world.refuses(PermissionDenied, match="not on the commissioning team of 'Referral letter"):
        sv.respond_to_feedback(world.uow, stranger, item_id, response="Not my pilot, but thanks.")
    for who in (world.steering, world.members[1], world.facilitator, world.auditor):
        with world.refuses(PermissionDenied, match="may not respond to feedback"):
            sv.respond_to_feedback(world.uow, who, item_id, response="We hear you.")


def test_a_second_response_is_refused(world, pilot):
    item_id = raise_(world, pilot)
    sv.respond_to_feedback(world.uow, world.commissioner, item_id, response="Fixed in release 1.4.")
    with world.refuses(RuleViolation, match="This item was answered on .*raise a new item"):
        sv.respond_to_feedback(world.uow, world.commissioner, item_id, response="Also, see release 1.5.")


def test_an_empty_response_is_refused(world, pilot):
    item_id = raise_(world, pilot)
    with world.refuses(InvalidInput, match="Response is empty"):
        sv.respond_to_feedback(world.uow, world.commissioner, item_id, response=" ")


# ----------------------------------------------------------------- overdue
def overdue_count(world, reader: int) -> int:
    return feedback_page(world.uow, reader, status="overdue").total


def test_overdue_items_are_shown_until_answered_and_a_late_answer_is_marked(world, pilot):
    item_id = raise_(world, pilot)  # Monday 2 March, due Monday 16 March
    world.clock.set(datetime(2026, 3, 16, 17, 0, tzinfo=UTC))
    assert overdue_count(world, world.steering) == 0  # due today is not yet overdue
    world.clock.set(datetime(2026, 3, 17, 9, 0, tzinfo=UTC))
    assert overdue_count(world, world.steering) == 1
    assert overdue_count(world, world.auditor) == 1
    overdue = feedback_page(world.uow, world.auditor, status="overdue")
    assert [r.id for r in overdue.rows] == [item_id] and overdue.rows[0].overdue
    agenda = my_agenda(world.uow, world.commissioner)
    assert [(f.id, f.overdue) for f in agenda.feedback] == [(item_id, True)]
    sv.respond_to_feedback(world.uow, world.commissioner, item_id, response="Sorry for the delay: fixed.")
    assert overdue_count(world, world.steering) == 0
    answered = feedback_page(world.uow, world.auditor, status="answered").rows
    assert answered[0].answered_late is True
    event = read(world, lambda s: s.scalar(select(AuditEvent).where(
        AuditEvent.action == "feedback.responded")))
    assert json.loads(event.payload)["after"]["late"] is True
