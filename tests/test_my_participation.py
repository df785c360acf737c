"""My participation on Votes: every vote I was eligible for, open and closed — whether I voted,
my ballot and reason (on the record by name) or my receipt (secret, R17), and the result once
closed; only my own, and as stacked cards that read on a phone."""
from __future__ import annotations

from governance import services as sv
from governance.errors import PermissionDenied
from governance.queries import participation as participation_q, votes as votes_q
from tests.apptest_support import open_page, pages_db, shown_text, unescaped
from tests.world import World

__all__ = ["pages_db"]  # the fixture, imported for pytest

REASON = "The handover sheet is lost twice a week."


def _ratification(world: World, title: str) -> int:
    problem = world.draft_problem(title=title, statement=f"{title}: it happens every week on the ward.")
    world.add_criterion(problem)
    return sv.propose_ratification(world.uow, world.facilitator, problem, days=7)


def _three_votes(world: World) -> dict[str, int]:
    """A secret ballot cast, then (open ballots) a closed vote with my reason, and one I skipped."""
    me = world.panel_voters[0]
    secret = _ratification(world, "Lost handover notes")
    sv.cast_ballot(world.uow, me, secret, "approve")
    world.open_ballots()
    closed = _ratification(world, "Re-keyed referral letters")
    for voter in world.panel_voters:
        sv.cast_ballot(world.uow, voter, closed, "approve", reason=REASON if voter == me else None)
    sv.close_vote(world.uow, world.facilitator, closed, statement="Ratified: the panel owns this problem now.")
    skipped = _ratification(world, "Printer queue at night")
    return {"secret": secret, "closed": closed, "skipped": skipped}


def test_every_vote_i_was_eligible_for_as_i_took_part(world: World) -> None:
    votes = _three_votes(world)
    me = world.panel_voters[0]
    page = participation_q.my_participation(world.uow, me)
    rows = {p.vote_id: p for p in page.rows}
    assert set(rows) == set(votes.values()) and page.total == 3
    # Open votes first, soonest deadline first; then closed ones.
    assert [p.vote_id for p in page.rows] == [votes["secret"], votes["skipped"], votes["closed"]]
    secret = rows[votes["secret"]]
    mine = votes_q.vote_detail(world.uow, me, votes["secret"]).my_receipt
    assert secret.secret and secret.voted and secret.receipt == mine and secret.ballot is None
    assert secret.reason is None and secret.result is None and secret.is_open
    closed = rows[votes["closed"]]
    assert not closed.secret and closed.voted and closed.ballot == "approve" and closed.reason == REASON
    assert closed.result == "approve" and closed.receipt is None and not closed.is_open
    skipped = rows[votes["skipped"]]
    assert not skipped.voted and skipped.ballot is None and skipped.result is None


def test_it_lists_only_the_readers_own_votes_and_ballots(world: World) -> None:
    votes = _three_votes(world)
    other = world.panel_voters[1]
    rows = {p.vote_id: p for p in participation_q.my_participation(world.uow, other).rows}
    assert rows[votes["closed"]].reason is None  # their ballot had no reason; mine is not theirs
    assert not rows[votes["secret"]].voted and rows[votes["secret"]].receipt is None
    assert participation_q.my_participation(world.uow, world.auditor).rows == []  # never eligible


def test_someone_without_a_role_reads_nothing(world: World) -> None:
    nobody = sv.create_person(world.uow, world.admin, name="Nadia No-role", email="nadia@example.org")
    try:
        participation_q.my_participation(world.uow, nobody)
    except PermissionDenied as refused:
        assert "holds no role" in str(refused)
    else:
        raise AssertionError("a person without a role read a participation list")


def test_the_votes_page_shows_my_participation_as_cards(world: World, pages_db: object) -> None:
    votes = _three_votes(world)
    me = world.panel_voters[0]
    at = open_page(me, "votes")
    text = unescaped(shown_text(at)).replace("**", "")
    receipt = votes_q.vote_detail(world.uow, me, votes["secret"]).my_receipt
    assert f"Your receipt: {receipt}" in text and f"your reason: “{REASON}”" in text
    assert "You have not voted yet." in text and "Result: Approve" in text
    assert "Printer queue at night" in text and "(secret ballot)" in text
