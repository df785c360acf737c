"""Results and declarations (R8, R9, R17): every closed vote's stored result is the tally of its
current ballots with its published (receipt, option) list; its closing event says the same; every
decision rests on a closed outcome vote that met quorum, and its frozen basis is what
``rules.basis`` builds from the record now (but for what moves on after a declaration)."""
from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.invariants.base import Check
from governance.identity.actors import Actor
from governance.record.chain import canonical_json, rows_digest, sha256_hex
from governance.rules.ballots import named_order, parse_groups, published
from governance.rules.basis import build_basis
from governance.rules.charter import terms_of
from governance.rules.voting import tally_vote
from governance.services.decisions import _facts as facts_of  # the use case's own loading of the facts
from governance.storage.models import Charter, Decision, Person, Pilot, Vote
from governance.storage.repository import current_ballots, participants, secret_receipts, tally_of

#: What a basis legitimately no longer matches after its declaration: the chain moved on (its
#: recorded head is checked against the chain instead), and criteria shared by the problem
#: version's pilots may have been measured again.
MOVES_ON = ("audit_chain_head", "frontline_criteria_latest")


def tallies(check: Check) -> None:
    """Each closed vote: stored result = tally of current ballots + published list; the event agrees."""
    charters = {c[0]: c for c in check.rows("SELECT * FROM charter")}
    eligible: dict[int, dict[str, int]] = defaultdict(lambda: {"frontline": 0, "commissioning": 0, "steering": 0})
    for vote_id, group, n in check.rows("SELECT vote_id, voting_group, count(*) FROM vote_eligibility "
                                        "GROUP BY vote_id, voting_group"):
        eligible[vote_id][group] = int(n)
    cast: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for table in ("ballot", "secret_ballot"):
        for vote_id, group, option, n in check.rows(
                f"SELECT vote_id, voting_group, option, count(*) FROM {table} WHERE is_current "
                "GROUP BY vote_id, voting_group, option"):
            cast[vote_id] += [(group, option)] * int(n)
    events = {int(e): _event_digests(json.loads(p)["after"]) for e, p in check.rows(
        "SELECT entity_id, payload FROM audit_event WHERE action = 'vote.closed'")}
    shown = _published(check)
    named: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for vid, pid, name, group, option, reason in check.rows(
            "SELECT b.vote_id, b.person_id, p.name, b.voting_group, b.option, b.reason FROM ballot b "
            "JOIN person p ON p.id = b.person_id WHERE b.is_current"):
        named[vid].append({"person_id": int(pid), "name": name, "group": group, "option": option,
                           "reason": reason})
    for ballots in named.values():
        ballots.sort(key=named_order)
    wrong: list[int] = []
    for vid, kind, adopt, proposed, charter_id, quorum_met, result_json, groups in check.rows(
            "SELECT id, kind, adopt_available, proposed_outcome, charter_id, quorum_met, result_json, secret_groups "
            "FROM vote WHERE status = 'closed'"):
        terms = terms_of(_Attrs(charters[charter_id]._mapping))
        tally = tally_vote(kind, cast[vid], eligible=eligible[vid], terms=terms, adopt_available=bool(adopt),
                           proposed=proposed)
        expected = tally.as_dict()
        secret = parse_groups(groups)
        if secret is not None:
            expected["secret_ballots"] = published(secret, *shown.get(vid, ([], []))).as_dict()
        expected["named_ballots"] = named.get(vid, [])
        body = canonical_json(expected)
        if body != result_json or bool(quorum_met) != tally.quorum_met \
                or events.get(vid) != (sha256_hex(canonical_json(tally.as_dict())), expected.get("secret_ballots"),
                                       rows_digest(cast[vid]), tally.winner, expected["named_ballots"]):
            wrong.append(vid)
    check.fail(len(wrong), "closed votes whose stored result, published list or closing event is not the tally "
                           "of their ballots", wrong)


def _event_digests(after: dict[str, Any]) -> tuple[Any, ...]:
    return (sha256_hex(canonical_json(after["tally"])), after["published"], after["ballots_sha256"],
            after["winner"], after["named"])


