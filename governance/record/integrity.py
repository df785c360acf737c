"""R18: the app notices a direct edit of what is frozen.

Whoever runs the database can change a row without going through the use
cases (and, with enough privilege, without the guard triggers). Each frozen
thing was hashed, and the hash written into the audit chain, when it froze;
``check`` recomputes every one of those hashes from the live rows and
compares:

* the criteria of every locked problem version against the lock's SHA-256
  (or the hash its latest approved amendment produced), and the lock itself
  against the event that recorded it;
* the commissioning metrics locked at real use, likewise;
* every decision's frozen basis against its SHA-256 *and* the declaration's
  event, and its recorded chain head against the event at that sequence;
* the ballots of every closed vote against the digest its closing event holds;
* the responses of every closed survey round against its closing event.

A mismatch is an ``Alteration``: what, which, and what differs. It refuses a
declaration and shows as "record altered" on the Audit page and on Home.
"""
from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import cast, func, select, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from governance.errors import RuleViolation
from governance.record.chain import sha256_hex
from governance.record.fingerprints import (
    ResultCache,
    frozen_fingerprints,
    whole_fingerprint,
)
from governance.rules.prereg import canonical_criteria, canonical_metrics
from governance.storage.models import (
    Amendment,
    AuditEvent,
    Ballot,
    CommissioningMetric,
    CriteriaLock,
    Criterion,
    Decision,
    Pilot,
    ProblemVersion,
    SecretBallot,
    SurveyResponse,
    SurveyRound,
    Vote,
)


@dataclass(frozen=True)
class Alteration:
    """One frozen thing whose live rows no longer match what the record says they were."""

    entity: str  # e.g. "criteria of problem #3 version 1"
    entity_type: str
    entity_id: int
    detail: str

    @property
    def summary(self) -> str:
        return f"Record altered: {self.entity} — {self.detail}"


def _events(s: Session, action: str, entity_ids: Iterable[int] | None = None) -> dict[str, dict[str, Any]]:
    """entity id → payload of the latest event with this action (on those entities)."""
    q = select(AuditEvent.entity_id, AuditEvent.payload).where(AuditEvent.action == action)
    if entity_ids is not None:
        q = q.where(AuditEvent.entity_id.in_([str(i) for i in entity_ids]))
    return {entity: json.loads(payload) for entity, payload in s.execute(q.order_by(AuditEvent.seq))}


#: Up to this many ids a query names them (by index); beyond, it reads the whole table in one
#: pass and keeps the wanted rows: thousands of bound parameters cost more to send and plan.
_BY_ID = 500


def _among(column: Any, ids: list[int]) -> Any:
    """``column IN ids`` for a few ids; true (the whole table, filtered after) for many."""
    return column.in_(ids) if len(ids) <= _BY_ID else true()


def _amended_hashes(s: Session, version_ids: Iterable[int] | None = None) -> dict[int, str]:
    """Problem version → the criteria hash its latest applied amendment produced."""
    q = (select(Criterion.problem_version_id, Amendment.resulting_sha256)
         .join(Criterion, Criterion.id == Amendment.criterion_id)
         .where(Amendment.status == "applied", Amendment.resulting_sha256.is_not(None)))
    wanted = None if version_ids is None else set(version_ids)
    if wanted is not None:
        q = q.where(_among(Criterion.problem_version_id, sorted(wanted)))
    return {vid: str(digest) for vid, digest in s.execute(q.order_by(Amendment.decided_at, Amendment.id))
            if wanted is None or vid in wanted}


