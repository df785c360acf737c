"""The benchmark's `smoke` scale (issue 6): the generated organisation keeps every
invariant the services keep, the services carry on working on it, the invariant
checks notice when one is broken, and the benchmark's JSON has every field.
No timing assertions."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text

from bench.generate import generate
from bench.invariants import check_invariants
from governance import services as sv
from governance.record.chain import canonical_json
from governance.record.log import verify_chain
from governance.storage.db import Database
from governance.storage.models import (
    Ballot,
    Base,
    Charter,
    Decision,
    PanelMembership,
    Person,
    Pilot,
    Vote,
    VoteEligibility,
)
from governance.storage.repository import pilot_evidence as survey_evidence
from governance.vocabulary import Outcome, PilotState, ProblemState


@pytest.fixture
def smoke(db_url: str, owner_db_url: str) -> tuple[Database, dict]:
    # The generator bulk-loads as the owner; the product then carries on as the runtime role.
    report = generate("smoke", owner_db_url)
    db = Database(db_url)
    yield db, report
    db.dispose()


#: Operational sign-in state (sessions, throttling), not part of an organisation's record.
SIGN_IN_STATE = {"sign_in_session", "sign_in_throttle", "known_address"}


def test_the_smoke_organisation_keeps_every_invariant(smoke: tuple[Database, dict]) -> None:
    db, report = smoke
    assert check_invariants(db) == []
    with db.uow().reading() as s:
        chain = verify_chain(s)
    assert chain.ok and chain.events_checked == report["audit_events"] > 0
    # Every table is populated; pilots in every lifecycle state; every outcome; problems reopened.
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in SIGN_IN_STATE:
                continue
            assert conn.execute(text(f"SELECT count(*) FROM {table.name}")).scalar_one() > 0, table.name
        states = set(conn.execute(text("SELECT DISTINCT state FROM pilot")).scalars())
        outcomes = set(conn.execute(text("SELECT DISTINCT outcome FROM decision")).scalars())
        problem_states = set(conn.execute(text("SELECT DISTINCT state FROM problem")).scalars())
        superseded = conn.execute(text("SELECT count(*) FROM ballot WHERE NOT is_current")).scalar_one()
        revised = conn.execute(text("SELECT count(*) FROM survey_response WHERE NOT is_current")).scalar_one()
        overdue = conn.execute(text("SELECT count(*) FROM feedback_item WHERE responded_at IS NULL "
                                    "AND due_on < :today"), {"today": report["timeline"]["end"][:10]}).scalar_one()
    assert states == {s.value for s in PilotState}
    assert outcomes == {o.value for o in Outcome}
    assert {ProblemState.DRAFT.value, ProblemState.RATIFIED.value, ProblemState.REOPENED.value} <= problem_states
    assert superseded > 0 and revised > 0 and overdue > 0
    assert report["rows"]["ballot"] == 1_100 and report["rows"]["survey_response"] == 520


def test_the_services_carry_on_from_the_generated_organisation(smoke: tuple[Database, dict]) -> None:
    db, _ = smoke
    # The evidence each outcome vote froze is what the product computes from the survey.
    with db.uow().reading() as s:
        charter = s.scalar(select(Charter).order_by(Charter.version.desc()).limit(1))
        for vote in s.scalars(select(Vote).where(Vote.kind == "outcome")):
            evidence = survey_evidence(s, s.get(Pilot, vote.pilot_id), charter, closed_only=True)
            assert canonical_json(evidence.as_dict()) == vote.evidence_json
        open_votes = [(v.id, v.kind, v.panel_id) for v in s.scalars(select(Vote).where(Vote.status == "open"))]
    assert open_votes
    # Everyone eligible who has not voted votes; a facilitator closes the vote; the record still holds.
    for vote_id, kind, panel_id in open_votes:
        with db.uow().reading() as s:
            voted = set(s.scalars(select(Ballot.person_id).where(Ballot.vote_id == vote_id)))
            eligible = s.scalars(select(VoteEligibility.person_id).where(VoteEligibility.vote_id == vote_id)).all()
            facilitator = s.scalar(select(PanelMembership.person_id).where(
                PanelMembership.panel_id == panel_id, PanelMembership.panel_role == "facilitator"))
        for person in eligible:
            if person not in voted:
                sv.cast_ballot(db.uow(), person, vote_id, "iterate" if kind == "outcome" else "approve")
        decision = sv.close_vote(db.uow(), facilitator, vote_id)
        assert (decision is not None) == (kind == "outcome")
    assert check_invariants(db) == []


def test_decision_bases_are_what_the_product_would_have_frozen(smoke: tuple[Database, dict]) -> None:
    """Each generated basis equals ``services.votes._basis`` recomputed now, except the parts
    that legitimately move on after a decision (the chain head; criteria measured by other pilots)."""
    from governance.rules.basis import build_basis
    from governance.services.decisions import _facts
    from governance.storage.repository import tally_of

    db, _ = smoke
    with db.uow().reading() as s:
        decisions = s.scalars(select(Decision)).all()
        assert decisions
        for d in decisions:
            vote, pilot = s.get(Vote, d.vote_id), s.get(Pilot, d.pilot_id)
            actor = None if vote.closed_by is None else SimpleNamespace(
                id=vote.closed_by, name=s.get(Person, vote.closed_by).name)
            theirs = json.loads(canonical_json(build_basis(_facts(
                s, actor, vote, pilot, s.get(Charter, vote.charter_id), tally_of(s, vote),
                json.loads(vote.evidence_json), d.adopt_override))))
            mine = json.loads(d.basis_json)
            assert set(mine) == set(theirs)
            assert mine["audit_chain_head"] == {"seq": d.chain_head_seq, "hash": d.chain_head_hash}
            for key in set(mine) - {"audit_chain_head", "frontline_criteria_latest"}:
                assert mine[key] == theirs[key], (d.id, key)


def _tamper(db: Database, statements: list[str]) -> None:
    """Write what the services (and the triggers) would refuse, to see the checks notice."""
    with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            for name in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars().all():
                conn.execute(text(f"DROP TRIGGER {name}"))
        else:
            for table in ("audit_event", "ballot", "decision"):
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        for sql in statements:
            conn.execute(text(sql))
        conn.commit()


def test_the_invariant_checks_notice_a_broken_organisation(smoke: tuple[Database, dict]) -> None:
    db, _ = smoke
    with db.engine.connect() as conn:
        outsider = conn.execute(text("SELECT min(id) FROM person WHERE id NOT IN "
                                     "(SELECT person_id FROM vote_eligibility WHERE vote_id = 1)")).scalar_one()
        current = conn.execute(text("SELECT min(id) FROM ballot WHERE vote_id = 2 AND is_current")).scalar_one()
        cast_at = conn.execute(text("SELECT max(cast_at) FROM ballot WHERE vote_id = 1")).scalar_one()
    _tamper(db, [
        (f"INSERT INTO ballot (vote_id, person_id, voting_group, option, cast_at, is_current) "
         f"VALUES (1, {outsider}, 'frontline', 'approve', '{cast_at}', {'1' if db.dialect == 'sqlite' else 'true'})"),
        f"UPDATE ballot SET is_current = {'0' if db.dialect == 'sqlite' else 'false'} WHERE id = {current}",
        "UPDATE decision SET basis_json = replace(basis_json, '\"sus_n\":', '\"sus_n\": ') WHERE id = 1",
        ("UPDATE audit_event SET payload = replace(payload, 'iterate', 'adopt') "
         "WHERE seq = (SELECT min(seq) FROM audit_event WHERE payload LIKE '%iterate%')"),
    ])
    problems = "\n".join(check_invariants(db))
    assert "audit chain" in problems
    assert "not eligible" in problems
    assert "without exactly one current ballot" in problems
    assert "frozen basis" in problems


def test_the_benchmark_json_has_every_field(db_url: str, tmp_path: Path) -> None:
    from bench.__main__ import run

    out = tmp_path / "results.json"
    run("smoke", str(out), url=db_url, runs=1, tally_runs=3, quiet=True)
    r = json.loads(out.read_text(encoding="utf-8"))
    assert r["scale"] == "smoke" and r["engine"] in ("sqlite", "postgresql")
    assert isinstance(r["generation_s"], float)
    assert {"audit_events", "rows", "phases_s", "accounts", "peak_rss_mb"} <= set(r["generation"])
    assert r["invariants"] == {"ok": True, "problems": [], "seconds": r["invariants"]["seconds"]}
    assert {"ok", "events", "seconds", "events_per_s", "hashlib_seconds", "hashlib_events_per_s",
            "ratio"} <= set(r["chain_verify"])
    assert r["chain_verify"]["ok"] and r["chain_verify"]["events"] == r["chain_verify"]["hashlib_events"]
    for key in ("tally_one_pilot", "compare_readmodel"):
        section = r[key]
        assert {"product_ms", "raw_sql_ms", "ratio"} <= set(section) and section["same_numbers"] is True, key
    pages = r["pages"]
    assert set(pages) == {"home", "problems", "evaluate", "votes", "pilots", "compare", "audit", "admin"}
    assert all({"role", "cold_ms", "warm_ms", "runs"} <= set(p) for p in pages.values())
    assert isinstance(r["peak_rss_mb"], float) and isinstance(r["generation_peak_rss_mb"], float)
    assert {"cores", "memory_gb", "python", "sqlite", "postgresql"} <= set(r["machine"])
    assert set(r["targets"]) == {"generation_s", "chain_verify_s", "tally_one_pilot_ms",
                                 "compare_readmodel_ratio", "pages_cold_ms_max", "peak_rss_mb"}
