"""Ballots (R8, R15, R16, R17): named ballots of open groups, secret ballots under voter tokens,
participation, the electorate fixed at opening, deadlines, and who may close when."""
from __future__ import annotations

import json
from collections import defaultdict
from datetime import timedelta
from typing import Any, cast

from bench.invariants.base import Check, utc
from governance.rules.ballots import voter_token
from governance.rules.charter import terms_of
from governance.services.votes import secret_groups_for
from governance.vocabulary import Outcome, PanelOption

OUTCOME_OPTIONS = tuple(o.value for o in Outcome)
PANEL_OPTIONS = tuple(o.value for o in PanelOption)
#: Whether a ballot's group is one of its vote's secret groups (a JSON list of names).
SECRET = "v.secret_groups LIKE '%\"' || {ref}.voting_group || '\"%'"


def _options(table: str) -> str:
    return f"""
        SELECT count(*) FROM {table} b JOIN vote v ON v.id = b.vote_id
        WHERE (v.kind = 'outcome' AND (b.option NOT IN {OUTCOME_OPTIONS}
                                       OR (b.option = 'adopt' AND NOT v.adopt_available)))
           OR (v.kind <> 'outcome' AND b.option NOT IN {PANEL_OPTIONS})"""


def named_ballots(check: Check) -> None:
    check.zero("""SELECT count(*) FROM (SELECT vote_id, person_id FROM ballot GROUP BY vote_id, person_id
                  HAVING sum(CASE WHEN is_current THEN 1 ELSE 0 END) <> 1) x""",
               "voters without exactly one current named ballot in a vote")
    check.zero("""SELECT count(*) FROM ballot b LEFT JOIN vote_eligibility e
                  ON e.vote_id = b.vote_id AND e.person_id = b.person_id
                  WHERE e.person_id IS NULL OR e.voting_group <> b.voting_group""",
               "named ballots from people not eligible (in that group) for their vote")
    check.zero("""SELECT count(*) FROM ballot b JOIN vote v ON v.id = b.vote_id
                  WHERE b.cast_at < v.opened_at OR b.cast_at >= v.deadline
                     OR (v.closed_at IS NOT NULL AND b.cast_at > v.closed_at)""",
               "named ballots cast outside their vote's open period")
    check.zero(_options("ballot"), "named ballots with an option their vote did not offer")
    check.zero(f"SELECT count(*) FROM ballot b JOIN vote v ON v.id = b.vote_id WHERE {SECRET.format(ref='b')}",
               "ballots of a secret group stored by name (R17)")


def secret_ballots(check: Check) -> None:
    check.zero("""SELECT count(*) FROM (SELECT vote_id, voter_token FROM secret_ballot GROUP BY vote_id, voter_token
                  HAVING sum(CASE WHEN is_current THEN 1 ELSE 0 END) <> 1) x""",
               "voter tokens without exactly one current secret ballot in a vote")
    check.zero(f"SELECT count(*) FROM secret_ballot b JOIN vote v ON v.id = b.vote_id "
               f"WHERE v.secret_groups IS NULL OR NOT ({SECRET.format(ref='b')})",
               "secret ballots of a group that is not secret in their vote")
    check.zero(_options("secret_ballot"), "secret ballots with an option their vote did not offer")
    voted = {(v, g): n for v, g, n in check.rows(f"""
        SELECT p.vote_id, e.voting_group, count(*) FROM vote_participation p
        JOIN vote_eligibility e ON e.vote_id = p.vote_id AND e.person_id = p.person_id JOIN vote v ON v.id = p.vote_id
        WHERE {SECRET.format(ref='e')} GROUP BY p.vote_id, e.voting_group""")}
    ballots = {(v, g): n for v, g, n in check.rows(
        "SELECT vote_id, voting_group, count(*) FROM secret_ballot WHERE is_current GROUP BY vote_id, voting_group")}
    wrong = [k for k in set(voted) | set(ballots) if voted.get(k, 0) != ballots.get(k, 0)]
    check.fail(len(wrong), "secret groups whose participation count differs from their current secret ballots",
               sorted(wrong))
    _tokens(check)