def _criteria_checks(s: Session, locks: list[Any]) -> list[Alteration]:
    """``locks``: criteria locks, or plain rows of their id, problem_version_id, criteria_sha256
    and criteria_json (``_lock_rows``)."""
    out: list[Alteration] = []
    if not locks:
        return out
    ids = [lock.problem_version_id for lock in locks]
    # Plain rows, not ORM objects: the hash reads the columns only, and Compare runs this on a miss.
    vt = ProblemVersion.__table__
    versions = {v.id: v for v in s.connection().execute(
        select(vt.c.id, vt.c.problem_id, vt.c.version).where(_among(vt.c.id, ids)))}
    criteria: dict[int, list[Any]] = defaultdict(list)
    table = Criterion.__table__
    wanted = set(ids)
    for c in s.connection().execute(select(*table.c).where(_among(table.c.problem_version_id, ids))):
        if c.problem_version_id in wanted:
            criteria[c.problem_version_id].append(c)
    amended = _amended_hashes(s, ids)
    locked_events = _recorded_digests(s, "criteria.locked", "criteria_sha256", [lock.id for lock in locks])
    for lock in locks:
        version = versions[lock.problem_version_id]
        what = f"criteria of problem #{version.problem_id} version {version.version}"
        _, live = canonical_criteria(version.problem_id, version.version, criteria[version.id])
        expected = amended.get(version.id, lock.criteria_sha256)
        if live != expected:
            out.append(Alteration(what, "criteria_lock", lock.id,
                                  f"the live criteria hash to {live[:12]}…, but the lock (and its amendments) "
                                  f"recorded {expected[:12]}…: a target, threshold or definition was changed "
                                  "outside an approved amendment."))
        if sha256_hex(lock.criteria_json) != lock.criteria_sha256:
            out.append(Alteration(what, "criteria_lock", lock.id, "the lock's frozen text no longer matches its hash."))
        recorded = locked_events.get(lock.id)
        if recorded is not None and recorded != lock.criteria_sha256:
            out.append(Alteration(what, "criteria_lock", lock.id,
                                  "the lock's hash differs from the one its audit event recorded."))
    return out


def _lock_rows(s: Session, ids: list[int] | None = None) -> list[Any]:
    """Criteria locks (every one, or at least those of ``ids``) as plain rows: what
    ``_criteria_checks`` reads of them."""
    t = CriteriaLock.__table__
    q = select(t.c.id, t.c.problem_version_id, t.c.criteria_sha256, t.c.criteria_json)
    if ids is not None:
        q = q.where(_among(t.c.id, ids))
    return list(s.connection().execute(q.order_by(t.c.id)))


def _locked_pilot_rows(s: Session, ids: list[int] | None = None) -> list[Any]:
    """Pilots whose metrics locked at real use (every one, or at least those of ``ids``) as plain
    rows: what ``_metric_checks`` reads of them."""
    t = Pilot.__table__
    q = select(t.c.id, t.c.title, t.c.metrics_sha256).where(t.c.metrics_sha256.is_not(None))
    if ids is not None:
        q = q.where(_among(t.c.id, ids))
    return list(s.connection().execute(q.order_by(t.c.id)))


def _metric_checks(s: Session, pilots: list[Any]) -> list[Alteration]:
    """``pilots``: pilots, or plain rows of their id, title and metrics_sha256."""
    out: list[Alteration] = []
    locked = [p for p in pilots if p.metrics_sha256]
    if not locked:
        return out
    ids = [p.id for p in locked]
    metrics: dict[int, list[Any]] = defaultdict(list)
    table = CommissioningMetric.__table__
    wanted = set(ids)
    for m in s.connection().execute(select(*table.c).where(_among(table.c.pilot_id, ids))):
        if m.pilot_id in wanted:
            metrics[m.pilot_id].append(m)
    amended: dict[int, str] = {}
    for pid, digest in s.execute(
            select(CommissioningMetric.pilot_id, Amendment.resulting_sha256)
            .join(CommissioningMetric, CommissioningMetric.id == Amendment.metric_id)
            .where(_among(CommissioningMetric.pilot_id, ids), Amendment.status == "applied",
                   Amendment.resulting_sha256.is_not(None)).order_by(Amendment.decided_at, Amendment.id)):
        if pid in wanted:
            amended[pid] = str(digest)
    for p in locked:
        _, live = canonical_metrics(p.id, metrics[p.id])
        expected = amended.get(p.id, p.metrics_sha256)
        if live != expected:
            out.append(Alteration(f"commissioning metrics of '{p.title}'", "pilot", p.id,
                                  f"the live metrics hash to {live[:12]}…, but real use locked (or an amendment "
                                  f"recorded) {str(expected)[:12]}…: a target was changed outside an amendment."))
    return out


