"""Personal one-time links (issue 15, item 2): issued per person for a survey round or a vote,
stored only as a hash, expiring, single use, audited; opening one lands on the light form
already identified."""
from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import select, text

from governance import services as sv
from governance.errors import InvalidInput, PermissionDenied, RuleViolation
from governance.queries import evaluate as evaluate_q, votes as votes_q
from governance.storage.models import AuditEvent, PersonalLink
from tests.lite_support import Lite, csrf_of, lite_fixture  # noqa: F401 - the fixture
from tests.world import VERY, World


def survey_round(world: World) -> tuple[int, int]:
    _, pilot = world.pilot_in_use()
    world.pass_window()
    return pilot, sv.open_survey_round(world.uow, world.commissioner, pilot)


def panel_vote(world: World) -> int:
    problem = world.draft_problem(title="Night-shift handovers", statement="Handover notes are lost at 7am.")
    world.add_criterion(problem)
    return sv.propose_ratification(world.uow, world.facilitator, problem)


def events(world: World, action: str) -> list[dict]:
    with world.db.uow().reading() as s:
        return [json.loads(p) | {"_actor": a} for p, a in s.execute(
            select(AuditEvent.payload, AuditEvent.actor_id).where(AuditEvent.action == action)
            .order_by(AuditEvent.seq))]


def token_of(path: str) -> str:
    return path.rsplit("/", 1)[1]


def test_links_are_issued_per_rostered_person_and_only_their_hash_is_kept(world: World) -> None:
    _, rnd = survey_round(world)
    links = sv.issue_survey_links(world.uow, world.commissioner, rnd)
    assert sorted(link.person_id for link in links) == sorted(world.members)
    assert all(link.path.startswith("/lite/link/") for link in links)
    with world.db.engine.connect() as conn:
        stored = " ".join(str(v) for row in conn.execute(text("SELECT * FROM personal_link")) for v in row)
        record = " ".join(conn.execute(text("SELECT payload FROM audit_event")).scalars())
    for link in links:
        token = token_of(link.path)
        assert token not in stored and token not in record
        assert hashlib.sha256(token.encode()).hexdigest() in stored
    issued = events(world, "personal_link.issued")
    assert len(issued) == 1 and issued[0]["after"]["person_ids"] == sorted(world.members)
    assert issued[0]["_actor"] == world.commissioner


def test_only_those_who_run_the_round_or_close_the_vote_issue_links(world: World) -> None:
    _, rnd = survey_round(world)
    vote = panel_vote(world)
    with world.refuses(PermissionDenied):
        sv.issue_survey_links(world.uow, world.members[0], rnd)
    with world.refuses(PermissionDenied):
        sv.issue_vote_links(world.uow, world.commissioner, vote)
    assert len(sv.issue_vote_links(world.uow, world.facilitator, vote)) == len(world.panel_voters)


def test_a_valid_link_lands_on_the_survey_identified_and_answers_once(lite: Lite) -> None:
    world = lite.world
    _, rnd = survey_round(world)
    link = next(k for k in sv.issue_survey_links(world.uow, world.commissioner, rnd)
                if k.person_id == world.members[2])
    page = lite.client.get(link.path)
    assert page.status_code == 200 and "This link is for <strong>Member 3</strong>" in page.text
    assert "pilot_session" not in lite.client.cookies  # no session: the link is the identification
    done = lite.client.post(link.path, data={"answer": VERY, "csrf": csrf_of(page.text)})
    assert done.status_code == 200 and "your survey answer is recorded" in done.text
    assert evaluate_q.my_surveys(world.uow, world.members[2])[0].answer == VERY
    used = events(world, "personal_link.used")
    assert len(used) == 1 and used[0]["after"]["person_id"] == world.members[2]
    assert used[0]["_actor"] == world.members[2]
    # Reused: refused, and nothing is written.
    before = world.fingerprint()
    again = lite.client.get(link.path)
    assert again.status_code == 410 and "already used" in again.text
    assert lite.client.post(link.path, data={"answer": VERY, "csrf": csrf_of(page.text)}).status_code == 410
    with world.refuses(PermissionDenied, match="already used"):
        sv.answer_by_link(world.uow, token_of(link.path), answer=VERY)
    assert world.fingerprint() == before


def test_a_link_posted_without_its_token_is_refused_and_stays_unspent(lite: Lite) -> None:
    world = lite.world
    _, rnd = survey_round(world)
    link = sv.issue_survey_links(world.uow, world.commissioner, rnd)[0]
    lite.client.get(link.path)
    before = world.fingerprint()
    assert lite.client.post(link.path, data={"answer": VERY}).status_code == 403
    # Another link's token does not fit either.
    other = sv.issue_survey_links(world.uow, world.commissioner, rnd)
    fresh = next(k for k in other if k.person_id == link.person_id)
    before = world.fingerprint()
    stale_form = lite.client.get(other[-1].path).text
    assert lite.client.post(fresh.path, data={"answer": VERY, "csrf": csrf_of(stale_form)}).status_code == 403
    assert world.fingerprint() == before