def _tokens(check: Check) -> None:
    """Every secret ballot's token is HMAC(ballot key, vote ‖ person) of a participant of that
    group, recomputed from the key: the database alone cannot say whose, the key holder can."""
    key = check.keys.ballot_key()
    expected: dict[int, dict[str, str]] = defaultdict(dict)
    for vote_id, person_id, group in check.rows(f"""
            SELECT p.vote_id, p.person_id, e.voting_group FROM vote_participation p
            JOIN vote_eligibility e ON e.vote_id = p.vote_id AND e.person_id = p.person_id
            JOIN vote v ON v.id = p.vote_id WHERE {SECRET.format(ref='e')}"""):
        expected[vote_id][voter_token(key, vote_id, person_id)] = group
    found: dict[int, dict[str, str]] = defaultdict(dict)
    for vote_id, token, group in check.rows("SELECT DISTINCT vote_id, voter_token, voting_group FROM secret_ballot"):
        found[vote_id][token] = group
    wrong = [v for v in set(expected) | set(found) if expected.get(v) != found.get(v)]
    check.fail(len(wrong), "votes whose secret ballots' tokens are not those of their participants (in their group)",
               sorted(wrong))


def electorate(check: Check) -> None:
    """Participation only by eligible voters; never a frontline voter from the pilot's team as it
    stood at real use or at opening (R8, R15); the commissioning group is the team at opening."""
    check.zero("""SELECT count(*) FROM vote_participation p LEFT JOIN vote_eligibility e
                  ON e.vote_id = p.vote_id AND e.person_id = p.person_id WHERE e.person_id IS NULL""",
               "participants who were not eligible")
    check.zero("""SELECT count(*) FROM vote_eligibility e JOIN vote v ON v.id = e.vote_id
                  JOIN pilot p ON p.id = v.pilot_id
                  JOIN pilot_team_member t ON t.pilot_id = p.id AND t.person_id = e.person_id
                  WHERE v.kind = 'outcome' AND e.voting_group = 'frontline'
                    AND (t.removed_at IS NULL OR t.removed_at > v.opened_at
                         OR (t.joined_at <= p.real_use_started_at AND t.removed_at > p.real_use_started_at))""",
               "frontline voters on the pilot's own commissioning team (conflict of interest)")
    check.zero("""SELECT count(*) FROM vote_eligibility e JOIN vote v ON v.id = e.vote_id
                  LEFT JOIN pilot_team_member t ON t.pilot_id = v.pilot_id AND t.person_id = e.person_id
                  WHERE e.voting_group = 'commissioning' AND (t.person_id IS NULL OR t.joined_at > v.opened_at
                        OR (t.removed_at IS NOT NULL AND t.removed_at <= v.opened_at))""",
               "commissioning voters who were not on the pilot's team when the vote opened")


def closing(check: Check) -> None:
    """R16: deadlines within the charter's bounds; closed early only when everyone voted, else by the
    system at the deadline; nothing left open past its deadline. R17: secret groups fixed at opening."""
    charters = {row[0]: row for row in check.rows("SELECT * FROM charter")}
    counts = _counts(check)
    last = check.rows("SELECT max(occurred_at) FROM audit_event").scalar_one()
    bad: dict[str, list[int]] = defaultdict(list)
    for vid, kind, opened, deadline, closed, closer, status, charter_id, groups in check.rows(
            "SELECT id, kind, opened_at, deadline, closed_at, closed_by, status, charter_id, secret_groups FROM vote"):
        terms = terms_of(_Row(charters[charter_id]._mapping))
        days = utc(deadline) - utc(opened)
        if not timedelta(days=terms.vote_min_days) <= days <= timedelta(days=terms.vote_max_days):
            bad["deadlines outside the charter's bounds"].append(vid)
        voted, eligible = counts.get(vid, (0, 0))
        if status == "closed" and closer is None and utc(closed) != utc(deadline):
            bad["votes closed by the system not at their deadline"].append(vid)
        if status == "closed" and closer is not None and (utc(closed) > utc(deadline) or voted < eligible):
            bad["votes closed before their deadline with voters missing"].append(vid)
        if status == "open" and utc(deadline) <= utc(last):
            bad["votes still open after their deadline"].append(vid)
        if groups is None or sorted(json.loads(groups)) != sorted(secret_groups_for(kind, cast(Any, terms))):
            bad["votes whose secret groups are not the charter's"].append(vid)
    for what, ids in bad.items():
        check.fail(len(ids), what, ids)


def _counts(check: Check) -> dict[int, tuple[int, int]]:
    voted = dict(check.rows("SELECT vote_id, count(*) FROM vote_participation GROUP BY vote_id").all())
    return {vid: (int(voted.get(vid, 0)), int(n))
            for vid, n in check.rows("SELECT vote_id, count(*) FROM vote_eligibility GROUP BY vote_id")}


class _Row:
    """A charter row as ``terms_of`` reads it (attributes)."""

    def __init__(self, values: Any) -> None:
        self.__dict__.update(values)
