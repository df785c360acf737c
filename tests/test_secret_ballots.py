"""R17: secret ballots where power is unequal.

The frontline group's ballots are secret (the charter's default): no row, no audit
payload, no frozen basis pairs a frontline voter with their option; "one current ballot
per voter, changeable until close" still holds in the database; each voter gets a
receipt; the closed vote publishes the (receipt, option) list that anyone can recount.
Commissioning and steering ballots stay on the record by name.
"""
from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from governance import services as sv
from governance.rules.ballots import new_receipt, normalise_receipt, recount, voter_token
from governance.rules.charter import terms_of
from governance.storage.models import AuditEvent, Base, Charter, Decision, SecretBallot, Vote
from tests.test_record_operators import small_charter
from tests.world import VERY, World

PERSON_COLUMNS = ("person_id", "actor_id", "voter_id", "made_by", "raised_by", "closed_by", "opened_by",
                  "declared_by", "recorded_by", "changed_by", "invited_by")


@pytest.fixture
def secret_vote(world: World) -> dict[str, Any]:
    """A closed outcome vote: frontline choices in a known pattern, one voter changing twice."""
    small_charter(world)
    _, pilot = world.pilot_in_use()
    world.pass_window()
    world.survey(pilot, [(m, VERY) for m in world.members])
    vote = sv.open_outcome_vote(world.uow, world.steering, pilot)
    choices = dict(zip(world.panel_voters, ["adopt", "adopt", "iterate", "stop", "adopt", "iterate", "adopt"],
                       strict=True))
    receipts = {}
    changer = world.members[2]
    for voter, option in choices.items():
        if voter == changer:
            sv.cast_ballot(world.uow, voter, vote, "stop")
            sv.cast_ballot(world.uow, voter, vote, "adopt")
        receipts[voter] = sv.cast_ballot(world.uow, voter, vote, option).receipt
    sv.cast_ballot(world.uow, world.commissioner, vote, "adopt")
    sv.cast_ballot(world.uow, world.steering, vote, "iterate")
    decision = sv.close_vote(world.uow, world.steering, vote, statement="The result stands.")
    return {"vote": vote, "decision": decision, "choices": choices, "receipts": receipts, "changer": changer}


def _payload_pairs(value: Any, person: int) -> bool:
    """Whether a JSON value holds, in one object, a person key equal to ``person`` and an option."""
    if isinstance(value, dict):
        names_person = any(value.get(k) == person for k in ("person_id", "actor_id", "voter_id", "id"))
        if names_person and "option" in value:
            return True
        return any(_payload_pairs(v, person) for v in value.values())
    if isinstance(value, list):
        return any(_payload_pairs(v, person) for v in value)
    return False


def test_no_row_and_no_payload_pairs_a_frontline_voter_with_their_option(world: World, secret_vote) -> None:
    choices = secret_vote["choices"]
    with world.db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            columns = {c.name for c in table.columns}
            people = columns & set(PERSON_COLUMNS)
            if not people:
                continue
            for row in conn.execute(select(table)).mappings():
                for column in people:
                    voter = row[column]
                    if voter not in choices:
                        continue
                    assert "option" not in columns, f"{table.name} pairs person {voter} with an option"
                    for name, value in row.items():
                        if isinstance(value, str) and value.startswith(("{", "[")):
                            assert not _payload_pairs(json.loads(value), voter), (table.name, name)
        for actor, payload, action in conn.execute(select(AuditEvent.actor_id, AuditEvent.payload,
                                                          AuditEvent.action)):
            if actor in choices and "ballot" in action:
                assert '"option"' not in payload, f"{action} by frontline voter #{actor} names an option"
            assert not any(_payload_pairs(json.loads(payload), v) for v in choices), action
        basis = json.loads(conn.execute(select(Decision.basis_json)).scalar_one())
    assert not any(_payload_pairs(basis, v) for v in choices)
    assert {v["group"] for v in basis["voters"]} == {"commissioning", "steering"}


def test_secret_rows_carry_no_person_no_time_and_random_ids(world: World, secret_vote) -> None:
    columns = {c.name for c in SecretBallot.__table__.columns}
    assert not columns & {"person_id", "cast_at", "created_at", "voter_id"}
    with world.db.uow().reading() as s:
        ids = s.scalars(select(SecretBallot.id).where(SecretBallot.vote_id == secret_vote["vote"])).all()
    assert len(ids) == 9 and all(i > 2 ** 40 for i in ids)  # random 62-bit ids: no insertion order


