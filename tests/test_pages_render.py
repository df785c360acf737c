"""Every page renders for every role that may use it, and only for those
(docs/pages.md; R14).

The pages are shown over one furnished organisation (built once per module
through the use cases): a draft problem with an open ratification vote, a
locked problem whose pilot was decided by vote, a second pilot in real use
with a metric amended after real use began, a claim, feedback, usage and
measurements. Rendering writes nothing, so the tests can share it.

Signing in (local accounts) is tested on fresh databases: the form, a wrong
password, the right one, sign-out ending the session, and a temporary password
that opens only the "choose your password" page (throttling:
``tests/test_sign_in.py``).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from governance import services as sv
from governance.errors import PermissionDenied
from governance.identity.throttle import SIGN_IN_REFUSED
from governance.queries import audit as audit_q, pilots as pilots_q
from governance.rules.permissions import PAGE_ROLES, may_open
from governance.storage.db import Database, FixedClock
from governance.vocabulary import Role
from pages import common
from tests.apptest_support import (
    PAGE_FILES,
    ROOT,
    TIMEOUT,
    app,
    errors,
    offers,
    ok,
    one,
    open_page,
    page_directly,
    pages_db,
    pages_pointed_at,
    submit,
    successes,
)
from tests.conftest import START, DatabaseFactory
from tests.world import VERY, World

__all__ = ["pages_db"]  # the fixture, imported for pytest


@dataclass(frozen=True)
class Furnished:
    world: World
    draft: int
    locked: int
    decided: int
    in_use: int
    open_vote: int
    decided_vote: int
    decision: int
    claim: int

    def person(self, role: Role) -> int:
        w = self.world
        return {Role.FRONTLINE: w.members[0], Role.FACILITATOR: w.facilitator, Role.COMMISSIONING: w.commissioner,
                Role.STEERING: w.steering, Role.AUDITOR: w.auditor, Role.ADMIN: w.admin}[role]


def furnish(world: World) -> Furnished:
    uow, c, f = world.uow, world.commissioner, world.facilitator
    sv.adopt_charter(uow, world.steering, reason="A small clinic: five responses are enough.",
                     min_survey_responses=5)
    locked, decided = world.pilot_in_use()
    metrics = pilots_q.pilot_detail(uow, c, decided).metrics
    sv.record_measurement(uow, c, decided, value=97, observed_on=world.today(), metric_id=metrics[0].id)
    sv.import_usage(uow, c, decided, filename="usage.csv",
                    content=f"week_start,active_users,eligible_users\n{world.today()},5,6\n".encode())
    sv.raise_feedback(uow, world.members[1], decided, kind="workaround",
                      body="We still print the letter to check the NHS number.")
    world.pass_window()
    world.survey(decided, [(m, VERY) for m in world.members])
    decided_vote = sv.open_outcome_vote(uow, f, decided)
    for voter in (*world.panel_voters, c, world.steering):
        sv.cast_ballot(uow, voter, decided_vote, "adopt")
    decision = sv.close_vote(uow, f, decided_vote, statement="The result stands.")
    claim = sv.record_claim(uow, c, decided, statement="The assistant met all its KPIs.",
                            cited_metrics=["Extraction accuracy", "Staff happiness"])
    permits = world.locked_problem(title="Permit backlog",
                                   statement="Building permits wait three weeks for a first review.")
    in_use = world.register_pilot(permits, title="Permit triage assistant")
    sv.add_to_roster(uow, c, in_use, world.members)
    world.make_ready(in_use)
    sv.start_real_use(uow, c, in_use)
    metric = pilots_q.pilot_detail(uow, c, in_use).metrics[0].id
    sv.amend_metric(uow, c, metric, reason="The vendor's accuracy report changed its method.", target=90)
    draft = world.draft_problem(title="Appointment no-shows",
                                statement="A third of Monday appointments are no-shows.")
    world.add_criterion(draft, name="No-show rate", unit="percent", target=15)
    open_vote = sv.propose_ratification(uow, f, draft)
    sv.cast_ballot(uow, world.members[2], open_vote, "approve")
    return Furnished(world, draft, locked, decided, in_use, open_vote, decided_vote, decision, claim)


@pytest.fixture(scope="module")
def furnished(database_factory: DatabaseFactory) -> Iterator[Furnished]:
    url = database_factory.url()
    clock = FixedClock(START)
    db = Database(url, clock=clock)
    try:
        yield furnish(World(db, clock))
    finally:
        db.dispose()
        database_factory.drop(url)


@pytest.fixture
def shown(furnished: Furnished) -> Iterator[Furnished]:
    with pages_pointed_at(furnished.world.db):
        yield furnished


ALLOWED = [(page, role) for page, roles in PAGE_ROLES.items() for role in sorted(roles)]
REFUSED = [(page, role) for page, roles in PAGE_ROLES.items() for role in sorted(set(Role) - roles)]


def details(s: Furnished) -> dict[str, list[tuple[str, int]]]:
    """Per page, the record pickers to open when present (so each page's detail view renders too)."""
    return {
        "problems": [("problem-chosen", s.locked), ("problem-chosen", s.draft)],
        "pilots": [("pilot-chosen", s.decided), ("pilot-chosen", s.in_use)],
        "evaluate": [("rounds-pilot", s.in_use), ("claims-pilot", s.decided)],
        "votes": [("open-vote", s.open_vote), ("closed-vote", s.decided_vote), ("decision", s.decision)],
        "compare": [("compare-pilot", s.decided), ("compare-pilot", s.in_use)],
        "audit": [("audit-decision", s.decision)],
        "admin": [("person-chosen", s.world.members[0]), ("panel-chosen", s.world.panel)],
        "paper": [("paper-act", 1)],
        "home": [],
    }


# ------------------------------------------------------------- who sees what
@pytest.mark.parametrize(("page", "role"), ALLOWED, ids=[f"{p}-{r}" for p, r in ALLOWED])
def test_every_page_renders_for_every_role_that_may_use_it(shown: Furnished, page: str, role: Role) -> None:
    """Opened through the router's navigation (switch_page fails for a page it did not offer)."""
    at = open_page(shown.person(role), page)
    assert [t.value for t in at.title][-1:] == [PAGE_FILES[page].split("/")[1][:-3].capitalize()]
    assert not [e for e in errors(at) if "not available with your roles" in e]
    assert at.caption, "every page says in one line what it is for"
    for key, record in details(shown)[page]:
        boxes = [b for b in at.selectbox if b.key == key]
        if boxes and offers(boxes[0], record):
            at = ok(boxes[0].set_value(record).run())
    assert not errors(at), errors(at)


@pytest.mark.parametrize(("page", "role"), REFUSED, ids=[f"{p}-{r}" for p, r in REFUSED])
def test_a_person_without_the_role_neither_sees_the_page_nor_can_act_on_it(
        shown: Furnished, page: str, role: Role) -> None:
    person = shown.person(role)
    # The router does not offer it…
    at = ok(app(person).run())
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE_FILES[page])
    # …reached directly, the page refuses and offers nothing to do…
    at = ok(page_directly(person, page))
    [refusal] = errors(at)
    assert "This page is not available with your roles" in refusal
    assert not at.button and not at.text_input and not at.selectbox and not at.dataframe
    # …and the use case behind it refuses the person even if the page were bypassed.
    act = ACTS.get(page)
    if act is not None:
        with shown.world.refuses(PermissionDenied):
            act(shown, person)


