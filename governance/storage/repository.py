"""Loaders: the rows and SQL aggregates the rules take, as plain values.

Shared by the use cases (``governance.services``) and the read models
(``governance.queries``), so both hand the rules the same facts and report
the same numbers. Nothing here decides anything; that is ``governance.rules``.
Nothing here checks who is asking either: callers do (``identity.actors``).
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session

from governance.errors import NotFound
from governance.rules.ballots import named_order, voter_token
from governance.rules.basis import voter_entry
from governance.rules.charter import CharterTerms, terms_of
from governance.rules.claims import Citable
from governance.rules.electorate import TeamMembership
from governance.rules.evidence import SurveyEvidence, evidence_threshold, status_row, survey_evidence
from governance.rules.times import DEFAULT_ZONE, local_date
from governance.rules.voting import Tally, tally_vote
from governance.storage.models import (
    Amendment,
    AuditEvent,
    Ballot,
    Charter,
    CommissioningMetric,
    CriteriaLock,
    Criterion,
    Measurement,
    PanelMembership,
    PaperBatch,
    PaperSheet,
    Person,
    PersonRole,
    Pilot,
    PilotTeamMember,
    Problem,
    ProblemVersion,
    ReadinessRecord,
    ReadinessWaiver,
    RosterChange,
    SecretBallot,
    SourceFile,
    SurveyResponse,
    SurveyRound,
    UsageWeek,
    Vote,
    VoteEligibility,
    VoteParticipation,
)
from governance.vocabulary import AmendmentStatus, ReadinessItem, Role, SurveyAnswer, VotingGroup


# ------------------------------------------------------------------ charter
def local_today(session: Session, now: datetime) -> date:
    """Today in the organisation's time zone (the charter's): due dates and working days are
    the organisation's calendar days, not UTC's."""
    zone = session.scalar(select(Charter.time_zone).order_by(Charter.version.desc()).limit(1))
    return local_date(now, zone or DEFAULT_ZONE)


def current_charter(session: Session) -> Charter:
    """The charter in force (the newest version)."""
    charter = session.scalar(select(Charter).order_by(Charter.version.desc()).limit(1))
    if charter is None:
        raise NotFound("No charter has been adopted yet; an administrator must initialise the "
                       "organisation first.")
    return charter


def charter_terms(session: Session, charter_id: int | None = None) -> tuple[Charter, CharterTerms]:
    """A charter (the one in force unless ``charter_id``) and its terms."""
    charter = session.get(Charter, charter_id) if charter_id is not None else current_charter(session)
    if charter is None:
        raise NotFound(f"There is no charter #{charter_id}.")
    return charter, terms_of(charter)


# ----------------------------------------------------------------- problems
def current_version(session: Session, problem: Problem) -> ProblemVersion:
    return session.scalars(select(ProblemVersion).where(
        ProblemVersion.problem_id == problem.id,
        ProblemVersion.version == problem.current_version)).one()


def lock_of(session: Session, version_id: int) -> CriteriaLock | None:
    return session.scalar(select(CriteriaLock).where(CriteriaLock.problem_version_id == version_id))


def criteria_of(session: Session, version_id: int) -> list[Criterion]:
    return list(session.scalars(select(Criterion).where(
        Criterion.problem_version_id == version_id).order_by(Criterion.name)))


def real_use_began(session: Session, version_id: int) -> bool:
    """Whether any pilot on this problem version has entered real use."""
    return bool(session.scalar(select(func.count()).select_from(Pilot).where(
        Pilot.problem_version_id == version_id, Pilot.real_use_started_at.is_not(None))))


def panel_voters(session: Session, panel_id: int) -> list[int]:
    """The panel's active members, who vote on its panel votes and as frontline."""
    return list(session.scalars(select(PanelMembership.person_id).join(Person).where(
        PanelMembership.panel_id == panel_id, Person.active.is_(True)).order_by(PanelMembership.person_id)))


# ------------------------------------------------------------------- pilots
def metrics_of(session: Session, pilot_id: int) -> list[CommissioningMetric]:
    return list(session.scalars(select(CommissioningMetric).where(
        CommissioningMetric.pilot_id == pilot_id).order_by(CommissioningMetric.name)))


def team_of(session: Session, pilot_id: int) -> list[int]:
    """The pilot's commissioning team now (its members' ids)."""
    return list(session.scalars(select(PilotTeamMember.person_id).where(
        PilotTeamMember.pilot_id == pilot_id, PilotTeamMember.removed_at.is_(None))
        .order_by(PilotTeamMember.person_id)))