def test_a_newer_link_replaces_the_older_one(lite: Lite) -> None:
    world = lite.world
    _, rnd = survey_round(world)
    first = sv.issue_survey_links(world.uow, world.commissioner, rnd)[0]
    sv.issue_survey_links(world.uow, world.commissioner, rnd)
    page = lite.client.get(first.path)
    assert page.status_code == 410 and "replaced by a newer one" in page.text
    assert events(world, "personal_link.issued")[-1]["after"]["replaced"] == len(world.members)


def test_an_expired_or_closed_link_is_refused(lite: Lite) -> None:
    world = lite.world
    vote = panel_vote(world)
    link = sv.issue_vote_links(world.uow, world.facilitator, vote)[0]
    with world.db.uow().reading() as s:
        deadline = s.scalar(select(PersonalLink.expires_at).where(PersonalLink.person_id == link.person_id))
    assert deadline == votes_q.vote_detail(world.uow, world.facilitator, vote).deadline  # expires at the close
    world.clock.set(deadline)
    page = lite.client.get(link.path)
    assert page.status_code == 410 and "expired" in page.text
    with world.refuses(PermissionDenied, match="expired"):
        sv.vote_by_link(world.uow, token_of(link.path), "approve")
    world.close_at_deadline(vote)
    assert "has closed" in lite.client.get(link.path).text


def test_a_link_serves_only_its_own_act_and_person(lite: Lite) -> None:
    world = lite.world
    _, rnd = survey_round(world)
    links = {k.person_id: k for k in sv.issue_survey_links(world.uow, world.commissioner, rnd)}
    token = token_of(links[world.members[0]].path)
    with world.refuses(InvalidInput, match="different act"):
        sv.vote_by_link(world.uow, token, "approve")
    # Someone else signed in on this browser does not act as the link's person (nor the reverse).
    lite.sign_in(world.members[1])
    before = world.fingerprint()
    page = lite.client.get(links[world.members[0]].path)
    assert page.status_code == 403 and "signed in as Member 2" in page.text
    refused = lite.client.post(links[world.members[0]].path, data={"answer": VERY, "csrf": csrf_of(page.text)})
    assert refused.status_code == 403
    assert world.fingerprint() == before
    # A person deactivated since the link was issued: the link no longer identifies anyone.
    sv.deactivate_person(world.uow, world.admin, world.members[0], reason="Left the organisation.")
    lite.client.cookies.clear()
    assert lite.client.get(links[world.members[0]].path).status_code == 404
    with world.refuses(PermissionDenied):
        sv.answer_by_link(world.uow, token, answer=VERY)
    with world.refuses(PermissionDenied, match="not known"):
        sv.answer_by_link(world.uow, "x" * 43, answer=VERY)
    assert lite.client.get("/lite/link/" + "x" * 43).status_code == 404


def test_a_vote_link_casts_a_first_secret_ballot_and_shows_its_receipt_once(lite: Lite) -> None:
    world = lite.world
    vote = panel_vote(world)  # frontline ballots are secret under the default charter (R17)
    links = {k.person_id: k for k in sv.issue_vote_links(world.uow, world.facilitator, vote)}
    voter = world.members[0]
    page = lite.client.get(links[voter].path)
    assert 'name="option"' in page.text
    cast = lite.client.post(links[voter].path, data={"option": "approve", "csrf": csrf_of(page.text)})
    detail = votes_q.vote_detail(world.uow, voter, vote)
    assert detail.current_ballot == "approve" and detail.my_ballot_is_secret
    assert f"Your receipt: <strong>{detail.my_receipt}</strong>" in cast.text
    assert detail.my_receipt not in lite.client.get(links[voter].path).text  # spent, and no receipt
    # Someone who already voted (signed in) cannot vote again through a link: a change would be
    # recorded by name at that moment, which R17 keeps out of the record.
    other = world.members[1]
    sv.cast_ballot(world.uow, other, vote, "reject")
    landing = lite.client.get(links[other].path).text
    assert "already voted" in landing and 'name="option"' not in landing
    with world.refuses(RuleViolation, match="already voted"):
        sv.vote_by_link(world.uow, token_of(links[other].path), "approve")
    # Issuing again skips those who voted.
    assert voter not in {k.person_id for k in sv.issue_vote_links(world.uow, world.facilitator, vote)}


@pytest.mark.parametrize("option", ["", "abstain-ish"])
def test_a_bad_ballot_through_a_link_shows_the_services_message_and_leaves_it_unspent(lite: Lite,
                                                                                   option: str) -> None:
    world = lite.world
    vote = panel_vote(world)
    link = sv.issue_vote_links(world.uow, world.facilitator, vote)[0]
    page = lite.client.get(link.path)
    before = world.fingerprint()
    refused = lite.client.post(link.path, data={"option": option, "csrf": csrf_of(page.text)})
    assert refused.status_code == 400 and 'role="alert"' in refused.text
    assert world.fingerprint() == before
    assert lite.client.get(link.path).status_code == 200  # still usable