def _decision_checks(s: Session, decisions: list[Decision]) -> list[Alteration]:
    out: list[Alteration] = []
    if not decisions:
        return out
    declared = _events(s, "decision.declared", [d.id for d in decisions])
    heads = dict(s.execute(select(AuditEvent.seq, AuditEvent.hash).where(
        AuditEvent.seq.in_([d.chain_head_seq for d in decisions]))).all())
    for d in decisions:
        what = f"decision #{d.id}"
        live = sha256_hex(d.basis_json)
        if live != d.basis_sha256:
            out.append(Alteration(what, "decision", d.id, "its frozen basis no longer matches its SHA-256."))
        event = declared.get(str(d.id))
        if event is None or event["after"]["basis_sha256"] != live:
            out.append(Alteration(what, "decision", d.id,
                                  "its basis differs from the one its declaration's audit event names "
                                  "(the basis and its hash were rewritten together)."))
        if d.chain_head_seq and heads.get(d.chain_head_seq) != d.chain_head_hash:
            out.append(Alteration(what, "decision", d.id,
                                  f"the chain head it recorded (#{d.chain_head_seq}) is not the event now at that "
                                  "sequence: the chain was rewritten after the declaration."))
    return out


def _recorded_digests(s: Session, action: str, field: str, entity_ids: list[int]) -> dict[int, str]:
    """entity id → ``after[field]`` of the latest ``action`` event, read by the database's JSON
    functions (a closing event also holds the whole tally: parsing each in Python costs more
    than the check)."""
    if s.get_bind().dialect.name == "postgresql":
        value = cast(AuditEvent.payload, JSONB)["after"][field].astext
    else:  # SQLite's JSON1 (built in)
        value = func.json_extract(AuditEvent.payload, f"$.after.{field}")
    wanted = {str(i) for i in entity_ids}
    q = select(AuditEvent.entity_id, value).where(AuditEvent.action == action)
    if len(wanted) <= 500:  # a few (one pilot's rounds): by index; the whole record: one pass
        q = q.where(AuditEvent.entity_id.in_(sorted(wanted)))
    out: dict[int, str] = {}
    for entity, digest in s.execute(q.order_by(AuditEvent.seq)):
        if entity in wanted and digest is not None:
            out[int(entity)] = digest
    return out


def _multiset_digest(counts: dict[tuple[str, str], int]) -> str:
    """``rows_digest`` of rows that are (group, option) pairs, from their counts: the same bytes,
    built without a million one-row lists."""
    parts = []
    for pair in sorted(counts):
        parts.extend([json.dumps(list(pair), separators=(",", ":"))] * counts[pair])
    return sha256_hex("[" + ",".join(parts) + "]")


def _ballot_checks(s: Session, vote_ids: list[int] | None) -> list[Alteration]:
    out: list[Alteration] = []
    q = select(Vote.id).where(Vote.status == "closed")
    if vote_ids is not None:
        q = q.where(Vote.id.in_(vote_ids))
    closed = list(s.scalars(q))
    if not closed:
        return out
    recorded = _recorded_digests(s, "vote.closed", "ballots_sha256", closed)
    counts: dict[int, dict[tuple[str, str], int]] = defaultdict(dict)
    closed_votes = select(Vote.id).where(Vote.status == "closed")
    if vote_ids is not None:
        closed_votes = closed_votes.where(Vote.id.in_(vote_ids))
    for table in (Ballot, SecretBallot):
        for vid, g, o, n in s.execute(
                select(table.vote_id, table.voting_group, table.option, func.count())
                .where(table.vote_id.in_(closed_votes), table.is_current.is_(True))
                .group_by(table.vote_id, table.voting_group, table.option)):
            key = (str(g), str(o))
            counts[vid][key] = counts[vid].get(key, 0) + int(n)
    for vid in closed:
        if vid not in recorded:  # closed before digests were recorded
            continue
        if _multiset_digest(counts[vid]) != recorded[vid]:
            out.append(Alteration(f"ballots of vote #{vid}", "vote", vid,
                                  "the counted ballots differ from what the vote's closing event recorded."))
    return out


