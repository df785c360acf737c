"""The dashboard's side of issue 15: a facilitator issues personal links (shown once), everyone
turns their own reminders off on "Your account", Admin shows what the job's reminders did, and
the sign-in page points to the light path."""
from __future__ import annotations

import pytest

from governance import jobs, services as sv
from governance.queries import people as people_q
from governance.queries.links import personal_link
from tests.apptest_support import app, choose, click, frames, ok, open_page, pages_db, shown_text
from tests.world import World

__all__ = ["pages_db"]  # the fixture, imported for pytest
pytestmark = pytest.mark.usefixtures("pages_db")


def test_the_sign_in_page_offers_the_light_path() -> None:
    at = ok(app().run())
    assert "[Use the light version](/lite/)" in shown_text(at)


def test_a_facilitator_issues_personal_links_shown_once(world: World) -> None:
    _, pilot = world.pilot_in_use()
    world.pass_window()
    rnd = sv.open_survey_round(world.uow, world.commissioner, pilot)
    at = choose(open_page(world.facilitator, "evaluate"), "rounds-pilot", pilot)
    at = click(at, f"issue-round-{rnd}")
    [table] = [f for f in frames(at) if "link" in getattr(f, "columns", [])]
    assert sorted(table["name"]) == sorted(f"Member {i}" for i in range(1, 7))
    token = table["link"].iloc[0].rsplit("/", 1)[1]
    landing = personal_link(world.uow, token)
    assert landing.refusal is None and landing.round_id == rnd
    at = click(at, f"forget-round-{rnd}")
    assert not [f for f in frames(at) if "link" in getattr(f, "columns", [])]


def _account_reminders() -> None:
    from pages import common, views

    person = common.identity_lookup()
    assert person is not None
    views.reminders_setting(person)


def test_reminders_are_turned_off_on_your_account(world: World) -> None:
    from streamlit.testing.v1 import AppTest

    from pages import common

    at = AppTest.from_function(_account_reminders, default_timeout=30)
    at.session_state[common.PERSON_KEY] = world.members[0]
    at = ok(at.run())
    assert at.toggle(key="reminders-on").value is True
    at = ok(at.toggle(key="reminders-on").set_value(False).run())
    assert people_q.reminders_off(world.uow, world.members[0])
    at = ok(at.run())
    assert at.toggle(key="reminders-on").value is False
    at = ok(at.toggle(key="reminders-on").set_value(True).run())
    assert not people_q.reminders_off(world.uow, world.members[0])


def test_admin_shows_what_the_jobs_reminders_did(world: World) -> None:
    jobs.run(world.db, holder="admin-view")
    at = open_page(world.admin, "admin")
    text = shown_text(at)
    assert "Last ran" in text and "not sent: email is not configured" in text
    assert any("Reminders sent" in getattr(f, "columns", []) for f in frames(at))
