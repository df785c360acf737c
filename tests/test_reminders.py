"""Reminders by email (issue 15, item 4), sent by ``python -m governance.jobs run`` through a real
local SMTP server (aiosmtpd, started by the fixture on 127.0.0.1): who gets what, and who never
does — twice, after acting, after turning reminders off."""
from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import Message

import pytest
from sqlalchemy import select

from governance import jobs, mail, services as sv
from governance.queries import people as people_q
from governance.services.reminders import MAX_ATTEMPTS, set_my_reminders
from governance.storage.models import AuditEvent, ReminderSent, Vote
from tests.world import VERY, World

REFUSED = "refused@example.org"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Inbox:
    """What the local SMTP server received; ``refuse`` holds addresses it answers 550 for."""

    port: int
    messages: list[Message] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address in self.refuse:
            return "550 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"

    def take(self) -> list[tuple[str, str]]:
        """(to, subject) of every message received since the last take, sorted."""
        got = sorted((str(m["To"]).strip(), str(m["Subject"]).strip()) for m in self.messages)
        self.messages.clear()
        return got


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    from aiosmtpd.controller import Controller

    box = Inbox(free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    for name, value in {"GOVERNANCE_SMTP_HOST": "127.0.0.1", "GOVERNANCE_SMTP_PORT": str(box.port),
                        "GOVERNANCE_SMTP_TLS": "none", "GOVERNANCE_SMTP_SENDER": "pilots@example.org",
                        "GOVERNANCE_PUBLIC_URL": "https://pilots.example.org"}.items():
        monkeypatch.setenv(name, value)
    try:
        yield box
    finally:
        controller.stop()


def email(world: World, person_id: int) -> str:
    from governance.storage.models import Person

    with world.db.uow().reading() as s:
        return s.get(Person, person_id).email


def run(world: World) -> jobs.RunReport:
    report = jobs.run(world.db, holder="test-runner")
    assert report.ran
    return report


def test_a_vote_closing_within_48_hours_reminds_only_eligible_people_who_have_not_voted(
        world: World, inbox: Inbox) -> None:
    problem = world.draft_problem(title="Night-shift handovers", statement="Handover notes are lost at 7am.")
    world.add_criterion(problem)
    vote = sv.propose_ratification(world.uow, world.facilitator, problem, days=5)
    assert run(world).reminders["sent"] == {}  # five days out: not yet
    assert inbox.take() == []
    sv.cast_ballot(world.uow, world.members[0], vote, "approve")
    set_my_reminders(world.uow, world.members[1], off=True)
    # Someone who no longer holds their group's role cannot cast (R15), so is not asked to.
    sv.set_roles(world.uow, world.admin, world.members[5], ["commissioning"])
    with world.db.uow().reading() as s:
        deadline = s.get(Vote, vote).deadline
    world.clock.set(deadline - timedelta(hours=47))
    report = run(world)
    expected = sorted(email(world, p) for p in world.panel_voters if p not in (*world.members[:2], world.members[5]))
    got = inbox.take()
    assert [to for to, _ in got] == expected
    assert all(subject.startswith("Vote closing soon") for _, subject in got)
    assert report.reminders["sent"] == {"vote_closing": len(expected)}
    # Never twice: another run an hour later sends nothing (and someone who votes meanwhile is not asked).
    world.clock.advance(hours=1)
    sv.cast_ballot(world.uow, world.members[2], vote, "approve")
    run(world)
    assert inbox.take() == []
    assert "sent 0 reminder(s)" in run(world).summary


def test_a_reminder_says_what_is_due_and_where_to_act(world: World, inbox: Inbox) -> None:
    problem = world.draft_problem(title="Night-shift handovers", statement="Handover notes are lost at 7am.")
    world.add_criterion(problem)
    vote = sv.propose_ratification(world.uow, world.facilitator, problem, days=3)
    world.clock.advance(days=2)
    run(world)
    message = next(m for m in inbox.messages if m["To"] == email(world, world.members[0]))
    body = message.get_content()
    assert message["From"] == "pilots@example.org"
    assert "Hello Member 1" in body and f"https://pilots.example.org/lite/vote/{vote}" in body
    assert "turn reminders off" in body


def test_an_open_survey_round_reminds_rostered_people_who_have_not_answered_once(world: World,
                                                                                inbox: Inbox) -> None:
    _, pilot = world.pilot_in_use()
    world.pass_window()
    rnd = sv.open_survey_round(world.uow, world.commissioner, pilot)
    sv.submit_survey_response(world.uow, world.members[0], rnd, answer=VERY)
    run(world)
    got = inbox.take()
    assert [to for to, _ in got] == sorted(email(world, p) for p in world.members[1:])
    assert all(subject == "Your view is asked: Referral letter assistant" for _, subject in got)
    world.clock.advance(days=1)
    run(world)
    assert inbox.take() == []  # never twice for the same round
    # A new round is a new thing: those who have not answered it are asked again — but not
    # the ones who already answered it.
    sv.close_survey_round(world.uow, world.commissioner, rnd)
    world.clock.advance(days=1)
    second = sv.open_survey_round(world.uow, world.commissioner, pilot)
    sv.submit_survey_response(world.uow, world.members[3], second, answer=VERY)
    run(world)
    assert [to for to, _ in inbox.take()] == sorted(email(world, p) for p in world.members if p != world.members[3])


def test_feedback_reminds_its_owner_before_and_after_its_due_date_and_steering_gets_a_digest(
        world: World, inbox: Inbox) -> None:
    _, pilot = world.pilot_in_use()
    item = sv.raise_feedback(world.uow, world.members[0], pilot, kind="wrong_output",
                             body="It put the NHS number in the date field.")
    from governance.storage.models import FeedbackItem

    with world.db.uow().reading() as s:
        due_on = s.get(FeedbackItem, item).due_on
    run(world)
    assert inbox.take() == []  # ten working days out
    world.clock.set(world.clock.now().replace(year=due_on.year, month=due_on.month, day=due_on.day)
                    - timedelta(days=1))
    run(world)
    owner = email(world, world.commissioner)
    assert inbox.take() == [(owner, "Feedback awaiting your response: Referral letter assistant")]
    world.clock.advance(days=2)  # now past due
    run(world)
    got = inbox.take()
    assert (owner, "Feedback awaiting your response: Referral letter assistant") in got
    assert (email(world, world.steering), "Overdue feedback: 1 item(s)") in got and len(got) == 2
    run(world)
    assert inbox.take() == []  # same day: nothing again
    world.clock.advance(days=1)
    run(world)
    assert inbox.take() == [(email(world, world.steering), "Overdue feedback: 1 item(s)")]  # the next day's digest
    sv.respond_to_feedback(world.uow, world.commissioner, item, response="Fixed in release 2.")
    world.clock.advance(days=1)
    run(world)
    assert inbox.take() == []  # answered: nobody is reminded of it


def test_a_refused_address_is_recorded_as_failed_and_retried_a_bounded_number_of_times(
        world: World, inbox: Inbox) -> None:
    _, pilot = world.pilot_in_use()
    world.pass_window()
    sv.open_survey_round(world.uow, world.commissioner, pilot)
    inbox.refuse.add(email(world, world.members[0]))
    report = run(world)
    assert report.reminders["failed"] == {"survey_open": 1}
    assert report.reminders["sent"] == {"survey_open": len(world.members) - 1}
    admin_view = people_q.job_runs(world.uow, world.admin)[0]
    assert admin_view.reminders_failed == {"survey_open": 1}
    assert admin_view.reminders_sent == {"survey_open": len(world.members) - 1}
    for _ in range(MAX_ATTEMPTS + 1):
        run(world)
    with world.db.uow().reading() as s:
        row = s.scalar(select(ReminderSent).where(ReminderSent.person_id == world.members[0]))
        assert row.status == "failed" and row.attempts == MAX_ATTEMPTS and "550" in (row.last_error or "")


def test_an_unreachable_mail_server_sends_nothing_and_records_nothing_so_the_next_run_does(
        world: World, inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    _, pilot = world.pilot_in_use()
    world.pass_window()
    sv.open_survey_round(world.uow, world.commissioner, pilot)
    monkeypatch.setenv("GOVERNANCE_SMTP_PORT", str(free_port()))  # nobody listens there
    report = run(world)
    assert "could not be used" in report.reminders["skipped"] and report.reminders["sent"] == {}
    assert "could not be used" in people_q.job_runs(world.uow, world.admin)[0].reminders_skipped
    with world.db.uow().reading() as s:
        assert s.scalars(select(ReminderSent)).first() is None
    monkeypatch.setenv("GOVERNANCE_SMTP_PORT", str(inbox.port))
    assert run(world).reminders["sent"] == {"survey_open": len(world.members)}


def test_without_mail_settings_the_job_says_so_and_sends_nothing(world: World,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOVERNANCE_SMTP_HOST", raising=False)
    assert "email is not configured" in run(world).summary
    monkeypatch.setenv("GOVERNANCE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GOVERNANCE_SMTP_SENDER", "no at sign")
    assert "GOVERNANCE_SMTP_SENDER" in run(world).reminders["skipped"]
    with pytest.raises(mail.MailNotConfigured, match="GOVERNANCE_SMTP_TLS"):
        mail.settings_from({"GOVERNANCE_SMTP_HOST": "x", "GOVERNANCE_SMTP_TLS": "maybe"})


def test_turning_reminders_off_and_on_is_ones_own_audited_act(world: World) -> None:
    assert set_my_reminders(world.uow, world.members[0], off=True) is True
    assert set_my_reminders(world.uow, world.members[0], off=True) is False  # no change, no event
    assert people_q.reminders_off(world.uow, world.members[0])
    assert set_my_reminders(world.uow, world.members[0], off=False) is True
    assert not people_q.reminders_off(world.uow, world.members[0])
    with world.db.uow().reading() as s:
        rows = s.execute(select(AuditEvent.actor_id, AuditEvent.entity_id).where(
            AuditEvent.action == "person.reminders_set")).all()
    assert rows == [(world.members[0], str(world.members[0]))] * 2