def team_memberships(session: Session, pilot_id: int) -> list[TeamMembership]:
    """Everyone who has been on the pilot's team, and when (for the conflict-of-interest rule)."""
    return [TeamMembership(r.person_id, r.joined_at, r.removed_at) for r in session.execute(
        select(PilotTeamMember.person_id, PilotTeamMember.joined_at, PilotTeamMember.removed_at)
        .where(PilotTeamMember.pilot_id == pilot_id).order_by(PilotTeamMember.person_id))]


def active_people(session: Session, ids: Iterable[int]) -> set[int]:
    """Which of ``ids`` are active people."""
    wanted = list(set(ids))
    return set(session.scalars(select(Person.id).where(Person.id.in_(wanted), Person.active.is_(True))))


def steering_people(session: Session) -> list[int]:
    """Active people holding the steering role."""
    active = select(Person.id).where(Person.active.is_(True))
    return list(session.scalars(select(PersonRole.person_id).where(
        PersonRole.role == Role.STEERING, PersonRole.person_id.in_(active)).order_by(PersonRole.person_id)))


def readiness_status(session: Session, pilot_id: int) -> tuple[dict[ReadinessItem, ReadinessRecord | None],
                                                               ReadinessWaiver | None]:
    """Each readiness item with its record (None: not done yet), and any waiver (R5)."""
    records = {r.item: r for r in session.scalars(select(ReadinessRecord).where(
        ReadinessRecord.pilot_id == pilot_id))}
    return ({item: records.get(item) for item in ReadinessItem}, session.get(ReadinessWaiver, pilot_id))


# ----------------------------------------------------------------- evidence
def threshold_for(session: Session, pilot: Pilot, charter: Charter) -> tuple[float, int]:
    """The pre-registered threshold of the pilot's problem version and the
    minimum number of responses (the larger of the criterion's and the charter's)."""
    row = session.execute(select(Criterion.target, Criterion.minimum_evidence).where(
        Criterion.problem_version_id == pilot.problem_version_id,
        Criterion.is_indispensability.is_(True))).first()
    criterion = None if row is None else (float(row.target), int(row.minimum_evidence))
    return evidence_threshold(criterion, charter.indispensability_threshold, charter.min_survey_responses)


def latest_round(session: Session, pilot_id: int, *, closed_only: bool = False) -> SurveyRound | None:
    q = select(SurveyRound).where(SurveyRound.pilot_id == pilot_id)
    if closed_only:
        q = q.where(SurveyRound.closed_at.is_not(None))
    return session.scalar(q.order_by(SurveyRound.number.desc()).limit(1))


def round_counts(session: Session, round_id: int) -> dict[str, Any]:
    """Answer counts and SUS mean of a round's current responses (its kept counts)."""
    rnd = session.get(SurveyRound, round_id)
    if rnd is None:
        raise NotFound(f"There is no survey round #{round_id}.")
    return kept_counts(rnd)


def kept_counts(rnd: SurveyRound) -> dict[str, Any]:
    """The counts a round keeps of its current responses, updated with each response."""
    return {"n": rnd.responses, "answers": {a.value: getattr(rnd, a.value) for a in SurveyAnswer},
            "sus_mean": (rnd.sus_total / rnd.sus_responses) if rnd.sus_responses else None,
            "sus_n": rnd.sus_responses}


def recount_round(session: Session, round_id: int) -> dict[str, Any]:
    """The same numbers counted from the responses themselves (to check the kept counts)."""
    answered = func.count(SurveyResponse.id)
    counts = [func.sum(case((SurveyResponse.answer == a.value, 1), else_=0)) for a in SurveyAnswer]
    row = session.execute(select(answered, *counts, func.avg(SurveyResponse.sus_score),
                                 func.count(SurveyResponse.sus_score)).where(
        SurveyResponse.round_id == round_id, SurveyResponse.is_current.is_(True))).one()
    n, *per_answer, sus_mean, sus_n = row
    return {"n": int(n or 0), "answers": {a.value: int(c or 0) for a, c in zip(SurveyAnswer, per_answer,
                                                                                 strict=True)},
            "sus_mean": float(sus_mean) if sus_mean is not None else None, "sus_n": int(sus_n or 0)}