def test_the_published_list_recounts_to_the_stored_result_and_every_receipt_is_there(world: World,
                                                                                      secret_vote) -> None:
    with world.db.uow().reading() as s:
        vote = s.get(Vote, secret_vote["vote"])
        result = json.loads(vote.result_json)
        terms = terms_of(s.get(Charter, vote.charter_id))
        basis = json.loads(s.scalar(select(Decision.basis_json)))
        s.expunge_all()
    published = result["secret_ballots"]
    assert published == basis["secret_ballots"]
    listed = {e["receipt"]: e["option"] for e in published["receipts"]}
    assert len(listed) == len(published["receipts"]) == 7  # the changer's earlier receipts are not there
    for voter, receipt in secret_vote["receipts"].items():
        assert listed[receipt] == secret_vote["choices"][voter]
    assert {p["person_id"] for p in published["participants"]} == set(secret_vote["choices"])
    again = recount(kind="outcome", secret=published["receipts"], named=basis["voters"],
                    eligible=basis["eligible"], terms=terms, adopt_available=vote.adopt_available,
                    proposed=vote.proposed_outcome).as_dict()
    assert again["combined_exact"] == result["combined_exact"] and again["winner"] == result["winner"]
    # A forged entry in the published list no longer recounts to the stored result.
    # (Receipts are random, so the first one may already say "stop": forge it to another option.)
    first = published["receipts"][0]
    other = "iterate" if first["option"] == "stop" else "stop"
    forged = [dict(e, option=other) if i == 0 else e for i, e in enumerate(published["receipts"])]
    changed = recount(kind="outcome", secret=forged, named=basis["voters"], eligible=basis["eligible"],
                      terms=terms, adopt_available=vote.adopt_available, proposed=vote.proposed_outcome)
    assert changed.as_dict()["combined_exact"] != result["combined_exact"]


def test_the_database_still_holds_one_current_secret_ballot_per_voter(world: World) -> None:
    problem = world.draft_problem()
    world.add_criterion(problem)
    vote = sv.propose_ratification(world.uow, world.facilitator, problem)
    sv.cast_ballot(world.uow, world.members[0], vote, "approve")
    token = voter_token(world.db.keys.ballot_key(), vote, world.members[0])
    with pytest.raises(IntegrityError), world.db.engine.begin() as conn:
        conn.execute(SecretBallot.__table__.insert().values(id=12345678901234, vote_id=vote, voter_token=token,
                                                            voting_group="frontline", option="reject",
                                                            receipt=new_receipt(), is_current=True))


def test_panel_votes_follow_the_frontline_setting(world: World) -> None:
    problem = world.draft_problem()
    world.add_criterion(problem)
    secret = sv.propose_ratification(world.uow, world.facilitator, problem)
    assert sv.cast_ballot(world.uow, world.members[0], secret, "approve").secret
    sv.adopt_charter(world.uow, world.steering, reason="The panel voted to vote by name.", secret_groups=[])
    other = world.draft_problem(title="Printer queue", statement="The shared printer jams every morning.")
    world.add_criterion(other)
    named = sv.propose_ratification(world.uow, world.facilitator, other)
    assert not sv.cast_ballot(world.uow, world.members[0], named, "approve").secret
    # The earlier vote keeps the groups it opened with.
    assert sv.cast_ballot(world.uow, world.members[1], secret, "approve").secret


def test_a_vote_from_before_secret_ballots_stays_open_and_named(world: World, owner_db_url: str) -> None:
    problem = world.draft_problem()
    world.add_criterion(problem)
    vote = sv.propose_ratification(world.uow, world.facilitator, problem)
    from tests.test_record_operators import as_operator

    with as_operator(owner_db_url, guards_off=False) as conn:  # as migration 0004 left an older vote
        conn.execute(update(Vote.__table__).where(Vote.__table__.c.id == vote).values(secret_groups=None))
    cast = sv.cast_ballot(world.uow, world.members[0], vote, "approve")
    assert not cast.secret and cast.ballot_id is not None


def test_the_commissioning_group_can_be_made_secret_too(world: World) -> None:
    small_charter(world)
    sv.adopt_charter(world.uow, world.steering, reason="Commissioning asked to vote in secret too.",
                     secret_groups=["frontline", "commissioning"])
    _, pilot = world.pilot_in_use()
    world.pass_window()
    world.survey(pilot, [(m, VERY) for m in world.members])
    vote = sv.open_outcome_vote(world.uow, world.steering, pilot)
    assert sv.cast_ballot(world.uow, world.commissioner, vote, "adopt").secret
    assert not sv.cast_ballot(world.uow, world.steering, vote, "adopt").secret


def test_conflict_of_interest_and_revoked_roles_still_hold_for_secret_groups(world: World) -> None:
    from governance.errors import PermissionDenied

    problem = world.draft_problem()
    world.add_criterion(problem)
    vote = sv.propose_ratification(world.uow, world.facilitator, problem)
    sv.set_roles(world.uow, world.admin, world.members[0], ["commissioning"])
    with world.refuses(PermissionDenied, match="no longer holds the role of the frontline group"):
        sv.cast_ballot(world.uow, world.members[0], vote, "approve")


def test_receipts_are_easy_to_copy() -> None:
    receipt = new_receipt()
    assert len(receipt) == 11 and receipt[5] == "-" and not set(receipt) & set("ILOU")
    assert normalise_receipt(receipt.lower().replace("-", " ")) == receipt
    assert normalise_receipt("7kq2m-9xd3r") == "7KQ2M-9XD3R"


def test_a_secret_audit_event_holds_a_commitment_not_the_option(world: World, secret_vote) -> None:
    with world.db.engine.connect() as conn:
        rows = conn.execute(text("SELECT actor_id, payload FROM audit_event WHERE action LIKE 'secret_ballot.%' "
                                 "AND entity_id = :vote"), {"vote": str(secret_vote["vote"])}).all()
    assert len(rows) == 9  # 7 first ballots (named: they took part) + 2 anonymous changes
    assert sum(1 for actor, _ in rows if actor is None) == 2
    for _, payload in rows:
        after = json.loads(payload)["after"]
        assert set(after) == {"vote_id", "group", "commitment"} and len(after["commitment"]) == 64