def _draft(s: Furnished, person: int) -> Any:
    return sv.draft_problem(s.world.uow, person, panel_id=s.world.panel, title="Sneaky problem",
                            statement="Written by someone who may not.")


def _register(s: Furnished, person: int) -> Any:
    return sv.register_pilot(s.world.uow, person, problem_id=s.locked, title="Sneaky pilot",
                             description="Registered by someone who may not.", owner_id=person)


def _open_round(s: Furnished, person: int) -> Any:
    return sv.open_survey_round(s.world.uow, person, s.in_use)


def _ballot(s: Furnished, person: int) -> Any:
    return sv.cast_ballot(s.world.uow, person, s.open_vote, "approve")


def _print(s: Furnished, person: int) -> Any:
    return sv.print_paper_batch(s.world.uow, person, vote_id=s.open_vote)


def _verify(s: Furnished, person: int) -> Any:
    return audit_q.verify(s.world.uow, person)


def _add_person(s: Furnished, person: int) -> Any:
    return sv.create_person(s.world.uow, person, name="Sneaky Admin", email="sneaky@example.org",
                            roles=["admin"])


#: The act each page exists for (Compare only reads; any role may read the comparison).
ACTS = {"problems": _draft, "pilots": _register, "evaluate": _open_round, "votes": _ballot,
        "audit": _verify, "admin": _add_person, "paper": _print}


def test_the_auditor_reads_votes_but_has_no_ballot_and_cannot_cast_one(shown: Furnished) -> None:
    at = open_page(shown.world.auditor, "votes")
    at = ok(at.toggle(key="votes-mine").set_value(False).run())
    at = ok(at.selectbox(key="open-vote").set_value(shown.open_vote).run())
    assert not [r for r in at.radio if r.form_id == f"ballot-{shown.open_vote}"]
    assert "You are not among this vote's eligible voters" in " ".join(c.value for c in at.caption)
    # R8: the running tally is hidden from everyone until close, auditors included.
    assert not any("Running tally" in m.value for m in at.markdown), "auditors must not see a running tally"
    with shown.world.refuses(PermissionDenied):
        _ballot(shown, shown.world.auditor)


def test_a_voter_sees_no_running_tally_before_close(shown: Furnished) -> None:
    at = open_page(shown.world.members[2], "votes")
    at = ok(at.selectbox(key="open-vote").set_value(shown.open_vote).run())
    assert "Running tallies stay hidden from everyone until the vote closes; turnout shows." in [
        c.value for c in at.caption]
    assert not any("Running tally" in m.value for m in at.markdown)