def current_responses(session: Session, round_id: int) -> list[tuple[Any, ...]]:
    """(id, person, answer, SUS score) of a round's current responses, for its closing digest."""
    return [tuple(r) for r in session.execute(
        select(SurveyResponse.id, SurveyResponse.person_id, SurveyResponse.answer, SurveyResponse.sus_score)
        .where(SurveyResponse.round_id == round_id, SurveyResponse.is_current.is_(True)))]


def pilot_evidence(session: Session, pilot: Pilot, charter: Charter, *,
                   closed_only: bool = False) -> SurveyEvidence:
    """Indispensability (score, Wilson interval, n, verdict) and SUS of the pilot's latest round."""
    threshold, minimum_n = threshold_for(session, pilot, charter)
    rnd = latest_round(session, pilot.id, closed_only=closed_only)
    if rnd is None:
        return survey_evidence(None, threshold=threshold, minimum_n=minimum_n)
    return survey_evidence({a.value: getattr(rnd, a.value) for a in SurveyAnswer}, threshold=threshold,
                           minimum_n=minimum_n, round_id=rnd.id, round_number=rnd.number,
                           closed=rnd.closed_at is not None, sus_total=rnd.sus_total, sus_n=rnd.sus_responses,
                           paper_n=rnd.paper_responses)


def latest_usage(session: Session, pilot_id: int) -> dict[str, Any] | None:
    """The pilot's most recent week of usage, with its adoption share."""
    row = session.execute(select(UsageWeek.week_start, UsageWeek.active_users, UsageWeek.eligible_users)
                          .where(UsageWeek.pilot_id == pilot_id)
                          .order_by(UsageWeek.week_start.desc()).limit(1)).first()
    if row is None:
        return None
    share = row.active_users / row.eligible_users if row.eligible_users else None
    return {"week_start": row.week_start.isoformat(), "active_users": row.active_users,
            "eligible_users": row.eligible_users, "adoption": share}