def _response_checks(s: Session, round_ids: list[int] | None) -> list[Alteration]:
    out: list[Alteration] = []
    q = select(SurveyRound.id).where(SurveyRound.closed_at.is_not(None))
    if round_ids is not None:
        q = q.where(SurveyRound.id.in_(round_ids))
    closed = list(s.scalars(q))
    if not closed:
        return out
    recorded = _recorded_digests(s, "survey.round_closed", "responses_sha256", closed)
    rows: dict[int, list[list[str]]] = defaultdict(list)
    closed_rounds = q
    # The driver's rows as they come: through the ORM's row handling half a million answers
    # would cost more than their digest.
    result = s.connection().execute(
        select(SurveyResponse.round_id, SurveyResponse.id, SurveyResponse.person_id, SurveyResponse.answer,
               SurveyResponse.sus_score)
        .where(SurveyResponse.round_id.in_(closed_rounds), SurveyResponse.is_current.is_(True))
        .execution_options(yield_per=50_000))
    for rid, response_id, person, answer, sus in result:
        rows[rid].append([str(response_id), str(person), str(answer), str(sus)])
    for rid in closed:
        if rid not in recorded:
            continue
        if _sorted_rows_digest(rows[rid]) != recorded[rid]:
            out.append(Alteration(f"responses of survey round #{rid}", "survey_round", rid,
                                  "the answers differ from what the round's closing event recorded."))
    return out


def _sorted_rows_digest(rows: list[list[str]]) -> str:
    """``rows_digest`` of rows already made of strings."""
    rows.sort()
    return sha256_hex(json.dumps(rows, separators=(",", ":")))


def check(session: Session) -> list[Alteration]:
    """Every frozen thing against what the record says it was (empty: nothing altered)."""
    return [*_criteria_checks(session, _lock_rows(session)),
            *_metric_checks(session, _locked_pilot_rows(session)),
            *_decision_checks(session, list(session.scalars(select(Decision)))),
            *_ballot_checks(session, None),
            *_response_checks(session, None)]


def pilot_alterations(session: Session, pilot: Pilot) -> list[Alteration]:
    """The checks that bear on one pilot's evidence: its locked criteria, metrics, closed rounds."""
    lock = session.scalar(select(CriteriaLock).where(CriteriaLock.problem_version_id == pilot.problem_version_id))
    rounds = list(session.scalars(select(SurveyRound.id).where(SurveyRound.pilot_id == pilot.id)))
    return [*_criteria_checks(session, [lock] if lock else []), *_metric_checks(session, [pilot]),
            *_response_checks(session, rounds)]


def refuse_if_altered(session: Session, pilot: Pilot) -> None:
    """R18: no declaration rests on evidence that was edited outside the use cases."""
    found = pilot_alterations(session, pilot)
    if found:
        raise RuleViolation("The decision cannot be declared: the record was altered outside the application — "
                            + "; ".join(a.summary for a in found)
                            + ". Nothing was saved; an auditor must investigate first.", rule="R18")