def test_pages_follow_the_identity_lookup_the_tests_can_replace(shown: Furnished) -> None:
    """AppTest cannot drive OpenID Connect: the identity is a function tests can set."""
    common.set_identity_lookup(lambda: shown.world.steering)
    at = ok(app().run())  # nothing in session_state: the lookup alone says who this is
    assert [t.value for t in at.title] == ["Home"]
    assert "Stella Steering" in at.sidebar.markdown[0].value
    at.switch_page(PAGE_FILES["compare"])
    with pytest.raises(ValueError):
        at.switch_page(PAGE_FILES["audit"])


def test_every_page_refuses_when_nobody_is_signed_in(shown: Furnished) -> None:
    """A page reached on its own, with nobody signed in, shows nothing but the refusal."""
    for page in PAGE_FILES:
        at = ok(AppTest.from_file(str(ROOT / PAGE_FILES[page]), default_timeout=TIMEOUT).run())
        assert errors(at) == ["You are signed out. Sign in again to continue."], (page, errors(at))
        assert not at.button and not at.text_input and not at.dataframe


def test_may_open_agrees_with_page_roles() -> None:
    for page, roles in PAGE_ROLES.items():
        for role in Role:
            assert may_open({role}, page) == (role in roles)


# ------------------------------------------------------------------ sign-in
PASSWORD_OF_SAM = "a long enough password"


@pytest.fixture
def account(world: World, pages_db: Database) -> tuple[World, str]:
    """A person with a local password of their own (and the world's pages pointed at its database)."""
    sam = world.person("Sam Signin", ["frontline"])
    sv.set_password(world.uow, world.admin, sam, PASSWORD_OF_SAM, temporary=False)
    return world, "sam.signin@example.org"


def sign_in_form(at: Any, email: str, password: str) -> Any:
    one(at.text_input, label="Email", form="sign-in").input(email)
    one(at.text_input, label="Password", form="sign-in").input(password)
    return submit(at, "sign-in", "Sign in")


def test_signed_out_the_dashboard_shows_only_the_sign_in_form(account: tuple[World, str]) -> None:
    at = ok(app().run())
    assert [t.value for t in at.title] == ["Pilot Evaluation Governance"]
    assert {w.label for w in at.text_input} == {"Email", "Password"}
    assert one(at.text_input, label="Password", form="sign-in").proto.type == 1  # PASSWORD: masked
    assert [b.key for b in at.button] == ["FormSubmitter:sign-in-Sign in"]
    assert not at.sidebar.button, "no sign-out, no pages"
    with pytest.raises(ValueError):
        at.switch_page(PAGE_FILES["home"])


def test_a_wrong_password_is_refused_with_a_clear_error(account: tuple[World, str]) -> None:
    _, email = account
    at = sign_in_form(ok(app().run()), email, "not the password at all")
    assert errors(at) == [SIGN_IN_REFUSED]
    assert common.PERSON_KEY not in at.session_state
    assert [t.value for t in at.title] == ["Pilot Evaluation Governance"]
    # An unknown email gets the very same message (no account enumeration).
    at = sign_in_form(at, "nobody@example.org", "whatever password")
    assert errors(at) == [SIGN_IN_REFUSED]


def test_the_right_password_signs_in_and_sign_out_signs_out(account: tuple[World, str]) -> None:
    world, email = account
    at = sign_in_form(ok(app().run()), email, PASSWORD_OF_SAM)
    assert not errors(at)
    assert [t.value for t in at.title] == ["Home"]
    assert "Sam Signin" in at.sidebar.markdown[0].value
    session_id = at.session_state[common.SESSION_KEY]
    at.switch_page(PAGE_FILES["problems"])  # a frontline page is now offered
    at = ok(at.sidebar.button(key="sign-out").click().run())
    assert [t.value for t in at.title] == ["Pilot Evaluation Governance"]
    assert common.PERSON_KEY not in at.session_state
    from governance.services.signin import current_session

    assert current_session(world.uow, session_id) is None  # ended for every replica, not just this tab


def test_a_temporary_password_opens_only_the_choose_a_password_page(world: World, pages_db: Database) -> None:
    sam = world.person("Sam Signin", ["frontline"], password="temporary password 1")
    at = sign_in_form(ok(app().run()), "sam.signin@example.org", "temporary password 1")
    assert [t.value for t in at.title] == ["Choose your password"]
    assert not at.sidebar.button and common.PERSON_KEY in at.session_state
    one(at.text_input, label="New password", form="new-password").input("my very own passphrase")
    one(at.text_input, label="New password again", form="new-password").input("my very own passphrase")
    at = submit(at, "new-password", "Save my password")
    assert [t.value for t in at.title] == ["Home"]
    assert "Password saved. Your other sessions were signed out." in successes(at)
    # The temporary password worked once; the new one works.
    at = sign_in_form(ok(app().run()), "sam.signin@example.org", "temporary password 1")
    assert errors(at) == [SIGN_IN_REFUSED]
    assert sv.sign_in(world.uow, "sam.signin@example.org", "my very own passphrase").person_id == sam