def _latest_values(session: Session, column: Any, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The most recent measurement of each id in ``ids`` (ties: the later record)."""
    if not ids:
        return {}
    ranked = select(
        column.label("subject"), Measurement.value, Measurement.observed_on, Measurement.source,
        SourceFile.sha256, SourceFile.filename,
        func.row_number().over(partition_by=column,
                               order_by=(Measurement.observed_on.desc(), Measurement.id.desc())
                               ).label("rank"),
    ).outerjoin(SourceFile, SourceFile.id == Measurement.source_file_id).where(column.in_(ids)).subquery()
    rows = session.execute(select(ranked).where(ranked.c.rank == 1))
    return {r.subject: {"value": r.value, "observed_on": r.observed_on.isoformat(), "source": r.source,
                        "source_sha256": r.sha256, "source_file": r.filename} for r in rows}


def _amended_ids(session: Session, column: Any, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    return set(session.scalars(select(column).where(
        and_(column.in_(ids), Amendment.after_real_use.is_(True), Amendment.status == AmendmentStatus.APPLIED))))


def metric_status(session: Session, pilot_id: int) -> list[dict[str, Any]]:
    """Each commissioning metric with its target, latest value and whether it is on target."""
    metrics = metrics_of(session, pilot_id)
    ids = [m.id for m in metrics]
    latest = _latest_values(session, Measurement.metric_id, ids)
    amended = _amended_ids(session, Amendment.metric_id, ids)
    return [status_row({"id": m.id, "name": m.name, "unit": m.unit, "direction": m.direction,
                        "target": m.target}, latest.get(m.id), m.id in amended) for m in metrics]


def criterion_status(session: Session, pilot: Pilot) -> list[dict[str, Any]]:
    """The problem version's frontline criteria with the pilot's latest values."""
    criteria = session.scalars(select(Criterion).where(
        Criterion.problem_version_id == pilot.problem_version_id).order_by(
        Criterion.is_indispensability.desc(), Criterion.name)).all()
    ids = [c.id for c in criteria]
    latest = _latest_values(session, Measurement.criterion_id, ids)
    amended = _amended_ids(session, Amendment.criterion_id, ids)
    return [status_row({"id": c.id, "name": c.name, "unit": c.unit, "direction": c.direction,
                        "target": c.target, "minimum_evidence": c.minimum_evidence,
                        "is_indispensability": c.is_indispensability}, latest.get(c.id), c.id in amended)
            for c in criteria]


def applied_amendments(session: Session, pilot: Pilot) -> list[dict[str, Any]]:
    """Applied amendments of the pilot's criteria and metrics, oldest first."""
    metric_ids = select(CommissioningMetric.id).where(CommissioningMetric.pilot_id == pilot.id)
    rows = session.execute(
        select(Amendment.id, Amendment.criterion_id, Amendment.metric_id, Amendment.before_json,
               Amendment.after_json, Amendment.reason, Amendment.after_real_use, Amendment.decided_at)
        .outerjoin(Criterion, Criterion.id == Amendment.criterion_id)
        .where(Amendment.status == AmendmentStatus.APPLIED,
               (Criterion.problem_version_id == pilot.problem_version_id) | Amendment.metric_id.in_(metric_ids))
        .order_by(Amendment.id)).all()
    return [dict(r._mapping) for r in rows]


def citable(session: Session, pilot: Pilot) -> list[Citable]:
    """What a claim about the pilot may cite: its metrics and its problem version's criteria."""
    lock = lock_of(session, pilot.problem_version_id)
    metrics = metrics_of(session, pilot.id)
    criteria = criteria_of(session, pilot.problem_version_id)
    amended_m = _amended_ids(session, Amendment.metric_id, [m.id for m in metrics])
    amended_c = _amended_ids(session, Amendment.criterion_id, [c.id for c in criteria])
    return ([Citable(m.id, m.name, "commissioning metric", m.created_at, m.id in amended_m) for m in metrics]
            + [Citable(c.id, c.name, "frontline criterion", lock.locked_at if lock else None,
                       c.id in amended_c) for c in criteria])


# -------------------------------------------------------------------- votes
def eligible_counts(session: Session, vote_id: int) -> dict[str, int]:
    """Eligible voters per group, as fixed when the vote opened."""
    counts = Counter(session.scalars(select(VoteEligibility.voting_group).where(
        VoteEligibility.vote_id == vote_id)))
    return {g.value: counts.get(g.value, 0) for g in VotingGroup}


def current_ballots(session: Session, vote_id: int) -> list[tuple[str, str]]:
    """(group, option) of each voter's latest ballot, open and secret alike."""
    named = select(Ballot.voting_group, Ballot.option).where(Ballot.vote_id == vote_id, Ballot.is_current.is_(True))
    secret = select(SecretBallot.voting_group, SecretBallot.option).where(
        SecretBallot.vote_id == vote_id, SecretBallot.is_current.is_(True))
    return sorted((g, o) for g, o in session.execute(named.union_all(secret)))


def secret_receipts(session: Session, vote_id: int) -> list[tuple[str, str, str]]:
    """(receipt, group, option) of each current secret ballot: what a closed vote publishes."""
    return sorted((r, g, o) for r, g, o in session.execute(
        select(SecretBallot.receipt, SecretBallot.voting_group, SecretBallot.option).where(
            SecretBallot.vote_id == vote_id, SecretBallot.is_current.is_(True))))


def participants(session: Session, vote_id: int, groups: Iterable[str] | None = None) -> list[tuple[int, str, str]]:
    """(person id, name, group) of everyone who took part (optionally: in these groups)."""
    q = (select(VoteParticipation.person_id, Person.name, VoteEligibility.voting_group)
         .join(Person, Person.id == VoteParticipation.person_id)
         .join(VoteEligibility, (VoteEligibility.vote_id == VoteParticipation.vote_id)
               & (VoteEligibility.person_id == VoteParticipation.person_id))
         .where(VoteParticipation.vote_id == vote_id))
    if groups is not None:
        q = q.where(VoteEligibility.voting_group.in_(list(groups)))
    return [(p, n, g) for p, n, g in session.execute(q.order_by(Person.name, VoteParticipation.person_id))]


def turnout(session: Session, vote_id: int) -> dict[str, tuple[int, int]]:
    """Group → (voted, eligible), from participation and the eligibility fixed at opening."""
    eligible = eligible_counts(session, vote_id)
    voted = Counter(g for _, _, g in participants(session, vote_id))
    return {g: (voted.get(g, 0), n) for g, n in eligible.items()}


def named_voters(session: Session, vote_id: int) -> list[dict[str, Any]]:
    """Each voter's latest ballot with their name (groups whose ballots are on the record)."""
    rows = session.execute(select(Ballot.person_id, Person.name, Ballot.voting_group, Ballot.option,
                                  Ballot.cast_at, Ballot.reason).join(Person, Person.id == Ballot.person_id)
                           .where(Ballot.vote_id == vote_id, Ballot.is_current.is_(True))).all()
    return sorted((voter_entry(r.person_id, r.name, r.voting_group, r.option, r.cast_at, r.reason)
                   for r in rows), key=named_order)



def tally_of(session: Session, vote: Vote) -> Tally:
    """The tally of a vote from its current ballots, under the charter it opened with (R8)."""
    charter = session.get(Charter, vote.charter_id)
    if charter is None:
        raise NotFound(f"The charter vote #{vote.id} opened under is missing from the record.")
    return tally_vote(vote.kind, current_ballots(session, vote.id), eligible=eligible_counts(session, vote.id),
                      terms=terms_of(charter), adopt_available=vote.adopt_available,
                      proposed=vote.proposed_outcome)


def roster_changes_after_real_use(session: Session, pilot_id: int) -> list[dict[str, Any]]:
    """R15: additions to and removals from the roster after real use began, oldest first."""
    rows = session.execute(select(RosterChange.person_id, RosterChange.change, RosterChange.reason,
                                  RosterChange.changed_at)
                           .where(RosterChange.pilot_id == pilot_id, RosterChange.after_real_use.is_(True))
                           .order_by(RosterChange.id))
    return [dict(r._mapping) for r in rows]


def organisation_name(session: Session) -> str:
    """The organisation's name, as its first audit event recorded it."""
    payload = session.scalar(select(AuditEvent.payload).where(AuditEvent.seq == 1))
    if payload is None:
        return "Organisation"
    return str(json.loads(payload).get("organisation") or "Organisation")


def my_secret_ballots(s: Session, key: bytes, person_id: int, vote_ids: list[int]) -> dict[int, tuple[str, str]]:
    """vote → (option, receipt) of the person's current secret ballot, found by their voter
    token (only they, with the ballot key, can ask this; R17)."""
    if not vote_ids:
        return {}
    tokens = {voter_token(key, v, person_id): v for v in vote_ids}
    rows = s.execute(select(SecretBallot.voter_token, SecretBallot.option, SecretBallot.receipt).where(
        SecretBallot.vote_id.in_(vote_ids), SecretBallot.voter_token.in_(list(tokens)),
        SecretBallot.is_current.is_(True)))
    return {tokens[t]: (o, r) for t, o, r in rows}


def paper_entered(s: Session, *, person_id: int, round_id: int | None = None, vote_id: int | None = None,
                  holder: str | None = None) -> bool:
    """Whether a paper sheet of this person for this round or vote has been entered (attested or
    not): then they answer or vote on paper only. A secret sheet is found by its ``holder`` token."""
    q = (select(PaperSheet.id).join(PaperBatch, PaperBatch.id == PaperSheet.batch_id)
         .where(PaperSheet.state == "entered"))
    q = q.where(PaperBatch.round_id == round_id) if round_id is not None else q.where(PaperBatch.vote_id == vote_id)
    q = q.where(PaperSheet.holder_token == holder) if holder is not None else q.where(PaperSheet.person_id == person_id)
    return s.scalar(q.limit(1)) is not None


def rounds_entered_on_paper(person_id: int) -> Select[Any]:
    """The survey rounds in which this person's paper form has been entered (attested or not):
    they answer those on paper only, so nothing asks them to answer online (Home, Evaluate, the
    light path, reminders) — the use case would refuse it (``paper_entered``)."""
    return (select(PaperBatch.round_id).join(PaperSheet, PaperSheet.batch_id == PaperBatch.id)
            .where(PaperSheet.person_id == person_id, PaperSheet.state == "entered",
                   PaperBatch.round_id.is_not(None)))


def paper_people(s: Session, *, round_id: int) -> set[int]:
    """Everyone whose paper form for this survey round has been entered (attested or not)."""
    return set(s.scalars(select(PaperSheet.person_id).join(PaperBatch, PaperBatch.id == PaperSheet.batch_id)
                         .where(PaperBatch.round_id == round_id, PaperSheet.state == "entered",
                                PaperSheet.person_id.is_not(None))))


def ballot_channels(s: Session, vote_id: int) -> dict[str, int]:
    """Channel ("online", "paper") → how many current ballots of this vote came by it, on the
    record and secret together (counts only: nobody is named, no option shown)."""
    out: Counter[str] = Counter()
    for model in (Ballot, SecretBallot):
        out.update({channel: int(n) for channel, n in s.execute(
            select(model.channel, func.count()).where(model.vote_id == vote_id, model.is_current.is_(True))
            .group_by(model.channel))})
    return dict(out)
