"""The light path (issue 15, item 1): small server-rendered pages, CSRF on every form, the same
sign-in and throttling, and each act through the services with its result in the read models."""
from __future__ import annotations

import re

import pytest

from governance import services as sv
from governance.identity.throttle import ACCOUNT_FREE, SIGN_IN_REFUSED
from governance.queries import evaluate as evaluate_q, votes as votes_q
from governance.rules.evidence import SUS_ITEMS
from tests.lite_support import Lite, csrf_of, email_of, lite_fixture  # noqa: F401 - the fixture
from tests.world import PASSWORD, VERY, World

MAX_PAGE = 50 * 1024
ALL_SUS = {f"sus_{i}": "4" if i % 2 else "2" for i in range(1, 11)}


def survey_round(world: World) -> int:
    _, pilot = world.pilot_in_use()
    world.pass_window()
    return sv.open_survey_round(world.uow, world.commissioner, pilot)


def panel_vote(world: World) -> int:
    problem = world.draft_problem(title="Night-shift handovers", statement="Handover notes are lost at 7am.")
    world.add_criterion(problem)
    return sv.propose_ratification(world.uow, world.facilitator, problem)


# ------------------------------------------------------------------ pages
def test_every_light_page_is_small_labelled_and_script_free(lite: Lite) -> None:
    world = lite.world
    rnd, vote = survey_round(world), panel_vote(world)
    link = sv.issue_survey_links(world.uow, world.commissioner, rnd)[0]
    pages = {"sign-in": lite.client.get("/lite/"), "personal link": lite.client.get(link.path)}
    lite.sign_in(world.members[0])
    for name, path in {"home": "/lite/", "survey": f"/lite/survey/{rnd}", "vote": f"/lite/vote/{vote}",
                       "feedback": "/lite/feedback"}.items():
        pages[name] = lite.client.get(path)
    for name, response in pages.items():
        assert response.status_code == 200, name
        body = response.text
        # "Everything it needs": the page is the only request (no script, style sheet, image or font).
        assert len(response.content) <= MAX_PAGE, f"{name}: {len(response.content)} bytes"
        assert not re.search(r"<script|<link (?!rel=\"icon\" href=\"data:,\")|<img |@import|url\(", body), name
        assert '<html lang="en">' in body and body.count("<h1>") == 1, name
        assert 'name="viewport" content="width=device-width' in body, name
        assert response.headers["cache-control"] == "no-store"
        # Every text, select and password field has a label pointing at it.
        for ident in re.findall(r'<(?:input|select|textarea) id="([^"]+)"', body):
            assert f'<label for="{ident}">' in body, f"{name}: field {ident} has no label"
    survey = pages["survey"].text
    assert survey.count("<fieldset>") == 11  # the main question and the ten SUS items
    for item in SUS_ITEMS:
        assert item in survey
    for words in ("No answer", "1 Strongly disagree", "3 Neither", "5 Strongly agree"):
        assert survey.count(words) == 10


