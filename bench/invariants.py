"""The invariants the services keep, checked on a whole database with SQL aggregates.

``check_invariants(db)`` returns a list of problems (empty: every invariant
holds). It is meant for generated organisations at any scale: the big tables
(ballots, responses, eligibility, audit events) are only ever grouped and
counted in SQL; Python sees per-vote aggregates and the small tables.

Checked: the audit chain verifies and its head row is the last event; one
audit event per ballot and per survey response; exactly one current ballot
per voter per vote, only from eligible voters in their own group, cast while
the vote was open, with an option the vote offered; one current response per
rostered person per round, given while the round was open; criteria locks
hash their canonical criteria, and every pilot in real use had its criteria
locked before real use began (R3) against a ratified problem (R1); metrics
hashed at real use; surveys opened after the evaluation window (R6); pilot
timestamps consistent with their state; every closed vote's stored result
equals the tally of its ballots; every decision belongs to a closed outcome
vote that met quorum, has a basis whose SHA-256 matches, and its outcome is
the tally's winner (and the pilot's outcome).
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from governance.record.chain import ChainVerification
from governance.record.log import verify_chain
from governance.rules.prereg import canonical_criteria
from governance.rules.voting import tally_outcome, tally_panel
from governance.storage.db import Database

OUTCOME_OPTIONS = ("adopt", "iterate", "revisit_problem", "stop")
PANEL_OPTIONS = ("approve", "reject")


def _count(conn: Connection, sql: str) -> int:
    return int(conn.execute(text(sql)).scalar_one() or 0)


def _zero(problems: list[str], conn: Connection, sql: str, what: str) -> None:
    n = _count(conn, sql)
    if n:
        problems.append(f"{n:,} {what}")


def _utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=None) if value.tzinfo else value


def check_invariants(db: Database, *, chain: ChainVerification | None = None) -> list[str]:
    """Every invariant the services keep; ``chain`` reuses a verification already run."""
    problems: list[str] = []
    if chain is None:
        with db.uow().reading() as session:
            chain = verify_chain(session)
    if not chain.ok:
        problems.append(f"audit chain: {chain.summary}")
    with db.engine.connect() as conn:
        _chain_head(problems, conn, chain)
        _ballots(problems, conn)
        _responses(problems, conn)
        _locks_and_real_use(problems, conn)
        _pilots(problems, conn)
        _tallies_and_decisions(problems, conn)
    return problems


def _chain_head(problems: list[str], conn: Connection, chain: ChainVerification) -> None:
    head = conn.execute(text("SELECT seq, hash FROM audit_chain_head WHERE id = 1")).first()
    last = conn.execute(text("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1")).first()
    if (head is None) != (last is None) or (head is not None and tuple(head) != tuple(last)):
        problems.append(f"audit_chain_head {tuple(head) if head else None} is not the last event "
                        f"{tuple(last) if last else None}")
    if chain.ok and last is not None and chain.events_checked != last[0]:
        problems.append(f"chain verified {chain.events_checked} events but the last is #{last[0]}")
    for action, table, etype in (("ballot.%", "ballot", "ballot"),
                                 ("survey.response%", "survey_response", "survey_response")):
        events = _count(conn, f"SELECT count(*) FROM audit_event WHERE action LIKE '{action}' "
                              f"AND entity_type = '{etype}'")
        rows = _count(conn, f"SELECT count(*) FROM {table}")
        if events != rows:
            problems.append(f"{rows:,} {table} rows but {events:,} audit events for them")


def _ballots(problems: list[str], conn: Connection) -> None:
    _zero(problems, conn, """
        SELECT count(*) FROM (SELECT vote_id, person_id FROM ballot GROUP BY vote_id, person_id
                              HAVING sum(CASE WHEN is_current THEN 1 ELSE 0 END) <> 1) x""",
          "voters without exactly one current ballot in a vote")
    _zero(problems, conn, """
        SELECT count(*) FROM ballot b LEFT JOIN vote_eligibility e
          ON e.vote_id = b.vote_id AND e.person_id = b.person_id
        WHERE e.person_id IS NULL OR e.voting_group <> b.voting_group""",
          "ballots from people not eligible (in that group) for their vote")
    _zero(problems, conn, """
        SELECT count(*) FROM ballot b JOIN vote v ON v.id = b.vote_id
        WHERE b.cast_at < v.opened_at OR b.cast_at >= v.deadline
           OR (v.closed_at IS NOT NULL AND b.cast_at > v.closed_at)""",
          "ballots cast outside their vote's open period")
    _zero(problems, conn, f"""
        SELECT count(*) FROM ballot b JOIN vote v ON v.id = b.vote_id
        WHERE (v.kind = 'outcome' AND (b.option NOT IN {OUTCOME_OPTIONS}
                                       OR (b.option = 'adopt' AND NOT v.adopt_available)))
           OR (v.kind <> 'outcome' AND b.option NOT IN {PANEL_OPTIONS})""",
          "ballots with an option their vote did not offer")
    _zero(problems, conn, """
        SELECT count(*) FROM ballot b JOIN pilot_team_member t ON t.person_id = b.person_id
        JOIN vote v ON v.id = b.vote_id AND v.pilot_id = t.pilot_id
        WHERE v.kind = 'outcome' AND b.voting_group = 'frontline'""",
          "frontline ballots from the pilot's own commissioning team (conflict of interest)")


def _responses(problems: list[str], conn: Connection) -> None:
    _zero(problems, conn, """
        SELECT count(*) FROM (SELECT round_id, person_id FROM survey_response GROUP BY round_id, person_id
                              HAVING sum(CASE WHEN is_current THEN 1 ELSE 0 END) <> 1) x""",
          "respondents without exactly one current response in a round")
    _zero(problems, conn, """
        SELECT count(*) FROM survey_response r JOIN survey_round sr ON sr.id = r.round_id
        LEFT JOIN roster_entry e ON e.pilot_id = sr.pilot_id AND e.person_id = r.person_id
        WHERE e.person_id IS NULL""", "survey responses from people not on the pilot's roster")
    _zero(problems, conn, """
        SELECT count(*) FROM survey_response r JOIN survey_round sr ON sr.id = r.round_id
        WHERE r.submitted_at < sr.opened_at OR (sr.closed_at IS NOT NULL AND r.submitted_at > sr.closed_at)""",
          "survey responses given outside their round's open period")
    _zero(problems, conn, """
        SELECT count(*) FROM survey_round sr LEFT JOIN (
            SELECT round_id, count(*) AS n,
                   sum(CASE WHEN answer = 'very_disappointed' THEN 1 ELSE 0 END) AS very,
                   sum(CASE WHEN answer = 'somewhat_disappointed' THEN 1 ELSE 0 END) AS somewhat,
                   sum(CASE WHEN answer = 'not_disappointed' THEN 1 ELSE 0 END) AS not_d,
                   sum(CASE WHEN answer = 'no_longer_use' THEN 1 ELSE 0 END) AS no_longer,
                   count(sus_score) AS sus_n, coalesce(sum(sus_score), 0) AS sus_total
            FROM survey_response WHERE is_current GROUP BY round_id) c ON c.round_id = sr.id
        WHERE sr.responses <> coalesce(c.n, 0) OR sr.very_disappointed <> coalesce(c.very, 0)
           OR sr.somewhat_disappointed <> coalesce(c.somewhat, 0) OR sr.not_disappointed <> coalesce(c.not_d, 0)
           OR sr.no_longer_use <> coalesce(c.no_longer, 0) OR sr.sus_responses <> coalesce(c.sus_n, 0)
           OR abs(sr.sus_total - coalesce(c.sus_total, 0)) > 1e-6""",
          "survey rounds whose kept counts differ from their current responses")


def _locks_and_real_use(problems: list[str], conn: Connection) -> None:
    _zero(problems, conn, """
        SELECT count(*) FROM pilot p LEFT JOIN criteria_lock l ON l.problem_version_id = p.problem_version_id
        WHERE p.real_use_started_at IS NOT NULL AND (l.id IS NULL OR l.locked_at > p.real_use_started_at)""",
          "pilots in real use without criteria locked before real use began (R3)")
    _zero(problems, conn, """
        SELECT count(*) FROM pilot p JOIN problem_version v ON v.id = p.problem_version_id
        WHERE v.ratified_at IS NULL OR v.ratified_at > p.registered_at""",
          "pilots registered against a problem version not ratified at the time (R1)")
    # Lock hashes, and the current criteria: the lock's hash, or the last applied amendment's.
    criteria: dict[int, list[Any]] = defaultdict(list)
    for row in conn.execute(text(
            "SELECT c.problem_version_id, c.name, c.definition, c.measurement_method, c.unit, c.direction, "
            "c.target, c.minimum_evidence, c.is_indispensability FROM criterion c "
            "JOIN criteria_lock l ON l.problem_version_id = c.problem_version_id")):
        criteria[row[0]].append(row)
    amended = {vid: sha for vid, sha in conn.execute(text(
        "SELECT c.problem_version_id, a.resulting_sha256 FROM amendment a JOIN criterion c ON c.id = a.criterion_id "
        "WHERE a.status = 'applied' ORDER BY a.decided_at, a.id"))}
    bad_hash = bad_current = 0
    for vid, problem_id, version, digest, body in conn.execute(text(
            "SELECT l.problem_version_id, v.problem_id, v.version, l.criteria_sha256, l.criteria_json "
            "FROM criteria_lock l JOIN problem_version v ON v.id = l.problem_version_id")):
        if hashlib.sha256(body.encode("utf-8")).hexdigest() != digest:
            bad_hash += 1
        rows = [type("C", (), {"name": r[1], "definition": r[2], "measurement_method": r[3], "unit": r[4],
                               "direction": r[5], "target": r[6], "minimum_evidence": r[7],
                               "is_indispensability": bool(r[8])})() for r in criteria[vid]]
        _, current = canonical_criteria(problem_id, version, rows)
        if current != amended.get(vid, digest):
            bad_current += 1
    if bad_hash:
        problems.append(f"{bad_hash} criteria locks whose SHA-256 does not match their criteria JSON")
    if bad_current:
        problems.append(f"{bad_current} locked criteria sets changed other than by a recorded amendment (R4)")
    bad_metrics = 0
    for digest, body in conn.execute(text(
            "SELECT metrics_sha256, metrics_json FROM pilot WHERE real_use_started_at IS NOT NULL")):
        if body is None or hashlib.sha256(body.encode("utf-8")).hexdigest() != digest:
            bad_metrics += 1
    if bad_metrics:
        problems.append(f"{bad_metrics} pilots in real use without matching commissioning metrics hashes")


def _pilots(problems: list[str], conn: Connection) -> None:
    _zero(problems, conn, """
        SELECT count(*) FROM pilot WHERE
            (state = 'registered' AND (ready_at IS NOT NULL OR real_use_started_at IS NOT NULL))
         OR (state = 'ready' AND (ready_at IS NULL OR real_use_started_at IS NOT NULL))
         OR (state = 'in_use' AND (real_use_started_at IS NULL OR evaluating_since IS NOT NULL
                                   OR decided_at IS NOT NULL))
         OR (state = 'evaluating' AND (evaluating_since IS NULL OR decided_at IS NOT NULL))
         OR (state = 'decided' AND (decided_at IS NULL OR outcome IS NULL OR real_use_started_at IS NULL))
         OR (state <> 'decided' AND (decided_at IS NOT NULL OR outcome IS NOT NULL))
         OR ready_at < registered_at OR real_use_started_at < ready_at
         OR evaluating_since < real_use_started_at OR decided_at < evaluating_since""",
          "pilots whose timestamps do not fit their lifecycle state")
    window = _count(conn, "SELECT min(evaluation_window_days) FROM charter")
    early = 0
    for opened, started in conn.execute(text(
            "SELECT r.opened_at, p.real_use_started_at FROM survey_round r JOIN pilot p ON p.id = r.pilot_id")):
        if started is None or _utc(opened) < _utc(started) + timedelta(days=window):
            early += 1
    if early:
        problems.append(f"{early} survey rounds opened before the evaluation window (R6)")
    _zero(problems, conn, """
        SELECT count(*) FROM feedback_item WHERE responded_at IS NOT NULL AND responded_at < raised_at""",
          "feedback responses before the feedback was raised")


def _tallies_and_decisions(problems: list[str], conn: Connection) -> None:
    charters = {row[0]: row for row in conn.execute(text(
        "SELECT id, weight_frontline, weight_commissioning, weight_steering, quorum_frontline, "
        "quorum_commissioning, quorum_steering, frontline_veto FROM charter"))}
    eligible: dict[int, dict[str, int]] = defaultdict(lambda: {"frontline": 0, "commissioning": 0,
                                                                "steering": 0})
    for vote_id, group, n in conn.execute(text(
            "SELECT e.vote_id, e.voting_group, count(*) FROM vote_eligibility e JOIN vote v ON v.id = e.vote_id "
            "WHERE v.status = 'closed' GROUP BY e.vote_id, e.voting_group")):
        eligible[vote_id][group] = int(n)
    ballots: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    for vote_id, group, option, n in conn.execute(text(
            "SELECT b.vote_id, b.voting_group, b.option, count(*) FROM ballot b JOIN vote v ON v.id = b.vote_id "
            "WHERE v.status = 'closed' AND b.is_current GROUP BY b.vote_id, b.voting_group, b.option")):
        ballots[vote_id].append((group, option, int(n)))
    decisions = {vote_id: (outcome, pilot_outcome, pilot_state) for vote_id, outcome, pilot_outcome, pilot_state
                 in conn.execute(text("SELECT d.vote_id, d.outcome, p.outcome, p.state FROM decision d "
                                      "JOIN pilot p ON p.id = d.pilot_id"))}
    wrong_result = wrong_decision = 0
    examples: list[str] = []
    for (vote_id, kind, adopt_available, proposed, charter_id, quorum_met, outcome, result_json
         ) in conn.execute(text(
            "SELECT id, kind, adopt_available, proposed_outcome, charter_id, quorum_met, outcome, result_json "
            "FROM vote WHERE status = 'closed'")):
        c = charters[charter_id]
        cast = [(g, o) for g, o, n in ballots[vote_id] for _ in range(n)]
        if kind == "outcome":
            tally = tally_outcome(cast, eligible=eligible[vote_id],
                                  weights={"frontline": c[1], "commissioning": c[2], "steering": c[3]},
                                  quorums={"frontline": c[4], "commissioning": c[5], "steering": c[6]},
                                  frontline_veto=bool(c[7]), adopt_available=bool(adopt_available),
                                  proposed=proposed)
        else:
            tally = tally_panel((o for _, o in cast), eligible=eligible[vote_id]["frontline"], quorum=c[4])
        stored = json.loads(result_json) if result_json else None
        if stored is None or stored != json.loads(json.dumps(tally.as_dict())) or \
                bool(quorum_met) != tally.quorum_met:
            wrong_result += 1
            if len(examples) < 3:
                examples.append(f"vote #{vote_id}")
        if kind == "outcome":
            decided = decisions.get(vote_id)
            if tally.winner is None:
                if decided is not None:
                    wrong_decision += 1
            elif decided is None or not (decided[0] == tally.winner == outcome == decided[1]) \
                    or decided[2] != "decided":
                wrong_decision += 1
                if len(examples) < 3:
                    examples.append(f"decision of vote #{vote_id}")
    if wrong_result:
        problems.append(f"{wrong_result} closed votes whose stored result is not the tally of their ballots "
                        f"({', '.join(examples)})")
    if wrong_decision:
        problems.append(f"{wrong_decision} outcome votes whose decision is not the tally's winner "
                        f"({', '.join(examples)})")
    _zero(problems, conn, """
        SELECT count(*) FROM decision d JOIN vote v ON v.id = d.vote_id
        WHERE v.kind <> 'outcome' OR v.status <> 'closed' OR NOT v.quorum_met OR v.quorum_met IS NULL
           OR v.pilot_id <> d.pilot_id""",
          "decisions without a closed outcome vote that met quorum (R9)")
    _zero(problems, conn, """
        SELECT count(*) FROM decision d LEFT JOIN audit_event e ON e.seq = d.chain_head_seq
        WHERE e.hash IS NULL OR e.hash <> d.chain_head_hash""",
          "decisions whose recorded chain head is not in the chain")
    bad_basis = 0
    for vote_id, outcome, body, digest in conn.execute(text(
            "SELECT vote_id, outcome, basis_json, basis_sha256 FROM decision").execution_options(yield_per=200)):
        if hashlib.sha256(body.encode("utf-8")).hexdigest() != digest:
            bad_basis += 1
            continue
        basis = json.loads(body)
        if basis["tally"]["winner"] != outcome or basis["vote"]["id"] != vote_id:
            bad_basis += 1
    if bad_basis:
        problems.append(f"{bad_basis} decisions whose frozen basis is missing, altered or disagrees (R9)")