def altered_pilots(session: Session, *, cached: bool = False) -> set[int]:
    """Pilots whose locked criteria or commissioning metrics were edited outside the use cases.

    ``cached`` (a read model's read, e.g. Compare): on PostgreSQL each lock's and each locked
    pilot's verdict is kept per database beside its ``frozen_fingerprints`` entry — the
    database's own record of which row versions that check reads — so a lock or pilot is
    hashed again only when one of its rows changed (or its verdict is older than the store's
    ``ttl``), not on every read. While ``whole_fingerprint`` (the digest of all of them, one
    row from the database) is unchanged, the groups are not even fetched. Any write to those
    rows, the product's or an operator's bypassing the guard triggers, gives them new versions,
    new fingerprints, and so a fresh check. On SQLite there is no such record of row versions:
    the check runs live on every read.
    """
    if not cached:
        return _altered_pilots_live(session)
    # First the fingerprints, then the checks, in the read's one snapshot (REPEATABLE READ): a
    # verdict stored beside a fingerprint is never older than the rows that fingerprint names.
    if session.get_bind().dialect.name != "postgresql":
        return _altered_pilots_live(session)
    url = session.connection().engine.url.render_as_string(hide_password=True)
    whole = whole_fingerprint(session)
    now = time.monotonic()
    state: _Kept | None = ALTERED_PILOTS.get(url)
    if state is None or state.whole != whole or now - state.oldest > ALTERED_PILOTS.ttl:
        state = _recheck(session, whole, state.groups if state is not None else {}, now)
        ALTERED_PILOTS.put(url, state)
    bad_versions = {state.lock_versions[i] for (kind, i), (_, bad, _) in state.groups.items() if kind == "lock" and bad}
    out = set(session.scalars(select(Pilot.id).where(Pilot.problem_version_id.in_(bad_versions)))) \
        if bad_versions else set()
    return out | {i for (kind, i), (_, bad, _) in state.groups.items() if kind == "pilot" and bad}


@dataclass(frozen=True)
class _Kept:
    """One database's kept verdicts: per group, (fingerprint, altered?, when checked)."""

    whole: str | None
    groups: dict[tuple[str, int], tuple[str, bool, float]]
    lock_versions: dict[int, int]
    oldest: float


def _recheck(session: Session, whole: str | None, known: dict[tuple[str, int], tuple[str, bool, float]],
             now: float) -> _Kept:
    """The verdicts again: kept where a group's fingerprint is unchanged and its verdict young enough,
    checked where not. Only the groups that exist now are returned: the store never outgrows the record."""
    prints = frozen_fingerprints(session)
    assert prints is not None  # PostgreSQL: ``whole_fingerprint`` answered
    kept: dict[tuple[str, int], tuple[str, bool, float]] = {}
    stale: dict[str, list[int]] = {"lock": [], "pilot": []}
    for group, digest in prints.groups.items():
        entry = known.get(group)
        if entry is not None and entry[0] == digest and now - entry[2] <= ALTERED_PILOTS.ttl:
            kept[group] = entry
        else:
            stale[group[0]].append(group[1])
    if stale["lock"]:
        wanted = set(stale["lock"])
        locks = [lock for lock in _lock_rows(session, stale["lock"]) if lock.id in wanted]
        bad = {a.entity_id for a in _criteria_checks(session, locks)}
        kept.update({("lock", i): (prints.groups["lock", i], i in bad, now) for i in stale["lock"]})
    if stale["pilot"]:
        wanted = set(stale["pilot"])
        pilots = [p for p in _locked_pilot_rows(session, stale["pilot"]) if p.id in wanted]
        bad = {a.entity_id for a in _metric_checks(session, pilots)}
        kept.update({("pilot", i): (prints.groups["pilot", i], i in bad, now) for i in stale["pilot"]})
    return _Kept(whole, kept, prints.lock_versions, min((at for _, _, at in kept.values()), default=now))


def _altered_pilots_live(session: Session) -> set[int]:
    locks = _lock_rows(session)
    altered_locks = {a.entity_id for a in _criteria_checks(session, locks)}
    bad_versions = {lock.problem_version_id for lock in locks if lock.id in altered_locks}
    out = set(session.scalars(select(Pilot.id).where(Pilot.problem_version_id.in_(bad_versions)))) \
        if bad_versions else set()
    return out | {a.entity_id for a in _metric_checks(session, _locked_pilot_rows(session))}


#: ``altered_pilots(cached=True)``'s verdicts: per database (``_Kept``), per lock and locked pilot,
#: (fingerprint, altered?, when checked). Replaced whole on a change, so it holds only the groups
#: that exist.
ALTERED_PILOTS = ResultCache()
