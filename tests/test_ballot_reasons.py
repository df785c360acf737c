"""Optional ballot reasons: beside a ballot on the record by name, never beside a secret one (R17).

A voter of an open group may attach a short reason; it is kept with the ballot, committed to
in the ballot's event while the vote is open (a reason can name the option, and running
tallies stay hidden, R8) and published with the named ballots when the vote closes. A voter
of a secret group is offered no reason field, and a reason posted anyway is refused with
nothing written: words of one's own beside a secret ballot could tell whose it is.
"""
from __future__ import annotations

import json

from sqlalchemy import select

from governance import services as sv
from governance.errors import InvalidInput, RuleViolation
from governance.queries import votes as votes_q
from governance.rules.ballots import REASON_MAX
from governance.storage.models import AuditEvent, Ballot, Decision, Vote
from tests.apptest_support import choose, one, open_page, pages_db
from tests.lite_support import Lite, lite_fixture
from tests.test_record_operators import small_charter
from tests.world import VERY, World

__all__ = ["pages_db", "lite_fixture"]  # the fixtures, imported for pytest

REASON = "It saves me re-keying every referral on a Tuesday."


def _outcome_vote(world: World) -> int:
    small_charter(world)
    _, pilot = world.pilot_in_use()
    world.pass_window()
    world.survey(pilot, [(m, VERY) for m in world.members])
    return sv.open_outcome_vote(world.uow, world.steering, pilot)


def _events(world: World, action: str) -> list[dict]:
    with world.db.uow().reading() as s:
        return [json.loads(e.payload) for e in s.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                                         .order_by(AuditEvent.seq))]


def test_a_reason_stays_beside_an_open_ballot_and_is_published_at_the_close(world: World) -> None:
    vote = _outcome_vote(world)
    sv.cast_ballot(world.uow, world.steering, vote, "adopt", reason=f"  {REASON}  ")
    with world.db.uow().reading() as s:
        ballot = s.scalars(select(Ballot).where(Ballot.vote_id == vote)).one()
        assert ballot.reason == REASON  # trimmed
    cast = _events(world, "ballot.cast")[-1]["after"]
    # While the vote is open the event holds a commitment, not the words (R8: they can name the option).
    assert cast["reason_commitment"] and REASON not in json.dumps(cast)
    detail = votes_q.vote_detail(world.uow, world.steering, vote)
    assert detail.my_history[-1].reason == REASON
    for voter in [*world.panel_voters, world.commissioner]:
        sv.cast_ballot(world.uow, voter, vote, "adopt")
    decision = sv.close_vote(world.uow, world.steering, vote, statement="Adopted: roll out to both sites.")
    named = {v["person_id"]: v for v in _events(world, "vote.closed")[-1]["after"]["named"]}
    assert named[world.steering]["reason"] == REASON and named[world.commissioner]["reason"] is None
    with world.db.uow().reading() as s:
        stored = json.loads(s.get(Vote, vote).result_json)
        basis = json.loads(s.get(Decision, decision).basis_json)
    assert {b["person_id"]: b["reason"] for b in stored["named_ballots"]}[world.steering] == REASON
    assert {v["person_id"]: v["reason"] for v in basis["voters"]}[world.steering] == REASON


def test_a_reason_on_a_secret_ballot_is_refused_and_nothing_is_written(world: World) -> None:
    vote = _outcome_vote(world)  # the default charter: frontline ballots are secret (R17)
    voter = world.panel_voters[0]
    with world.refuses(RuleViolation, match="A secret ballot carries no reason") as refused:
        sv.cast_ballot(world.uow, voter, vote, "stop", reason="I run the Tuesday clinic, and it fails me.")
    assert refused.value.rule == "R17"
    # Without a reason (or with a blank one) the same ballot goes through.
    assert sv.cast_ballot(world.uow, voter, vote, "stop", reason="  ").receipt


def test_a_reason_too_long_or_not_text_is_refused_and_nothing_is_written(world: World) -> None:
    vote = _outcome_vote(world)
    with world.refuses(InvalidInput, match="Reason is too long"):
        sv.cast_ballot(world.uow, world.steering, vote, "iterate", reason="x" * (REASON_MAX + 1))
    with world.refuses(InvalidInput, match="Reason must be text"):
        sv.cast_ballot(world.uow, world.steering, vote, "iterate", reason=["adopt"])  # type: ignore[arg-type]


def test_changing_only_the_reason_is_a_new_ballot_and_the_same_twice_is_refused(world: World) -> None:
    vote = _outcome_vote(world)
    sv.cast_ballot(world.uow, world.steering, vote, "iterate")
    sv.cast_ballot(world.uow, world.steering, vote, "iterate", reason=REASON)
    history = votes_q.vote_detail(world.uow, world.steering, vote).my_history
    assert [(h.option, h.reason, h.is_current) for h in history] == [("iterate", None, False),
                                                                      ("iterate", REASON, True)]
    with world.refuses(InvalidInput, match="already 'Iterate' with this reason"):
        sv.cast_ballot(world.uow, world.steering, vote, "iterate", reason=REASON)


def test_the_light_ballot_form_offers_a_reason_only_for_an_open_ballot(lite: Lite) -> None:
    world = lite.world
    vote = _outcome_vote(world)
    secret_voter = world.panel_voters[0]
    lite.sign_in(secret_voter)
    page = lite.client.get(f"/lite/vote/{vote}").text
    assert 'name="option"' in page and 'name="reason"' not in page
    before = world.fingerprint()
    # An attacker posts a reason with a secret ballot anyway: refused by the service, nothing written.
    refused = lite.post_form(f"/lite/vote/{vote}", {"option": "stop", "reason": "Ward 3 night nurse here."})
    assert refused.status_code == 400 and "A secret ballot carries no reason" in refused.text
    assert world.fingerprint() == before
    lite.client.cookies.clear()
    lite.sign_in(world.commissioner)  # the commissioning group votes on the record by name
    page = lite.client.get(f"/lite/vote/{vote}").text
    assert 'name="reason"' in page
    cast = lite.post_form(f"/lite/vote/{vote}", {"option": "iterate", "reason": REASON})
    assert cast.status_code == 200
    assert votes_q.vote_detail(world.uow, world.commissioner, vote).my_history[-1].reason == REASON


def test_the_dashboard_ballot_form_offers_a_reason_only_for_an_open_ballot(world: World, pages_db: object) -> None:
    vote = _outcome_vote(world)
    secret = choose(open_page(world.panel_voters[0], "votes"), "open-vote", vote)
    assert not [t for t in secret.text_area if t.label.startswith("Your reason")]
    assert any("carries no reason" in c.value for c in secret.caption)
    named = choose(open_page(world.steering, "votes"), "open-vote", vote)
    box = one(named.text_area, label="Your reason (optional, shown beside your ballot after the close)")
    assert box.max_chars == REASON_MAX