def test_signed_out_pages_send_the_person_to_sign_in(lite: Lite) -> None:
    rnd = survey_round(lite.world)
    response = lite.client.get(f"/lite/survey/{rnd}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/lite/"
    assert "Sign in" in lite.client.get(f"/lite/survey/{rnd}").text


# ------------------------------------------------------------------ CSRF
def test_a_form_posted_without_its_token_is_refused_and_writes_nothing(lite: Lite) -> None:
    world = lite.world
    rnd = survey_round(world)
    before = world.fingerprint()
    refused = lite.client.post("/lite/sign-in", data={"email": email_of(world, world.members[0]),
                                                      "password": PASSWORD})
    assert refused.status_code == 403 and "nothing was saved" in refused.text
    assert world.fingerprint() == before  # not even a failed-sign-in record
    lite.sign_in(world.members[0])
    before = world.fingerprint()
    for token in (None, "0" * 64):
        data = {"answer": VERY, **({"csrf": token} if token else {})}
        assert lite.client.post(f"/lite/survey/{rnd}", data=data).status_code == 403
    assert world.fingerprint() == before
    assert evaluate_q.my_surveys(world.uow, world.members[0])[0].answer is None


def test_a_token_from_before_sign_in_or_another_browser_does_not_work(lite: Lite) -> None:
    world = lite.world
    rnd = survey_round(world)
    stale = csrf_of(lite.client.get("/lite/").text)  # the sign-in form's token
    lite.sign_in(world.members[0])
    assert lite.client.post(f"/lite/survey/{rnd}", data={"answer": VERY, "csrf": stale}).status_code == 403
    mine = csrf_of(lite.client.get(f"/lite/survey/{rnd}").text)
    # Another browser (its own lite_csrf cookie) replaying this browser's token, with the session cookie.
    from starlette.testclient import TestClient

    other = TestClient(lite.client.app, base_url="http://testserver")
    other.get("/lite/")
    other.cookies.set("pilot_session", lite.client.cookies.get("pilot_session") or "")
    assert other.post(f"/lite/survey/{rnd}", data={"answer": VERY, "csrf": mine}).status_code == 403
    assert evaluate_q.my_surveys(world.uow, world.members[0])[0].answer is None


# ------------------------------------------------------------------ sign-in
def test_sign_in_refuses_with_the_services_one_message_and_throttles(lite: Lite) -> None:
    world = lite.world
    email = email_of(world, world.members[1])

    def attempt(password: str):  # type: ignore[no-untyped-def]
        token = csrf_of(lite.client.get("/lite/").text)
        return lite.client.post("/lite/sign-in", data={"email": email, "password": password, "csrf": token})

    for _ in range(ACCOUNT_FREE):
        wrong = attempt("not the password")
        assert wrong.status_code == 401 and SIGN_IN_REFUSED in wrong.text
        assert "pilot_session" not in lite.client.cookies
    # Now the account waits: even the right password is refused, with the same words.
    throttled = attempt(PASSWORD)
    assert throttled.status_code == 401 and SIGN_IN_REFUSED in throttled.text
    assert "pilot_session" not in lite.client.cookies
    world.clock.advance(minutes=2)
    assert attempt(PASSWORD).url.path == "/lite/"
    assert "What needs you" in lite.client.get("/lite/").text
    actions = [a for a in world_actions(world) if a.startswith("person.sign_in") or a == "person.signed_in"]
    assert "person.sign_in_throttled" in actions and actions[-1] == "person.signed_in"


def world_actions(world: World) -> list[str]:
    from sqlalchemy import select

    from governance.storage.models import AuditEvent

    with world.db.uow().reading() as s:
        return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_the_light_cookie_is_the_dashboards_session_and_sign_out_ends_it(lite: Lite) -> None:
    from governance.identity import sessions
    from governance.services.signin import current_session

    world = lite.world
    lite.sign_in(world.members[0])
    raw = lite.client.cookies.get(sessions.COOKIE_NAME)
    claim = sessions.read_cookie(sessions.load_key(world.db.url), raw)
    assert claim is not None
    live = current_session(world.uow, claim.session_id, claim.token)
    assert live is not None and live.person_id == world.members[0]
    home = lite.client.get("/lite/").text
    lite.client.post("/lite/sign-out", data={"csrf": csrf_of(home)})
    assert current_session(world.uow, claim.session_id, claim.token) is None
    assert "Sign in" in lite.client.get("/lite/").text


# ------------------------------------------------------------------ the acts
def test_answering_the_survey_with_sus_shows_in_the_read_models(lite: Lite) -> None:
    world = lite.world
    rnd = survey_round(world)
    lite.sign_in(world.members[0])
    assert "Not answered yet" in lite.client.get("/lite/").text
    done = lite.post_form(f"/lite/survey/{rnd}", {"answer": VERY, **ALL_SUS, "main_benefit": "Saves Tuesdays"})
    assert done.url.path == "/lite/" and "your survey answer is recorded" in done.text
    mine = evaluate_q.my_surveys(world.uow, world.members[0])[0]
    assert mine.answer == VERY and mine.sus_score == 75.0
    assert "Your answer: Very disappointed" in done.text


def test_a_refused_survey_shows_the_services_message_and_writes_nothing(lite: Lite) -> None:
    world = lite.world
    rnd = survey_round(world)
    lite.sign_in(world.members[0])
    before = world.fingerprint()
    partial = lite.post_form(f"/lite/survey/{rnd}", {"answer": VERY, "sus_1": "5", "sus_2": "9"})
    assert partial.status_code == 400 and 'role="alert"' in partial.text
    assert "Answer all ten from 1 to 5, or none." in partial.text
    assert 'value="5" checked' in partial.text  # the typed answers are kept
    missing = lite.post_form(f"/lite/survey/{rnd}", {"answer": ""})
    assert missing.status_code == 400 and "Answer" in missing.text
    assert world.fingerprint() == before
    # Someone not on the roster gets the rule's own words (R7), not a page of ours.
    lite.client.cookies.clear()
    lite.sign_in(world.outsider)
    before = world.fingerprint()
    refused = lite.post_form(f"/lite/survey/{rnd}", {"answer": VERY})
    assert refused.status_code == 400 and "Only the rostered users of" in refused.text
    assert world.fingerprint() == before


@pytest.mark.parametrize("secret", [True, False], ids=["secret", "on-the-record"])
def test_casting_and_changing_a_ballot_shows_the_receipt_where_secret(lite: Lite, secret: bool) -> None:
    world = lite.world
    if not secret:
        world.open_ballots()
    vote = panel_vote(world)
    voter = world.members[0]
    lite.sign_in(voter)
    home = lite.client.get("/lite/").text
    assert "Night-shift handovers" in home and "Not voted yet" in home and "Closes " in home
    cast = lite.post_form(f"/lite/vote/{vote}", {"option": "approve"})
    assert cast.status_code == 200 and "Your ballot is recorded" in cast.text
    detail = votes_q.vote_detail(world.uow, voter, vote)
    assert detail.current_ballot == "approve" and detail.my_ballot_is_secret is secret
    if secret:
        assert detail.my_receipt and detail.my_receipt in cast.text
    else:
        assert "Your receipt" not in cast.text
    again = lite.post_form(f"/lite/vote/{vote}", {"option": "approve"})
    assert again.status_code == 400 and "Your ballot is already" in again.text
    changed = lite.post_form(f"/lite/vote/{vote}", {"option": "reject"})
    assert changed.status_code == 200
    after = votes_q.vote_detail(world.uow, voter, vote)
    assert after.current_ballot == "reject" and len(after.my_history) == 2
    if secret:
        assert after.my_receipt != detail.my_receipt and after.my_receipt in changed.text
    assert "You have voted" in lite.client.get("/lite/").text


def test_a_secret_ballot_shows_its_receipt(lite: Lite) -> None:
    world = lite.world
    vote = panel_vote(world)  # the default charter: frontline ballots are secret (R17)
    lite.sign_in(world.members[1])
    cast = lite.post_form(f"/lite/vote/{vote}", {"option": "approve"})
    detail = votes_q.vote_detail(world.uow, world.members[1], vote)
    assert detail.my_ballot_is_secret and detail.my_receipt
    assert f"Your receipt: <strong>{detail.my_receipt}</strong>" in cast.text


def test_someone_not_eligible_is_told_by_the_service(lite: Lite) -> None:
    world = lite.world
    vote = panel_vote(world)
    lite.sign_in(world.outsider)
    page = lite.client.get(f"/lite/vote/{vote}").text
    assert "not among this vote's eligible voters" in page and 'name="option"' not in page
    before = world.fingerprint()
    token = csrf_of(page)  # the sign-out form's token is this session's token
    refused = lite.client.post(f"/lite/vote/{vote}", data={"option": "approve", "csrf": token})
    assert refused.status_code == 400 and 'role="alert"' in refused.text
    assert world.fingerprint() == before


def test_raising_feedback_shows_it_and_later_its_response(lite: Lite) -> None:
    world = lite.world
    _, pilot = world.pilot_in_use()
    lite.sign_in(world.members[0])
    sent = lite.post_form("/lite/feedback", {"pilot_id": str(pilot), "kind": "wrong_output",
                                              "body": "It put the NHS number in the date field."})
    assert sent.url.path == "/lite/" and "Sent." in sent.text
    assert "It put the NHS number in the date field." in sent.text and "Awaiting the owner" in sent.text
    mine = evaluate_q.my_feedback(world.uow, world.members[0])
    assert [f.body for f in mine] == ["It put the NHS number in the date field."]
    sv.respond_to_feedback(world.uow, world.commissioner, mine[0].id, response="Fixed in release 2.")
    assert "Fixed in release 2." in lite.client.get("/lite/").text
    before = world.fingerprint()
    empty = lite.post_form("/lite/feedback", {"pilot_id": str(pilot), "kind": "wrong_output", "body": " "})
    assert empty.status_code == 400 and 'role="alert"' in empty.text
    assert world.fingerprint() == before


@pytest.mark.parametrize("path", ["/lite/survey/999999", "/lite/vote/999999"])
def test_an_unknown_act_is_a_plain_page_not_a_traceback(lite: Lite, path: str) -> None:
    lite.sign_in(lite.world.members[0])
    response = lite.client.get(path)
    assert response.status_code == 404 and "Traceback" not in response.text and "<h1>" in response.text


def test_reminders_are_turned_off_and_on_from_the_light_home(lite: Lite) -> None:
    from governance.queries import people as people_q

    world = lite.world
    lite.sign_in(world.members[0])
    assert "Reminders are on." in lite.client.get("/lite/").text
    home = lite.client.get("/lite/").text
    done = lite.client.post("/lite/reminders", data={"off": "1", "csrf": csrf_of(home)})
    assert "Reminders are off" in done.text and people_q.reminders_off(world.uow, world.members[0])
    before = world.fingerprint()
    assert lite.client.post("/lite/reminders", data={"off": "0"}).status_code == 403  # no token
    assert world.fingerprint() == before
    home = lite.client.get("/lite/").text
    lite.client.post("/lite/reminders", data={"off": "0", "csrf": csrf_of(home)})
    assert not people_q.reminders_off(world.uow, world.members[0])


def test_a_temporary_password_leads_to_choosing_ones_own_first(lite: Lite) -> None:
    world = lite.world
    sv.set_password(world.uow, world.admin, world.members[3], "a temporary one 2026", temporary=True)
    form = lite.client.get("/lite/")
    signed = lite.client.post("/lite/sign-in", data={"email": email_of(world, world.members[3]),
                                                     "password": "a temporary one 2026", "csrf": csrf_of(form.text)})
    assert signed.url.path == "/lite/password" and "Choose your password" in signed.text
    assert lite.client.get("/lite/feedback").url.path == "/lite/password"  # nothing else until then
    differ = lite.client.post("/lite/password", data={"new": "my own long password", "again": "another one",
                                                      "csrf": csrf_of(signed.text)})
    assert differ.status_code == 400 and "differ" in differ.text
    short = lite.client.post("/lite/password", data={"new": "short", "again": "short",
                                                     "csrf": csrf_of(differ.text)})
    assert short.status_code == 400 and 'role="alert"' in short.text
    done = lite.client.post("/lite/password", data={"new": "my own long password 26",
                                                    "again": "my own long password 26", "csrf": csrf_of(short.text)})
    assert done.url.path == "/lite/" and "Your password is saved." in done.text and "What needs you" in done.text
    assert sv.sign_in(world.uow, email_of(world, world.members[3]), "my own long password 26").person_id \
        == world.members[3]


def test_bad_requests_get_plain_answers_and_write_nothing(lite: Lite) -> None:
    world = lite.world
    _, pilot = world.pilot_in_use()
    lite.sign_in(world.members[0])
    before = world.fingerprint()
    huge = lite.client.post("/lite/feedback", content=b"body=" + b"x" * (70 * 1024),
                            headers={"content-type": "application/x-www-form-urlencoded"})
    assert huge.status_code == 413 and "nothing was saved" in huge.text
    not_a_pilot = lite.post_form("/lite/feedback", {"pilot_id": "first", "kind": "other", "body": "Hmm."})
    assert not_a_pilot.status_code == 400 and "Choose the pilot your feedback is about." in not_a_pilot.text
    unknown_kind = lite.post_form("/lite/feedback", {"pilot_id": str(pilot), "kind": "rant", "body": "Hmm."})
    assert unknown_kind.status_code == 400 and 'role="alert"' in unknown_kind.text
    assert lite.client.get("/lite/survey/not-a-number").status_code == 404
    assert world.fingerprint() == before


def test_someone_with_no_role_yet_is_told_so_not_shown_an_error_page(lite: Lite) -> None:
    world = lite.world
    nobody = world.person("Nora Norole", [], password=None)
    sv.set_password(world.uow, world.admin, nobody, "a long enough password 1", temporary=False)
    form = lite.client.get("/lite/")
    home = lite.client.post("/lite/sign-in", data={"email": email_of(world, nobody),
                                                   "password": "a long enough password 1", "csrf": csrf_of(form.text)})
    assert home.status_code == 400 and "holds no role yet; ask an administrator for one." in home.text
    assert "Something went wrong" not in home.text and "Sign out" in home.text
