"""Scale generator: a complete, valid organisation, built fast with bulk inserts.

    python -m bench.generate --scale smoke|town|ministry [--url URL] [--reset] [--report out.json]

The database is the one ``--url`` (or ``DATABASE_URL``) names; by default a
SQLite file ``bench/out/<scale>.db`` that is recreated. The plan
(``bench.plan``) fixes every time and fate; this module replays it in time
order and writes each row and each audit event as the services would: the
same payloads, hashed into the chain exactly as ``governance.audit.record``
does, criteria locks and commissioning metrics hashed with the services' own
canonical forms, tallies by ``governance.rules.voting``, evidence by
``governance.rules.evidence``, decision bases built like ``services.votes._basis``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import resource
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from heapq import merge
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import texts
from bench.bulk import BulkWriter
from bench.plan import (
    ACCOUNT_PASSWORD,
    CHARTER_V2,
    DAY,
    DEFAULT_TERMS,
    HOUR,
    MINUTE,
    SCALES,
    PilotP,
    Planner,
    ProblemP,
    RoundP,
    Scale,
    VoteP,
    uniform,
)
from governance.identity.passwords import hash_password
from governance.record.chain import GENESIS_HASH, canonical_event, canonical_json
from governance.rules.claims import decision_check, flags
from governance.rules.deadlines import add_working_days
from governance.rules.evidence import SurveyEvidence, indispensability, meets_target, sus_score
from governance.rules.prereg import (
    INDISPENSABILITY_NAME,
    canonical_criteria,
    canonical_metrics,
    criterion_record,
    metric_record,
)
from governance.rules.voting import tally_outcome, tally_panel
from governance.vocabulary import (
    AmendmentStatus,
    Outcome,
    PilotState,
    ProblemState,
    ReadinessItem,
    SurveyAnswer,
    VoteKind,
    VotingGroup,
    label,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = PROJECT_ROOT / "bench" / "out"
EPOCH_DATE = date(1970, 1, 1)
GROUPS = tuple(g.value for g in VotingGroup)
OUTCOMES = tuple(o.value for o in Outcome)
ANSWERS = tuple(a.value for a in SurveyAnswer)
VERY = SurveyAnswer.VERY_DISAPPOINTED.value


# ---------------------------------------------------------------------------- time
def to_us(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))


_DAYS: dict[int, str] = {}


def db_ts(t: int) -> str:
    """Naive UTC text as stored (SQLAlchemy's SQLite format; a PostgreSQL timestamp literal)."""
    d, rest = divmod(t, DAY)
    day = _DAYS.get(d)
    if day is None:
        day = _DAYS[d] = (EPOCH_DATE + timedelta(days=d)).isoformat()
    sec, us = divmod(rest, 1_000_000)
    h, sec = divmod(sec, 3600)
    m, sec = divmod(sec, 60)
    return f"{day} {h:02d}:{m:02d}:{sec:02d}.{us:06d}"


def z_ts(t: int) -> str:
    """``governance.audit.format_time`` of the same moment."""
    return db_ts(t).replace(" ", "T") + "Z"


def day_of(t: int) -> date:
    return EPOCH_DATE + timedelta(days=t // DAY)


# ------------------------------------------------------------------- runtime rows
class CriterionRT:
    __slots__ = (
        "created_at",
        "created_by",
        "definition",
        "direction",
        "id",
        "is_indispensability",
        "measurement_method",
        "minimum_evidence",
        "name",
        "problem_version_id",
        "target",
        "unit",
    )

    def row(self) -> tuple[Any, ...]:
        return (self.id, self.problem_version_id, self.name, self.definition, self.measurement_method,
                self.unit, self.direction, self.target, self.minimum_evidence, self.is_indispensability,
                self.created_by, db_ts(self.created_at))


class VersionRT:
    def __init__(self, vid: int, problem_id: int, version: int, title: str, statement: str, created_by: int,
                 created_at: int) -> None:
        self.id, self.problem_id, self.version = vid, problem_id, version
        self.title, self.statement = title, statement
        self.created_by, self.created_at = created_by, created_at
        self.ratified_at: int | None = None
        self.ratified_by_vote_id: int | None = None
        self.criteria: list[CriterionRT] = []
        self.lock: dict[str, Any] | None = None
        self.reopening_id: int | None = None
        self.real_use_began = False
        self.amendments: list[SimpleNamespace] = []

    def indispensability(self) -> CriterionRT:
        return next(c for c in self.criteria if c.is_indispensability)


class ProblemRT:
    def __init__(self, pid: int, created_by: int) -> None:
        self.id = pid
        self.state = ProblemState.DRAFT.value
        self.current = 1
        self.versions: dict[int, VersionRT] = {}
        self.created_by = created_by

    @property
    def version(self) -> VersionRT:
        return self.versions[self.current]


class PilotRT:
    def __init__(self, pid: int, plan: PilotP, version: VersionRT) -> None:
        self.id = pid
        self.plan = plan
        self.title = plan.title
        self.owner_id = plan.owner
        self.version = version
        self.problem_version_id = version.id
        self.state = PilotState.REGISTERED.value
        self.ready_at: int | None = None
        self.real_use_started_at: int | None = None
        self.metrics_sha256: str | None = None
        self.metrics_json: str | None = None
        self.evaluating_since: int | None = None
        self.decided_at: int | None = None
        self.outcome: str | None = None
        self.metrics: list[SimpleNamespace] = []
        self.items: set[str] = {ReadinessItem.OWNER.value}
        self.waived = False
        self.latest_metric: dict[int, tuple[tuple[str, int], dict[str, Any]]] = {}
        self.usage: list[tuple[date, int, int]] = []
        self.amendments: list[SimpleNamespace] = []
        self.decision: tuple[int, str] | None = None
        self.closed_rounds: list[RoundP] = []
        self.feedback: dict[tuple[Any, ...], tuple[int, date]] = {}
        self.measure_rows = 0


# ------------------------------------------------------------------------ emitter
class Emitter:
    """Replays a plan: assigns ids, writes rows and the audit chain, keeps runtime state."""

    def __init__(self, planner: Planner, writer: BulkWriter, *, strict: bool = False) -> None:
        self.pl = planner
        self.w = writer
        self.strict = strict
        self.seq = 0
        self.prev = GENESIS_HASH
        self.base = 0
        self.last = 0
        self.ids: dict[str, int] = {}
        self.rng = random.Random(planner.seed + 1)
        names = planner.names
        self.name_json = [json.dumps(n, ensure_ascii=False) for n in names]
        self._json_cache: dict[str, str] = {}
        self.charters: list[SimpleNamespace] = []
        self.person_active = [True] * len(names)
        self.stats: dict[str, int] = {"plan_mismatch": 0, "reopened": 0, "reopen_linked": 0}
        self.criterion_latest: dict[int, tuple[tuple[str, int], dict[str, Any]]] = {}
        self.feedback_updates: list[tuple[Any, ...]] = []
        self.password_hash = ""

    # ----------------------------------------------------------- basics
    def at(self, t: int) -> None:
        self.base = t

    def now(self) -> int:
        t = self.base if self.base > self.last else self.last + 1
        self.last = t
        return t

    def next_id(self, table: str) -> int:
        n = self.ids.get(table, 0) + 1
        self.ids[table] = n
        return n

    def _j(self, value: str) -> str:
        out = self._json_cache.get(value)
        if out is None:
            out = self._json_cache[value] = json.dumps(value, ensure_ascii=False)
        return out

    @property
    def charter(self) -> SimpleNamespace:
        return self.charters[-1]

    def log(self, actor: int | None, action: str, entity_type: str, entity_id: Any, *, before: Any = None,
            after: Any = None, **extra: Any) -> None:
        self.append(actor, action, entity_type, entity_id,
                    canonical_json({"before": before, "after": after, **extra}))

    def append(self, actor: int | None, action: str, entity_type: str, entity_id: Any, payload: str) -> None:
        """One audit event, hashed exactly as ``governance.audit.record`` hashes it."""
        t = self.now()
        seq = self.seq + 1
        when = z_ts(t)
        eid = str(entity_id)
        if actor is None:
            actor_id, actor_name, actor_part, name_part = None, "system", "null", '"system"'
        else:
            actor_id, actor_name = actor, self.pl.names[actor]
            actor_part, name_part = str(actor), self.name_json[actor]
        data = ('{"action":' + self._j(action) + ',"actor_id":' + actor_part + ',"actor_name":' + name_part
                + ',"entity_id":"' + eid + '","entity_type":' + self._j(entity_type) + ',"occurred_at":"'
                + when + '","payload":' + payload + ',"prev_hash":"' + self.prev + '","seq":' + str(seq)
                + "}").encode("utf-8")
        if self.strict:
            assert data == canonical_event(seq, when, actor_id, actor_name, action, entity_type, eid, payload,
                                           self.prev), "fast canonical form differs"
            assert payload == canonical_json(json.loads(payload)), "payload is not canonical"
        digest = hashlib.sha256(data).hexdigest()
        self.w.add("audit_event", (seq, db_ts(t), actor_id, actor_name, action, entity_type, eid, payload,
                                   self.prev, digest))
        self.seq, self.prev = seq, digest

    # ------------------------------------------------------------ the run
    def run(self) -> None:
        pl = self.pl
        static: list[tuple[int, Callable[..., None], tuple[Any, ...]]] = []
        static.append((pl.t0, self.initialise, ()))
        for pid in range(2, len(pl.names)):
            static.append((pl.t_person[pid], self.create_person, (pid,)))
        for i in range(len(pl.programmes)):
            static.append((pl.t_panels - HOUR + i * MINUTE, self.create_programme, (i + 1,)))
        for p in range(pl.scale.panels):
            static.append((pl.t_panels + p * MINUTE, self.create_panel, (p,)))
        t = pl.t_memberships
        for p, members in enumerate(pl.members):
            for pid in members:
                static.append((t, self.add_member, (p, pid)))
                t += pl.membership_step
        static.append((pl.t_charter2, self.adopt_charter_v2, ()))
        for pid, t_leave in zip(pl.leavers, pl.leaver_times, strict=True):
            static.append((t_leave, self.deactivate, (pid,)))
        for pb in pl.problems:
            static.append((pb.t_draft, self.draft_problem, (pb,)))
            for k, (t_c, spec) in enumerate(pb.criteria):
                static.append((t_c, self.add_criterion, (pb, spec)))
            if pb.threshold_update is not None:
                static.append((pb.threshold_update, self.update_threshold, (pb,)))
            for t_c, who, body in pb.comments:
                static.append((t_c, self.comment, (pb, who, body)))
            if pb.t_retire is not None:
                static.append((pb.t_retire, self.retire, (pb,)))
        for p in pl.pilots:
            static.append((p.t_reg, self.register_pilot, (p,)))
            if p.t_roster is not None:
                static.append((p.t_roster, self.add_roster, (p,)))
            for t_i, item in p.readiness:
                static.append((t_i, self.record_readiness, (p, item)))
            if p.waiver is not None:
                static.append((p.waiver[0], self.waive, (p, p.waiver[1])))
            if p.t_real is not None:
                static.append((p.t_real, self.start_real_use, (p,)))
            for t_a, kind, args in p.actions:
                static.append((t_a, getattr(self, f"act_{kind}"), (p, *args)))
                if kind == "feedback" and args[3] is not None:
                    static.append((args[3], self.respond_feedback, (p, args)))
        static.sort(key=lambda a: a[0])
        streams: list[Iterator[tuple[int, Callable[..., None], tuple[Any, ...]]]] = [iter(static)]
        streams += [self.vote_stream(v) for v in pl.all_votes()]
        streams += [self.round_stream(r) for r in pl.all_rounds()]
        for t_act, fn, args in merge(*streams, key=lambda a: a[0]):
            self.base = t_act
            fn(*args)

    def finish(self) -> None:
        """Final values of the rows that changed after insertion, then the chain head."""
        pl, w = self.pl, self.w
        w.flush()
        w.update_many("person", ("active",), [(False, pid) for pid in pl.leavers
                                               if not self.person_active[pid]])
        problems, versions, criteria = [], [], []
        for pb in pl.problems:
            rt: ProblemRT | None = pb.rt
            if rt is None:
                continue
            problems.append((rt.state, rt.current, rt.id))
            for ver in rt.versions.values():
                versions.append((None if ver.ratified_at is None else db_ts(ver.ratified_at),
                                 ver.ratified_by_vote_id, ver.id))
                criteria += [(c.target, c.minimum_evidence, c.id) for c in ver.criteria]
        w.update_many("problem", ("state", "current_version"), problems)
        w.update_many("problem_version", ("ratified_at", "ratified_by_vote_id"), versions)
        w.update_many("criterion", ("target", "minimum_evidence"), criteria)
        amendments = [(a.status, None if a.decided_at is None else db_ts(a.decided_at), a.after_real_use,
                       a.resulting_sha256, a.id) for pb in pl.problems if pb.rt
                      for ver in pb.rt.versions.values() for a in ver.amendments]
        w.update_many("amendment", ("status", "decided_at", "after_real_use", "resulting_sha256"), amendments)
        pilots, metrics, rounds, round_counts = [], [], [], []
        for p in pl.pilots:
            rt: PilotRT | None = p.rt
            if rt is None:
                continue
            opt = lambda t: None if t is None else db_ts(t)
            pilots.append((rt.state, opt(rt.ready_at), opt(rt.real_use_started_at), rt.metrics_sha256,
                           rt.metrics_json, opt(rt.evaluating_since), opt(rt.decided_at), rt.outcome, rt.id))
            metrics += [(m.target, m.id) for m in rt.metrics]
            rounds += [(r.closer, opt(r.t_close), r.id) for r in p.rounds if r.id and r.closed]
            # The counts the services keep on each round, from the same runtime tallies.
            round_counts += [(sum(r.answers.values()), *(r.answers.get(a, 0) for a in ANSWERS),
                              float(r.sus_sum), r.sus_n, r.id) for r in p.rounds if r.id]
        w.update_many("pilot", ("state", "ready_at", "real_use_started_at", "metrics_sha256", "metrics_json",
                                "evaluating_since", "decided_at", "outcome"), pilots)
        w.update_many("commissioning_metric", ("target",), metrics)
        w.update_many("survey_round", ("closed_by", "closed_at"), rounds)
        w.update_many("survey_round", ("responses", *ANSWERS, "sus_total", "sus_responses"), round_counts)
        w.update_many("feedback_item", ("response", "responded_by", "responded_at"), self.feedback_updates)
        # Votes close last: every ballot is in, cast while its vote was open.
        votes = [("closed", v.closer, db_ts(v.closed_at), v.result_json, v.quorum_met, v.passed, v.outcome,
                  v.id) for v in pl.all_votes() if v.id and getattr(v, "closed_at", None) is not None]
        w.update_many("vote", ("status", "closed_by", "closed_at", "result_json", "quorum_met", "passed",
                               "outcome"), votes)
        w.add("audit_chain_head", (1, self.seq, self.prev))
        w.flush()

    # ----------------------------------------------------------- organisation
    def initialise(self) -> None:
        pl = self.pl
        self.password_hash = hash_password(ACCOUNT_PASSWORD)
        admin = pl.admin
        t = self.now()
        self.w.add("person", (admin, pl.names[admin], pl.emails[admin], self.password_hash, False, True,
                              db_ts(t)))
        self.w.add("person_role", (admin, "admin"))
        self.w.add("organisation", (1, "Benchmark organisation", db_ts(t)))
        self.log(admin, "organisation.initialised", "person", admin,
                 after={"id": admin, "name": pl.names[admin], "email": pl.emails[admin], "roles": ["admin"]})
        terms = DEFAULT_TERMS.as_dict()
        self._add_charter(1, terms, admin, "Default charter adopted when the organisation was set up.")
        c = self.charter
        self.log(admin, "charter.adopted", "charter", c.id,
                 after={"id": c.id, "version": 1, **terms, "adopted_by": admin, "adopted_at": z_ts(c.adopted_at),
                        "reason": c.reason})

    def _add_charter(self, version: int, terms: dict[str, Any], by: int, reason: str) -> None:
        cid = self.next_id("charter")
        t = self.now()
        self.w.add("charter", (cid, version, terms["weight_frontline"], terms["weight_commissioning"],
                               terms["weight_steering"], terms["quorum_frontline"], terms["quorum_commissioning"],
                               terms["quorum_steering"], terms["frontline_veto"], terms["evaluation_window_days"],
                               terms["min_survey_responses"], terms["indispensability_threshold"],
                               terms["allow_adopt_override"], terms["feedback_response_working_days"], by,
                               db_ts(t), reason))
        self.charters.append(SimpleNamespace(id=cid, version=version, terms=dict(terms), adopted_at=t,
                                             reason=reason, **terms))

    def adopt_charter_v2(self) -> None:
        steering = self.pl.steering[0]
        before = dict(self.charter.terms)
        after = {**before, **CHARTER_V2}
        why = "Steering quorum lowered to 40 % and a faster response to frontline feedback, agreed with panels."
        self._add_charter(2, after, steering, why)
        changed = {k: {"before": before[k], "after": v} for k, v in after.items() if before[k] != v}
        self.log(steering, "charter.adopted", "charter", self.charter.id, before=before, after=after,
                 version=2, changed=changed, reason=why)

    def create_person(self, pid: int) -> None:
        pl = self.pl
        t = self.now()
        roles = list(pl.roles[pid])
        pw = self.password_hash if pid in pl.accounts.values() else None
        self.w.add("person", (pid, pl.names[pid], pl.emails[pid], pw, False, True, db_ts(t)))
        for role in roles:
            self.w.add("person_role", (pid, role))
        self.log(pl.admin, "person.created", "person", pid,
                 after={"id": pid, "name": pl.names[pid], "email": pl.emails[pid], "roles": roles,
                        "password_set": pw is not None})

    def deactivate(self, pid: int) -> None:
        self.person_active[pid] = False
        self.log(self.pl.admin, "person.deactivated", "person", pid, before={"active": True},
                 after={"active": False}, reason="Left the organisation.")

    def create_programme(self, i: int) -> None:
        t = self.now()
        name = self.pl.programmes[i - 1]
        description = "Where pilots may happen in this area."
        self.w.add("programme", (i, name, description, db_ts(t)))
        self.log(self.pl.admin, "programme.created", "programme", i,
                 after={"id": i, "name": name, "description": description, "created_at": z_ts(t)})

    def create_panel(self, p: int) -> None:
        pl = self.pl
        t = self.now()
        pid = p + 1
        row = {"id": pid, "name": pl.panel_names[p], "area": pl.panel_area[p], "site": pl.panel_site[p],
               "programme_id": pl.panel_programme[p], "created_at": z_ts(t)}
        self.w.add("panel", (pid, row["name"], row["area"], row["site"], row["programme_id"], db_ts(t)))
        self.log(pl.admin, "panel.created", "panel", pid, after=row)

    def add_member(self, p: int, person: int) -> None:
        pl = self.pl
        role = "facilitator" if person in pl.facilitators_of[p] else "member"
        t = self.now()
        self.w.add("panel_membership", (p + 1, person, role, db_ts(t)))
        self.log(pl.admin, "panel.member_added", "panel", p + 1,
                 after={"person_id": person, "name": pl.names[person], "role": role})

    # --------------------------------------------------------------- problems
    def _criterion(self, version: VersionRT, spec: tuple[Any, ...], by: int, t: int, *,
                   indispensable: bool = False) -> CriterionRT:
        c = CriterionRT()
        c.id = self.next_id("criterion")
        c.problem_version_id = version.id
        (c.name, c.definition, c.measurement_method, c.unit, c.direction, c.target,
         c.minimum_evidence) = spec
        c.is_indispensability = indispensable
        c.created_by, c.created_at = by, t
        version.criteria.append(c)
        self.w.add("criterion", c.row())
        return c

    def draft_problem(self, pb: ProblemP) -> None:
        charter = self.charter
        t = self.now()
        rt = pb.rt = ProblemRT(self.next_id("problem"), pb.author)
        self.w.add("problem", (rt.id, pb.panel + 1, pb.programme, "draft", 1, pb.author, db_ts(t)))
        ver = VersionRT(self.next_id("problem_version"), rt.id, 1, pb.title, pb.statement, pb.author, t)
        rt.versions[1] = ver
        self._version_row(ver)
        spec = (INDISPENSABILITY_NAME,
                ("Share of rostered users who would be very disappointed if they could no longer use the tool "
                 "(Sean Ellis question) after real use."),
                (f"Indispensability survey after {charter.evaluation_window_days} days of real use; share "
                 "answering 'very disappointed', with its Wilson 95 % interval."),
                "share", "higher_is_better", float(charter.indispensability_threshold),
                charter.min_survey_responses)
        threshold = self._criterion(ver, spec, pb.author, t, indispensable=True)
        self.log(pb.author, "problem.drafted", "problem", rt.id,
                 after={"panel_id": pb.panel + 1, "title": pb.title, "statement": pb.statement, "version": 1,
                        "indispensability_threshold": threshold.target})

    def _version_row(self, ver: VersionRT) -> None:
        self.w.add("problem_version", (ver.id, ver.problem_id, ver.version, ver.title, ver.statement,
                                       ver.created_by, db_ts(ver.created_at), None, None))

    def add_criterion(self, pb: ProblemP, spec: tuple[Any, ...]) -> None:
        rt = pb.rt
        ver = rt.version
        author = self.rng.choice(self.pl.members[pb.panel])
        c = self._criterion(ver, spec, author, self.now())
        self.log(author, "criterion.added", "criterion", c.id, after=criterion_record(c), problem_id=rt.id,
                 version=ver.version)

    def update_threshold(self, pb: ProblemP) -> None:
        rt = pb.rt
        c = rt.version.indispensability()
        before = criterion_record(c)
        c.target = 0.5
        self.log(pb.author, "criterion.updated", "criterion", c.id, before=before, after=criterion_record(c),
                 problem_id=rt.id)

    def comment(self, pb: ProblemP, who: int, body: str) -> None:
        cid = self.next_id("problem_comment")
        self.w.add("problem_comment", (cid, pb.rt.id, who, body, db_ts(self.now())))
        self.log(who, "problem.commented", "problem_comment", cid, after={"problem_id": pb.rt.id, "body": body})

    def retire(self, pb: ProblemP) -> None:
        rt = pb.rt
        before = rt.state
        assert before != ProblemState.RETIRED.value
        rt.state = ProblemState.RETIRED.value
        self.log(pb.retirer, "problem.retired", "problem", rt.id, before={"state": before},
                 after={"state": rt.state}, reason="No longer a priority for the panel; its pilots are decided.")

    # ----------------------------------------------------------------- pilots
    def register_pilot(self, p: PilotP) -> None:
        pb = p.problem
        rt_pb: ProblemRT = pb.rt
        assert rt_pb.state == ProblemState.RATIFIED.value and rt_pb.current == p.version_no, \
            f"R1: pilot {p.idx} registered while its problem is {rt_pb.state}"
        ver = rt_pb.version
        t = self.now()
        rt = p.rt = PilotRT(self.next_id("pilot"), p, ver)
        self.w.add("pilot", (rt.id, rt_pb.id, ver.id, p.title, p.description, p.owner, p.registrar, db_ts(t),
                             "registered", None, None, None, None, None, None, None))
        for member in p.team:
            self.w.add("pilot_team_member", (rt.id, member))
        cleaned = []
        for name, definition, unit, direction, target in p.metrics:
            m = SimpleNamespace(id=self.next_id("commissioning_metric"), pilot_id=rt.id, name=name,
                                definition=definition, unit=unit, direction=direction, target=float(target),
                                created_by=p.registrar, created_at=t)
            rt.metrics.append(m)
            self.w.add("commissioning_metric", (m.id, rt.id, name, definition, unit, direction, m.target,
                                                p.registrar, db_ts(t)))
            cleaned.append(metric_record(m))
        owner_name = self.pl.names[p.owner]
        self.w.add("readiness_record", (rt.id, ReadinessItem.OWNER.value,
                                        f"{owner_name} is accountable for the last mile.", None, p.registrar,
                                        db_ts(t)))
        self.log(p.registrar, "pilot.registered", "pilot", rt.id,
                 after={"title": p.title, "description": p.description, "owner_id": p.owner,
                        "problem_id": rt_pb.id, "state": "registered", "problem_version": ver.version,
                        "team": sorted(set(p.team)), "metrics": cleaned})

    def add_roster(self, p: PilotP) -> None:
        rt: PilotRT = p.rt
        t = db_ts(self.now())
        for pid in p.roster:
            self.w.add("roster_entry", (rt.id, pid, p.registrar, t))
        self.log(p.registrar, "pilot.roster_added", "pilot", rt.id, after={"person_ids": list(p.roster)})

    READINESS_TEXT: ClassVar[dict[str, str]] = {
        "training_plan": "Two one-hour sessions per role, night staff included.",
        "old_process_retirement": "The manual process stops on this date.",
        "escalation_path": "Team lead, then the vendor's support line within four hours.",
        "low_connectivity_test": "Tested at the most remote site on a weak mobile connection.",
    }

    def record_readiness(self, p: PilotP, item: str) -> None:
        rt: PilotRT = p.rt
        who = p.team[0]
        t = self.now()
        detail = self.READINESS_TEXT[item]
        on = day_of(t) + timedelta(days=30) if item == "old_process_retirement" else None
        self.w.add("readiness_record", (rt.id, item, detail, None if on is None else on.isoformat(), who,
                                        db_ts(t)))
        rt.items.add(item)
        self.log(who, "pilot.readiness_recorded", "pilot", rt.id, before=None,
                 after={"item": item, "detail": detail, "on_date": None if on is None else on.isoformat()})
        if rt.state == "registered" and len(rt.items) == len(ReadinessItem):
            self._ready(p, who, "checklist complete")

    def waive(self, p: PilotP, steering: int) -> None:
        rt: PilotRT = p.rt
        why = "Steering accepts the risk: the escalation path is being finalised with the vendor."
        missing = [label(i) for i in ReadinessItem if i.value not in rt.items]
        self.w.add("readiness_waiver", (rt.id, why, steering, db_ts(self.now())))
        rt.waived = True
        self.log(steering, "pilot.readiness_waived", "pilot", rt.id, after={"reason": why, "missing": missing})
        if rt.state == "registered":
            self._ready(p, steering, "waived by steering")

    def _ready(self, p: PilotP, actor: int, why: str) -> None:
        rt: PilotRT = p.rt
        rt.state, rt.ready_at = "ready", self.now()
        self.log(actor, "pilot.ready", "pilot", rt.id, before={"state": "registered"}, after={"state": "ready"},
                 basis=why)

    def start_real_use(self, p: PilotP) -> None:
        rt: PilotRT = p.rt
        assert rt.state == "ready", f"R5: pilot {p.idx} is {rt.state}"
        assert rt.version.lock is not None, f"R3: pilot {p.idx} started before its criteria were locked"
        body, digest = canonical_metrics(rt.id, rt.metrics)
        rt.real_use_started_at = self.now()
        rt.metrics_json, rt.metrics_sha256 = body, digest
        rt.state = "in_use"
        rt.version.real_use_began = True
        self.log(p.team[0], "pilot.real_use_started", "pilot", rt.id, before={"state": "ready"},
                 after={"state": "in_use", "metrics_sha256": digest, "waived": rt.waived,
                        "roster_size": len(p.roster)})

    def act_usage(self, p: PilotP, n: int) -> None:
        rt: PilotRT = p.rt
        t = self.now()
        today = day_of(t)
        start = day_of(rt.real_use_started_at)
        first = start - timedelta(days=start.weekday())
        last = rt.usage[-1][0] if rt.usage else first - timedelta(days=7)
        weeks = []
        week = last + timedelta(days=7)
        while week <= today:
            weeks.append(week)
            week += timedelta(days=7)
        if not weeks:
            return
        eligible = len(p.roster)
        rows = []
        for wk in weeks:
            k = (wk - first).days // 7
            if p.compliance:
                share = min(0.95, 0.55 + 0.05 * k)
            elif p.rounds and p.rounds[-1].verdict == "pass":
                share = min(0.9, 0.25 + 0.08 * k)
            else:
                share = max(0.1, 0.5 - 0.04 * k)
            active = max(0, min(eligible, int(eligible * share * self.rng.uniform(0.93, 1.05))))
            rows.append((wk, active, eligible))
        content = "week_start,active_users,eligible_users\n" + "".join(
            f"{wk.isoformat()},{a},{e}\n" for wk, a, e in rows)
        raw = content.encode("utf-8")
        sha = hashlib.sha256(raw).hexdigest()
        fid = self.next_id("source_file")
        filename = f"usage-export-{rt.id}-{n + 1}.csv"
        who = p.team[-1]
        self.w.add("source_file", (fid, rt.id, "usage", filename, sha, len(raw), len(rows), who, db_ts(t)))
        for wk, a, e in rows:
            self.w.add("usage_week", (self.next_id("usage_week"), rt.id, wk.isoformat(), a, e, fid))
        rt.usage += rows
        self.log(who, "usage.imported", "source_file", fid,
                 after={"pilot_id": rt.id, "filename": filename, "sha256": sha,
                        "weeks": [wk.isoformat() for wk, _, _ in rows]})

    def _metric_value(self, p: PilotP, m: SimpleNamespace) -> float:
        good = p.on_target
        factor = self.rng.uniform(1.0, 1.08) if good else self.rng.uniform(0.75, 0.97)
        if m.direction == "lower_is_better":
            factor = 2 - factor
        value = m.target * factor
        if m.unit == "percent":
            value = min(100.0, value)
        return round(value, 2)

    def _measure(self, rt: PilotRT, mid: int, *, metric: bool, value: float, observed: date, source: str,
                 file: tuple[int, str, str] | None, who: int, t: int) -> None:
        row_id = self.next_id("measurement")
        self.w.add("measurement", (row_id, rt.id, None if metric else mid, mid if metric else None, value,
                                   observed.isoformat(), source, file[0] if file else None, who, db_ts(t)))
        latest = {"value": value, "observed_on": observed.isoformat(), "source": source,
                  "source_sha256": file[1] if file else None, "source_file": file[2] if file else None}
        key = (observed.isoformat(), row_id)
        store = rt.latest_metric if metric else self.criterion_latest
        old = store.get(mid)
        if old is None or key > old[0]:
            store[mid] = (key, latest)

    def act_measure(self, p: PilotP, k: int) -> None:
        rt: PilotRT = p.rt
        who = p.team[k % len(p.team)]
        for m in rt.metrics:
            t = self.now()
            observed = day_of(t) - timedelta(days=self.rng.randint(0, 3))
            observed = max(observed, day_of(p.t_reg))
            value = self._metric_value(p, m)
            self._measure(rt, m.id, metric=True, value=value, observed=observed, source="entered", file=None,
                          who=who, t=t)
            self.log(who, "measurement.recorded", "measurement", self.ids["measurement"],
                     after={"pilot_id": rt.id, "measure": m.name, "value": value,
                            "observed_on": observed.isoformat(), "source": "entered"})

    def act_measure_import(self, p: PilotP, k: int) -> None:
        rt: PilotRT = p.rt
        crits = [c for c in rt.version.criteria if not c.is_indispensability]
        if not crits:
            return
        t = self.now()
        who = p.team[0]
        observed = day_of(t) - timedelta(days=1)
        rows = []
        for c in crits:
            good = p.on_target != (c.name.startswith("Errors"))
            factor = self.rng.uniform(1.0, 1.1) if good else self.rng.uniform(0.8, 0.97)
            if c.direction == "lower_is_better":
                factor = 2 - factor
            value = round(c.target * factor, 3)
            if c.unit == "share":
                value = min(1.0, value)
            if c.unit == "rating_1_5":
                value = min(5.0, max(1.0, value))
            rows.append((c, value))
        content = "measure,observed_on,value\n" + "".join(f"{c.name},{observed.isoformat()},{v}\n"
                                                          for c, v in rows)
        raw = content.encode("utf-8")
        sha = hashlib.sha256(raw).hexdigest()
        fid = self.next_id("source_file")
        filename = f"criteria-{rt.id}-{k + 1}.csv"
        self.w.add("source_file", (fid, rt.id, "measurements", filename, sha, len(raw), len(rows), who,
                                   db_ts(t)))
        for c, value in rows:
            self._measure(rt, c.id, metric=False, value=value, observed=observed, source="imported",
                          file=(fid, sha, filename), who=who, t=t)
        self.log(who, "measurements.imported", "source_file", fid,
                 after={"pilot_id": rt.id, "filename": filename, "sha256": sha, "rows": len(rows)})

    def act_feedback(self, p: PilotP, raiser: int, kind: str, body: str, t_resp: int | None, responder: int,
                     response: str) -> None:
        rt: PilotRT = p.rt
        t = self.now()
        fid = self.next_id("feedback_item")
        due = add_working_days(day_of(t), self.charter.feedback_response_working_days)
        self.w.add("feedback_item", (fid, rt.id, raiser, db_ts(t), kind, body, due.isoformat(), None, None,
                                     None))
        rt.feedback[(raiser, t_resp, body)] = (fid, due)
        self.log(raiser, "feedback.raised", "feedback_item", fid,
                 after={"pilot_id": rt.id, "kind": kind, "body": body, "due_on": due.isoformat()})

    def respond_feedback(self, p: PilotP, args: tuple[Any, ...]) -> None:
        raiser, _kind, body, t_resp, responder, response = args
        fid, due = p.rt.feedback[(raiser, t_resp, body)]
        t = self.now()
        late = day_of(t) > due
        self.feedback_updates.append((response, responder, db_ts(t), fid))
        self.log(responder, "feedback.responded", "feedback_item", fid,
                 after={"response": response, "late": late, "due_on": due.isoformat()})

    def act_amend_metric(self, p: PilotP, index: int, who: int) -> None:
        rt: PilotRT = p.rt
        m = rt.metrics[index]
        new = round(m.target * (0.9 if m.direction == "higher_is_better" else 1.1), 2)
        if m.unit == "percent":
            new = min(100.0, new)
        before = {"target": m.target}
        m.target = new
        _, digest = canonical_metrics(rt.id, rt.metrics)
        t = self.now()
        why = "The vendor's baseline was measured on a different case mix; target re-based."
        aid = self.next_id("amendment")
        self.w.add("amendment", (aid, None, m.id, canonical_json(before), canonical_json({"target": new}), why,
                                 AmendmentStatus.APPLIED.value, who, db_ts(t), db_ts(t), True, digest))
        a = SimpleNamespace(id=aid, criterion_id=None, metric_id=m.id, before_json=canonical_json(before),
                            after_json=canonical_json({"target": new}), reason=why,
                            status=AmendmentStatus.APPLIED.value, after_real_use=True, decided_at=t)
        rt.amendments.append(a)
        self.log(who, "metric.amended", "commissioning_metric", m.id, before=before, after={"target": new},
                 reason=why, amendment_id=aid, after_real_use=True, pilot_id=rt.id, metrics_sha256=digest)

    def act_claim(self, p: PilotP, who: int, success: bool, cite_unknown: bool) -> None:
        rt: PilotRT = p.rt
        names = [m.name for m in rt.metrics[:2]]
        if cite_unknown:
            names.append("Staff satisfaction")
        crit = [c for c in rt.version.criteria if not c.is_indispensability]
        if crit and self.rng.random() < 0.3:
            names.append(crit[0].name)
        citations = [self._citation(rt, n) for n in names]
        decision = None if rt.decision is None else SimpleNamespace(id=rt.decision[0], outcome=rt.decision[1])
        checks = {"citations": citations, **decision_check(rt.decision[0] if rt.decision else None,
                                                              rt.decision[1] if rt.decision else None, success)}
        checks["flags"] = flags(checks)
        statement = ("The pilot met its KPIs and is ready to scale." if success
                     else "The pilot did not deliver what was promised.")
        cid = self.next_id("claim")
        self.w.add("claim", (cid, rt.id, who, db_ts(self.now()), statement, success, canonical_json(names),
                             canonical_json(checks), None if decision is None else decision.id))
        self.log(who, "claim.recorded", "claim", cid,
                 after={"pilot_id": rt.id, "statement": statement, "asserts_success": success, "cited": names,
                        "flags": checks["flags"]})

    def _citation(self, rt: PilotRT, name: str) -> dict[str, Any]:
        started = rt.real_use_started_at
        for m in rt.metrics:
            if m.name.lower() == name.lower():
                amended = any(a.metric_id == m.id for a in rt.amendments)
                return {"cited": name, "kind": "commissioning metric", "id": m.id, "known": True,
                        "pre_registered": started is not None and m.created_at <= started,
                        "amended_after_real_use": amended}
        for c in rt.version.criteria:
            if c.name.lower() == name.lower():
                lock = rt.version.lock
                amended = any(a.criterion_id == c.id and a.status == "applied" and a.after_real_use
                              for a in rt.version.amendments)
                return {"cited": name, "kind": "frontline criterion", "id": c.id, "known": True,
                        "pre_registered": lock is not None and started is not None and lock["t"] <= started,
                        "amended_after_real_use": amended}
        return {"cited": name, "kind": "unknown", "id": None, "known": False, "pre_registered": False,
                "amended_after_real_use": False}

    # ---------------------------------------------------------------- surveys
    def round_stream(self, r: RoundP) -> Iterator[tuple[int, Callable[..., None], tuple[Any, ...]]]:
        yield (r.t_open, self.open_round, (r,))
        for item in r.plan or ():
            yield (item[0], self.respond, (r, item))
        r.plan = None
        if r.t_close is not None:
            yield (r.t_close, self.close_round, (r,))

    def open_round(self, r: RoundP) -> None:
        p = r.pilot
        rt: PilotRT = p.rt
        t = self.now()
        r.id = self.next_id("survey_round")
        self.w.add("survey_round", (r.id, rt.id, r.number, r.opener, db_ts(t), None, None))
        before = rt.state
        if rt.state == "in_use":
            rt.state, rt.evaluating_since = "evaluating", t
        self.log(r.opener, "survey.round_opened", "survey_round", r.id, before={"pilot_state": before},
                 after={"pilot_id": rt.id, "number": r.number, "pilot_state": rt.state})
        r.plan = self._plan_responses(r, t, rt)

    def _plan_responses(self, r: RoundP, t_open: int, rt: PilotRT) -> list[tuple[int, int, str, int, str]]:
        rng = random.Random(f"{self.pl.seed}-round-{rt.id}-{r.number}")
        n = min(r.count, r.size)
        people = rng.sample(list(r.pilot.roster), n)
        threshold = float(rt.version.indispensability().target)
        if r.verdict == "pass":
            share = rng.uniform(max(threshold + 0.05, 0.45), 0.8)
            very = min(n, max(math.ceil(threshold * n - 1e-9), round(share * n)))
        elif r.verdict == "fail":
            share = rng.uniform(0.05, max(0.06, threshold - 0.12))
            very = min(int(share * n), max(0, math.ceil(threshold * n - 1e-9) - 1))
        else:
            very = int(n * rng.uniform(0.3, 0.6))
        answers = [VERY] * very + [rng.choice(ANSWERS[1:]) for _ in range(n - very)]
        rng.shuffle(answers)
        end = (r.t_close if r.t_close is not None else self.pl.t_end) - 2 * MINUTE
        lo = t_open + MINUTE
        changers = set(rng.sample(range(n), min(n, r.changes)))
        plan = []
        for i, (pid, answer) in enumerate(zip(people, answers, strict=True)):
            if i in changers:
                t1 = uniform(rng, lo, lo + (end - lo) * 0.6)
                t2 = uniform(rng, t1 + MINUTE, end)
                first = rng.choice([a for a in ANSWERS if a != answer])
                plan.append((t1, pid, first, 1, ""))
                plan.append((t2, pid, answer, 2, first))
            else:
                plan.append((uniform(rng, lo, end), pid, answer, 0, ""))
        plan.sort()
        return plan

    def respond(self, r: RoundP, item: tuple[int, int, str, int, str]) -> None:
        _, pid, answer, kind, previous = item
        rng = self.rng
        t = self.now()
        rid = self.next_id("survey_response")
        sus: list[int | None] = [None] * 10
        score = None
        if rng.random() < 0.6:
            good = answer == VERY
            sus = [rng.randint(3, 5) if (i % 2 == 0) == good else rng.randint(1, 3) for i in range(10)]
            score = sus_score(sus)
        current = kind != 1
        self.w.add("survey_response", (rid, r.id, pid, answer, *sus, score, rng.choice(texts.INSTEAD),
                                       rng.choice(texts.BENEFIT), db_ts(t), current))
        score_json = "null" if score is None else repr(float(score))
        after = f'{{"answer":"{answer}","round_id":{r.id},"sus_score":{score_json}}}'
        if kind == 2:
            first_id = r.first_ids.pop(pid)
            payload = (f'{{"after":{after},"before":{{"answer":"{previous}","response_id":{first_id}}}}}')
            action = "survey.response_revised"
        else:
            payload = f'{{"after":{after},"before":null}}'
            action = "survey.response_given"
        if kind == 1:
            r.first_ids[pid] = rid
        else:
            r.current[pid] = answer
            r.answers[answer] = r.answers.get(answer, 0) + 1
            if score is not None:
                r.sus_sum += score
                r.sus_n += 1
        self.append(pid, action, "survey_response", rid, payload)

    def close_round(self, r: RoundP) -> None:
        rt: PilotRT = r.pilot.rt
        r.t_close = self.now()
        r.closed = True
        rt.closed_rounds.append(r)
        self.log(r.closer, "survey.round_closed", "survey_round", r.id,
                 after={"pilot_id": rt.id, "number": r.number})

    def _evidence(self, rt: PilotRT, charter: SimpleNamespace) -> tuple[SurveyEvidence, dict[str, Any]]:
        """``governance.storage.repository.survey_evidence(closed_only=True)`` from the runtime counts."""
        crit = rt.version.indispensability()
        threshold = float(crit.target)
        minimum_n = max(int(crit.minimum_evidence), charter.min_survey_responses)
        if not rt.closed_rounds:
            ev = SurveyEvidence(None, None, False, indispensability(0, 0, threshold, minimum_n), None, 0,
                                {a: 0 for a in ANSWERS})
            return ev, ev.as_dict()
        r = rt.closed_rounds[-1]
        n = sum(r.answers.values())
        counts = {a: r.answers.get(a, 0) for a in ANSWERS}
        ev = SurveyEvidence(r.id, r.number, True, indispensability(counts[VERY], n, threshold, minimum_n),
                            (r.sus_sum / r.sus_n) if r.sus_n else None, r.sus_n, counts)
        return ev, ev.as_dict()

    # ------------------------------------------------------------------ votes
    def vote_stream(self, v: VoteP) -> Iterator[tuple[int, Callable[..., None], tuple[Any, ...]]]:
        yield (v.t_open, self.open_vote, (v,))
        for item in v.plan or ():
            yield (item[0], self.cast, (v, item))
        v.plan = None
        if v.t_close is not None:
            yield (v.t_close, self.close_vote, (v,))

    def _electorate(self, v: VoteP) -> dict[int, str]:
        pl = self.pl
        pb = v.problem
        panel = [pid for pid in pl.members[pb.panel] if self.person_active[pid]]
        if v.kind != VoteKind.OUTCOME.value:
            return {pid: "frontline" for pid in panel}
        electorate = {pid: "steering" for pid in pl.steering if self.person_active[pid]}
        electorate.update({pid: "frontline" for pid in panel})
        electorate.update({pid: "commissioning" for pid in v.pilot.team})
        return electorate

    def open_vote(self, v: VoteP) -> None:
        pb = v.problem
        rt_pb: ProblemRT = pb.rt
        charter = self.charter
        v.charter = charter
        t = self.now()
        v.t_open_actual = t
        if v.kind == VoteKind.OUTCOME.value:
            p = v.pilot
            rt: PilotRT = p.rt
            assert rt.state in ("in_use", "evaluating"), f"pilot {p.idx} is {rt.state} at its vote"
            evidence, v.evidence = self._evidence(rt, charter)
            passed = evidence.indispensability.passed
            v.proposed = None if passed else Outcome.REVISIT_PROBLEM.value
            v.adopt_available = passed or charter.allow_adopt_override
            if v.winner == Outcome.ADOPT.value and not v.adopt_available:
                self.stats["plan_mismatch"] += 1
                v.winner = Outcome.ITERATE.value
            question = (f"What should happen to '{p.title}': adopt, iterate, revisit the problem, or stop?")
            version_id, pilot_id, amendment_id = rt.version.id, rt.id, None
            evidence_json = canonical_json(v.evidence)
            if rt.state == "in_use":
                rt.state, rt.evaluating_since = "evaluating", t
        else:
            ver = rt_pb.version
            assert ver.version == v.version_no, "panel vote on an unexpected version"
            v.adopt_available, v.proposed, evidence_json, pilot_id = False, None, None, None
            amendment_id = None
            if v.kind == VoteKind.RATIFY_PROBLEM.value:
                assert rt_pb.state in ("draft", "reopened")
                question = f"Ratify the problem '{ver.title}' (version {ver.version})?"
            elif v.kind == VoteKind.LOCK_CRITERIA.value:
                assert rt_pb.state == "ratified" and ver.lock is None
                question = (f"Lock the {len(ver.criteria)} success criteria of '{ver.title}'? After this, "
                            "changes need a reason and a panel vote.")
            else:
                amendment_id, question = self._propose_amendment(pb, v, ver)
            version_id = ver.id
        v.id = self.next_id("vote")
        electorate = self._electorate(v)
        self.w.add("vote", (v.id, v.kind, pilot_id, version_id, amendment_id, pb.panel + 1, question, charter.id,
                            v.proposed, v.adopt_available, evidence_json, v.opener, db_ts(t), db_ts(v.deadline),
                            "open", None, None, None, None, None, None))
        counts: dict[str, int] = {}
        for pid, g in electorate.items():
            self.w.add("vote_eligibility", (v.id, pid, g))
            counts[g] = counts.get(g, 0) + 1
        v.eligible = {g: counts.get(g, 0) for g in GROUPS}
        self.log(v.opener, "vote.opened", "vote", v.id,
                 after={"kind": v.kind, "pilot_id": pilot_id, "problem_version_id": version_id,
                        "amendment_id": amendment_id, "question": question, "deadline": z_ts(v.deadline),
                        "proposed_outcome": v.proposed, "adopt_available": v.adopt_available,
                        "charter_id": charter.id, "eligible": counts})
        v.plan = self._plan_ballots(v, electorate, t)

    def _propose_amendment(self, pb: ProblemP, v: VoteP, ver: VersionRT) -> tuple[int, str]:
        assert ver.lock is not None
        spec = pb.criteria[pb.amend_criterion][1]
        c = next(c for c in ver.criteria if c.name == spec[0])
        why = "The baseline was measured in winter; the panel wants a fairer target for the whole year."
        cleaned = {"target": float(v.amend_target)}
        t = self.now()
        aid = self.next_id("amendment")
        before_json = canonical_json({"target": c.target})
        after_json = canonical_json(cleaned)
        self.w.add("amendment", (aid, c.id, None, before_json, after_json, why, AmendmentStatus.PROPOSED.value,
                                 pb.amend_proposer, db_ts(t), None, False, None))
        v.amendment = SimpleNamespace(id=aid, criterion_id=c.id, metric_id=None, before_json=before_json,
                                      after_json=after_json, reason=why, status=AmendmentStatus.PROPOSED.value,
                                      decided_at=None, after_real_use=False, resulting_sha256=None)
        ver.amendments.append(v.amendment)
        self.log(pb.amend_proposer, "amendment.proposed", "amendment", aid,
                 after={"criterion_id": c.id, "changes": cleaned, "reason": why})
        summary = ", ".join(f"{k} → {val}" for k, val in cleaned.items())
        v.opener = pb.amend_proposer
        return aid, f"Amend '{c.name}' ({summary})? Reason: {why}"

    def _plan_ballots(self, v: VoteP, electorate: dict[int, str], t_open: int
                      ) -> list[tuple[int, int, str, str, int, str]]:
        rng = random.Random(f"{self.pl.seed}-vote-{v.id}")
        by_group: dict[str, list[int]] = {}
        for pid, g in electorate.items():
            by_group.setdefault(g, []).append(pid)
        if v.kind == VoteKind.OUTCOME.value:
            options = [o for o in OUTCOMES if o != Outcome.ADOPT.value or v.adopt_available]
            winner = v.winner
        else:
            options = ["approve", "reject"]
            winner = "approve" if v.passes else "reject"
        voters: list[tuple[int, str, str]] = []
        for g, members in by_group.items():
            c = min(len(members), v.counts.get(g, 0))
            chosen = rng.sample(members, c)
            if winner is None:
                opts = [rng.choice(options) for _ in chosen]
            else:
                n_win = min(c, max(c // 2 + 1, math.ceil(c * rng.uniform(0.55, 0.85))))
                others = [o for o in options if o != winner]
                opts = [winner] * n_win + [rng.choice(others) for _ in range(c - n_win)]
                rng.shuffle(opts)
            voters += [(pid, g, o) for pid, o in zip(chosen, opts, strict=True)]
        if v.t_close is None:  # still open at the end of the timeline (its deadline may have passed)
            end = min(self.pl.t_end, v.deadline) - 2 * MINUTE
        elif v.closer_system:
            end = v.deadline - 2 * MINUTE
        else:
            end = v.t_close - 2 * MINUTE
        lo = t_open + MINUTE
        changers = set(rng.sample(range(len(voters)), min(len(voters), v.changes)))
        plan = []
        for i, (pid, g, o) in enumerate(voters):
            if i in changers:
                t1 = uniform(rng, lo, lo + (end - lo) * 0.6)
                t2 = uniform(rng, t1 + MINUTE, end)
                first = rng.choice([x for x in options if x != o])
                plan.append((t1, pid, g, first, 1, ""))
                plan.append((t2, pid, g, o, 2, first))
            else:
                plan.append((uniform(rng, lo, end), pid, g, o, 0, ""))
        plan.sort()
        return plan

    def cast(self, v: VoteP, item: tuple[int, int, str, str, int, str]) -> None:
        _, pid, group, option, kind, previous = item
        t = self.now()
        bid = self.next_id("ballot")
        self.w.add("ballot", (bid, v.id, pid, group, option, db_ts(t), kind != 1))
        after = f'{{"group":"{group}","option":"{option}","vote_id":{v.id}}}'
        if kind == 2:
            first_id = v.first_ids.pop(pid)[0]
            payload = f'{{"after":{after},"before":{{"ballot_id":{first_id},"option":"{previous}"}}}}'
            action = "ballot.changed"
        else:
            payload = f'{{"after":{after},"before":null}}'
            action = "ballot.cast"
        if kind == 1:
            v.first_ids[pid] = (bid, option)
        else:
            v.current[pid] = (group, option, t)
        self.append(pid, action, "ballot", bid, payload)

    def _tally(self, v: VoteP) -> Any:
        c = v.charter
        if v.kind == VoteKind.OUTCOME.value:
            return tally_outcome(
                ((g, o) for g, o, _ in v.current.values()), eligible=v.eligible,
                weights={"frontline": c.weight_frontline, "commissioning": c.weight_commissioning,
                         "steering": c.weight_steering},
                quorums={"frontline": c.quorum_frontline, "commissioning": c.quorum_commissioning,
                         "steering": c.quorum_steering},
                frontline_veto=c.frontline_veto, adopt_available=v.adopt_available, proposed=v.proposed)
        return tally_panel((o for _, o, _ in v.current.values()), eligible=v.eligible["frontline"],
                           quorum=c.quorum_frontline)

    def close_vote(self, v: VoteP) -> None:
        tally = self._tally(v)
        result = tally.as_dict()
        v.closed_at = self.now()
        v.result_json = canonical_json(result)
        v.quorum_met = tally.quorum_met
        v.outcome = None
        v.passed = None
        actor = None if v.closer_system else v.closer
        self.log(actor, "vote.closed", "vote", v.id,
                 after={"kind": v.kind, "winner": tally.winner, "quorum_met": tally.quorum_met,
                        "at_deadline": actor is None, "tally": result})
        if v.kind == VoteKind.OUTCOME.value:
            expected = v.winner if v.meets_quorum else None
            if tally.winner != expected:
                raise AssertionError(f"vote {v.id}: tally winner {tally.winner}, planned {expected}")
            self._declare(v, tally, actor)
        else:
            expected = ("approve" if v.passes else "reject")
            if tally.winner != expected:
                raise AssertionError(f"panel vote {v.id}: tally winner {tally.winner}, planned {expected}")
            self._apply_panel(v, tally, actor)
        v.current = {}
        v.first_ids = {}

    def _apply_panel(self, v: VoteP, tally: Any, actor: int | None) -> None:
        v.passed = tally.passed
        rt_pb: ProblemRT = v.problem.rt
        ver = rt_pb.versions[v.version_no]
        assert v.kind == VoteKind.AMEND_CRITERION.value or ver is rt_pb.version
        if v.kind == VoteKind.AMEND_CRITERION.value:
            a = v.amendment
            t = self.now()
            if tally.passed:
                c = next(c for c in ver.criteria if c.id == a.criterion_id)
                before = criterion_record(c)
                c.target = json.loads(a.after_json)["target"]
                a.status = AmendmentStatus.APPLIED.value
                a.decided_at = t
                a.after_real_use = ver.real_use_began
                _, a.resulting_sha256 = canonical_criteria(ver.problem_id, ver.version, ver.criteria)
                self.log(actor, "criterion.amended", "criterion", c.id, before=before, after=criterion_record(c),
                         amendment_id=a.id, reason=a.reason, vote_id=v.id, after_real_use=a.after_real_use,
                         criteria_sha256=a.resulting_sha256)
            else:
                a.status = AmendmentStatus.REJECTED.value
                a.decided_at = t
                self.log(actor, "amendment.rejected", "amendment", a.id, after={"vote_id": v.id})
            return
        if not tally.passed:
            return
        if v.kind == VoteKind.RATIFY_PROBLEM.value:
            before = rt_pb.state
            assert before in ("draft", "reopened")
            rt_pb.state = ProblemState.RATIFIED.value
            ver.ratified_at = self.now()
            ver.ratified_by_vote_id = v.id
            self.log(actor, "problem.ratified", "problem", rt_pb.id, before={"state": before},
                     after={"state": rt_pb.state, "version": ver.version}, vote_id=v.id)
        else:
            assert rt_pb.state == "ratified" and ver.lock is None
            body, digest = canonical_criteria(ver.problem_id, ver.version, ver.criteria)
            lid = self.next_id("criteria_lock")
            t = self.now()
            self.w.add("criteria_lock", (lid, ver.id, actor, db_ts(t), v.id, digest, body))
            ver.lock = {"id": lid, "sha256": digest, "t": t, "json": body}
            self.log(actor, "criteria.locked", "criteria_lock", lid,
                     after={"problem_id": rt_pb.id, "version": ver.version, "criteria_sha256": digest},
                     vote_id=v.id)

    def _declare(self, v: VoteP, tally: Any, actor: int | None) -> None:
        if tally.winner is None:
            v.passed = False
            return
        p = v.pilot
        rt: PilotRT = p.rt
        evidence = v.evidence
        passed = bool(evidence and evidence["indispensability"]["passed"])
        outcome = tally.winner
        override = outcome == Outcome.ADOPT.value and not passed
        assert not override, "adopt without the threshold (R9)"
        basis = self._basis(v, rt, tally, evidence, override, actor)
        body = canonical_json(basis)
        head_seq, head_hash = self.seq, self.prev
        did = self.next_id("decision")
        t = self.now()
        self.w.add("decision", (did, v.id, rt.id, outcome, body, hashlib.sha256(body.encode("utf-8")).hexdigest(),
                                override, actor, db_ts(t), head_seq, head_hash))
        v.passed = True
        v.outcome = outcome
        before = rt.state
        rt.state, rt.outcome, rt.decided_at = "decided", outcome, self.now()
        rt.decision = (did, outcome)
        self.log(actor, "decision.declared", "decision", did, before={"pilot_state": before},
                 after={"pilot_id": rt.id, "outcome": outcome,
                        "basis_sha256": hashlib.sha256(body.encode("utf-8")).hexdigest(),
                        "adopt_override": override, "vote_id": v.id})
        if outcome == Outcome.REVISIT_PROBLEM.value:
            ind = evidence["indispensability"] if evidence else None
            reason = (f"Decision #{did} on '{rt.title}': revisit the problem"
                      + (f" — indispensability {ind['text']}." if ind else "."))
            self._reopen(v.problem, rt, actor, reason)

    def _reopen(self, pb: ProblemP, pilot: PilotRT, actor: int | None, reason: str) -> None:
        rt: ProblemRT = pb.rt
        old = rt.version
        assert rt.state != ProblemState.RETIRED.value
        if rt.state == ProblemState.REOPENED.value:
            self.stats["reopen_linked"] += 1
            self.log(actor, "problem.reopen_linked", "problem", rt.id,
                     after={"version": old.version, "pilot_id": pilot.id, "reopening_id": old.reopening_id})
            return
        t = self.now()
        new = VersionRT(self.next_id("problem_version"), rt.id, old.version + 1, old.title, old.statement,
                        actor if actor is not None else old.created_by, t)
        rt.versions[new.version] = new
        self._version_row(new)
        for c in sorted(old.criteria, key=lambda c: c.name):
            spec = (c.name, c.definition, c.measurement_method, c.unit, c.direction, c.target,
                    c.minimum_evidence)
            self._criterion(new, spec, c.created_by, t, indispensable=c.is_indispensability)
        rid = self.next_id("problem_reopening")
        self.w.add("problem_reopening", (rid, new.id, pilot.id, reason, actor, db_ts(t)))
        new.reopening_id = rid
        before = rt.state
        rt.state = ProblemState.REOPENED.value
        rt.current = new.version
        self.stats["reopened"] += 1
        self.log(actor, "problem.reopened", "problem", rt.id, before={"state": before, "version": old.version},
                 after={"state": rt.state, "version": new.version}, pilot_id=pilot.id, reason=reason)

    def _basis(self, v: VoteP, rt: PilotRT, tally: Any, evidence: dict[str, Any] | None, override: bool,
               actor: int | None) -> dict[str, Any]:
        """``services.votes._basis`` from the runtime state."""
        pl = self.pl
        ver = rt.version
        lock = ver.lock
        charter = v.charter
        metrics = []
        amended_metrics = {a.metric_id for a in rt.amendments if a.after_real_use and a.status == "applied"}
        for m in sorted(rt.metrics, key=lambda m: m.name):
            latest = rt.latest_metric.get(m.id)
            value = latest[1] if latest else None
            metrics.append({"id": m.id, "name": m.name, "unit": m.unit, "direction": m.direction,
                            "target": m.target, "latest": value,
                            "on_target": None if value is None else meets_target(value["value"], m.target,
                                                                                  m.direction),
                            "amended_after_real_use": m.id in amended_metrics})
        amended_criteria = {a.criterion_id for a in ver.amendments if a.after_real_use and a.status == "applied"}
        criteria = []
        for c in sorted(ver.criteria, key=lambda c: (not c.is_indispensability, c.name)):
            latest = self.criterion_latest.get(c.id)
            value = latest[1] if latest else None
            criteria.append({"id": c.id, "name": c.name, "unit": c.unit, "direction": c.direction,
                             "target": c.target, "minimum_evidence": c.minimum_evidence,
                             "is_indispensability": c.is_indispensability, "latest": value,
                             "on_target": None if value is None else meets_target(value["value"], c.target,
                                                                                   c.direction),
                             "amended_after_real_use": c.id in amended_criteria})
        amendments = sorted([a for a in ver.amendments if a.status == "applied"]
                            + [a for a in rt.amendments if a.status == "applied"], key=lambda a: a.id)
        usage = None
        if rt.usage:
            wk, active, eligible = max(rt.usage)
            usage = {"week_start": wk.isoformat(), "active_users": active, "eligible_users": eligible,
                     "adoption": active / eligible if eligible else None}
        voters = sorted(((g, pl.names[pid], pid, o, t) for pid, (g, o, t) in v.current.items()))
        terms = {k: charter.terms[k] for k in (
            "weight_frontline", "weight_commissioning", "weight_steering", "quorum_frontline",
            "quorum_commissioning", "quorum_steering", "frontline_veto", "evaluation_window_days",
            "min_survey_responses", "indispensability_threshold", "allow_adopt_override",
            "feedback_response_working_days", "country") if k in charter.terms}
        return {
            "pilot": {"id": rt.id, "title": rt.title, "owner_id": rt.owner_id,
                      "real_use_started_at": z_ts(rt.real_use_started_at)},
            "problem": {"id": v.problem.rt.id, "version": ver.version, "title": ver.title},
            "locked_criteria": {"sha256": lock["sha256"] if lock else None,
                                "locked_at": z_ts(lock["t"]) if lock else None,
                                "criteria": json.loads(lock["json"])["criteria"] if lock else []},
            "commissioning_metrics": {"sha256_at_real_use": rt.metrics_sha256, "latest": metrics},
            "frontline_criteria_latest": criteria,
            "amendments": [{"id": a.id, "criterion_id": a.criterion_id, "metric_id": a.metric_id,
                            "before": json.loads(a.before_json), "after": json.loads(a.after_json),
                            "reason": a.reason, "after_real_use": a.after_real_use,
                            "applied_at": z_ts(a.decided_at)} for a in amendments],
            "indispensability": evidence["indispensability"] if evidence else None,
            "survey_round": evidence["round_number"] if evidence else None,
            "sus_mean": evidence["sus_mean"] if evidence else None,
            "sus_n": evidence["sus_n"] if evidence else 0,
            "adoption": usage,
            "tally": tally.as_dict(),
            "voters": [{"person_id": pid, "name": name, "group": g, "option": o, "cast_at": z_ts(t)}
                       for g, name, pid, o, t in voters],
            "eligible": dict(v.eligible),
            "charter": {"version": charter.version, "terms": terms},
            "adopt_override": override,
            "proposed_outcome": v.proposed,
            "vote": {"id": v.id, "opened_at": z_ts(v.t_open_actual), "deadline": z_ts(v.deadline),
                     "closed_at": z_ts(v.closed_at)},
            "closed_by": {"person_id": actor, "name": pl.names[actor]} if actor is not None else
                         {"person_id": None, "name": "system (deadline passed)"},
            "audit_chain_head": {"seq": self.seq, "hash": self.prev},
        }


# --------------------------------------------------------------------------- main
def default_url(scale: str) -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{OUT_DIR / f'{scale}.db'}"


def prepare_database(url: str, *, reset: bool) -> None:
    """A migrated, empty database at ``url`` (recreated when ``reset``)."""
    from governance.storage.db import Database

    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        path = Path(u.database or "")
        if reset:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
    elif reset:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    db = Database(url)
    try:
        db.upgrade()
        with db.engine.connect() as conn:
            people = conn.execute(text("SELECT count(*) FROM person")).scalar_one()
            events = conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
        if people or events:
            raise SystemExit(f"{u.render_as_string(hide_password=True)} is not empty ({people} people, "
                             f"{events} audit events); the generator needs an empty database (--reset).")
    finally:
        db.dispose()


def generate(scale: Scale | str, url: str | None = None, *, reset: bool = False, seed: int = 20261121,
             end: datetime | None = None, strict: bool | None = None, analyze: bool | None = None,
             log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Build the organisation of ``scale`` into ``url``; returns a report (times, counts)."""
    if isinstance(scale, str):
        scale = SCALES[scale]
    url = url or default_url(scale.name)
    say = log or (lambda _m: None)
    default_sqlite = url == f"sqlite:///{OUT_DIR / f'{scale.name}.db'}"
    started = time.perf_counter()
    prepare_database(url, reset=reset or default_sqlite)
    t_migrated = time.perf_counter()
    # The timeline ends just before now (on the hour), so the product's own clock carries on from it.
    end = end or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    t_end = to_us(end)
    t_start = t_end - scale.days * DAY
    planner = Planner(scale, t_start, t_end, seed)
    planner.plan_people()
    planner.plan_panels()
    planner.plan_problems()
    planner.plan_pilots()
    planner.validate()
    planner.allocate()
    t_planned = time.perf_counter()
    say(f"planned in {t_planned - t_migrated:.1f}s; ballots {planner.stats['ballots']}, "
        f"responses {planner.stats['survey_responses']}")
    dialect = make_url(url).get_backend_name()
    writer = BulkWriter(url)
    emitter = Emitter(planner, writer, strict=scale.name == "smoke" if strict is None else strict)
    try:
        emitter.run()
        t_emitted = time.perf_counter()
        emitter.finish()
        writer.finish(analyze=(dialect == "postgresql") if analyze is None else analyze)
    except BaseException:
        writer.abort()
        raise
    done = time.perf_counter()
    states: dict[str, int] = {}
    outcomes: dict[str, int] = {}
    for p in planner.pilots:
        if p.rt is not None:
            states[p.rt.state] = states.get(p.rt.state, 0) + 1
            if p.rt.outcome:
                outcomes[p.rt.outcome] = outcomes.get(p.rt.outcome, 0) + 1
    problem_states: dict[str, int] = {}
    for pb in planner.problems:
        if pb.rt is not None:
            problem_states[pb.rt.state] = problem_states.get(pb.rt.state, 0) + 1
    return {
        "scale": scale.name,
        "url": make_url(url).render_as_string(hide_password=True),
        "engine": dialect,
        "seed": seed,
        "timeline": {"start": z_ts(t_start), "end": z_ts(t_end)},
        "seconds": round(done - started, 3),
        "phases_s": {"migrate": round(t_migrated - started, 3), "plan": round(t_planned - t_migrated, 3),
                     "emit": round(t_emitted - t_planned, 3), "finish": round(done - t_emitted, 3)},
        "rows": dict(writer.counts),
        "audit_events": emitter.seq,
        "targets": {"ballots": planner.stats["ballots"], "survey_responses": planner.stats["survey_responses"]},
        "pilot_states": states,
        "pilot_outcomes": outcomes,
        "problem_states": problem_states,
        "stats": emitter.stats,
        "accounts": {role: {"person_id": pid, "email": planner.emails[pid]}
                     for role, pid in planner.accounts.items()},
        "account_password": ACCOUNT_PASSWORD,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="smoke")
    parser.add_argument("--url", help="database URL (default: DATABASE_URL, else bench/out/<scale>.db)")
    parser.add_argument("--reset", action="store_true", help="empty the database first (drops its schema)")
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--end", help="end of the generated timeline, ISO date-time (default: now, on the hour, UTC)")
    parser.add_argument("--report", help="write the generation report (JSON) here")
    args = parser.parse_args(argv)
    end = datetime.fromisoformat(args.end).replace(tzinfo=UTC) if args.end else None
    report = generate(args.scale, args.url, reset=args.reset, seed=args.seed, end=end,
                      log=lambda m: print(m, file=sys.stderr, flush=True))
    body = json.dumps(report, indent=2)
    if args.report:
        Path(args.report).write_text(body + "\n", encoding="utf-8")
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