def _published(check: Check) -> dict[int, tuple[list[tuple[str, str, str]], list[tuple[int, str, str]]]]:
    """Per vote: (receipt, group, option) of current secret ballots, and who took part in secret groups."""
    out: dict[int, tuple[list[tuple[str, str, str]], list[tuple[int, str, str]]]] = defaultdict(lambda: ([], []))
    for vid, receipt, group, option in check.rows(
            "SELECT vote_id, receipt, voting_group, option FROM secret_ballot WHERE is_current"):
        out[vid][0].append((receipt, group, option))
    for vid, pid, name, group in check.rows("""
            SELECT p.vote_id, p.person_id, pe.name, e.voting_group FROM vote_participation p
            JOIN vote_eligibility e ON e.vote_id = p.vote_id AND e.person_id = p.person_id
            JOIN person pe ON pe.id = p.person_id JOIN vote v ON v.id = p.vote_id
            WHERE v.secret_groups LIKE '%"' || e.voting_group || '"%'"""):
        out[vid][1].append((pid, name, group))
    return out


def decisions(check: Check) -> None:
    check.zero("""SELECT count(*) FROM decision d JOIN vote v ON v.id = d.vote_id
                  WHERE v.kind <> 'outcome' OR v.status <> 'closed' OR v.quorum_met IS NULL OR NOT v.quorum_met
                     OR v.pilot_id <> d.pilot_id OR v.outcome IS NULL OR v.outcome <> d.outcome""",
               "decisions without a closed outcome vote that met quorum and chose their outcome (R9)")
    check.zero("""SELECT count(*) FROM decision d JOIN pilot p ON p.id = d.pilot_id
                  WHERE p.state <> 'decided' OR p.outcome IS NULL OR p.outcome <> d.outcome""",
               "decisions whose pilot does not carry their outcome")
    check.zero("""SELECT count(*) FROM vote v LEFT JOIN decision d ON d.vote_id = v.id
                  WHERE v.kind = 'outcome' AND v.status = 'closed' AND v.outcome IS NOT NULL AND d.id IS NULL""",
               "closed outcome votes with a winner but no decision")


def bases(check: Check, session: Session) -> None:
    """Each frozen basis is what ``rules.basis.build_basis`` makes of the record's facts,
    loaded by the use case's own loader (``services.decisions._facts``)."""
    wrong: list[str] = []
    for d in session.scalars(select(Decision).order_by(Decision.id)):
        if sha256_hex(d.basis_json) != d.basis_sha256:
            wrong.append(f"#{d.id} hash")
            continue
        vote, pilot = session.get(Vote, d.vote_id), session.get(Pilot, d.pilot_id)
        assert vote is not None and pilot is not None
        charter = session.get(Charter, vote.charter_id)
        assert charter is not None
        person = session.get(Person, vote.closed_by) if vote.closed_by is not None else None
        closer = Actor(person.id, person.name, frozenset()) if person is not None else None
        groups = parse_groups(vote.secret_groups)
        shown = None if groups is None else published(groups, secret_receipts(session, vote.id),
                                                      participants(session, vote.id, groups)).as_dict()
        evidence = json.loads(vote.evidence_json) if vote.evidence_json else None
        rebuilt = json.loads(canonical_json(build_basis(facts_of(
            session, closer, vote, pilot, charter, tally_of(session, vote), evidence, d.adopt_override, shown,
            rows_digest(current_ballots(session, vote.id))))))
        frozen = json.loads(d.basis_json)
        if set(frozen) != set(rebuilt):
            wrong.append(f"#{d.id} keys")
        elif frozen["audit_chain_head"] != {"seq": d.chain_head_seq, "hash": d.chain_head_hash}:
            wrong.append(f"#{d.id} chain head")
        else:
            wrong += [f"#{d.id} {k}" for k in sorted(frozen) if k not in MOVES_ON and frozen[k] != rebuilt[k]]
            wrong += [f"#{d.id} criteria" for a, b in zip(frozen["frontline_criteria_latest"],
                                                           rebuilt["frontline_criteria_latest"], strict=True)
                      if {**a, "latest": None, "on_target": None} != {**b, "latest": None, "on_target": None}]
    check.fail(len(wrong), "decisions whose frozen basis differs from a rebuild through rules.basis", wrong)


class _Attrs:
    """A row as the rules read a stored object (attributes)."""

    def __init__(self, values: Any) -> None:
        self.__dict__.update(values)

