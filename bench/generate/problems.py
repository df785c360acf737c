"""Problems as ``services.problems`` writes them: drafts, criteria, comments, retirement, and
the effects of passed panel votes (ratification, the lock, amendments) and of "revisit the
problem" decisions (a new version, R10)."""
from __future__ import annotations

import json
from typing import Any

from bench.bulk import db_ts
from bench.generate.people import PeopleEmitter
from bench.generate.state import AmendmentRT, CriterionRT, LockRT, PilotRT, ProblemRT, VersionRT
from bench.plan import ProblemP, VoteP
from governance.record.chain import canonical_json
from governance.record.events import problems as events
from governance.rules.prereg import (
    CRITERION_FIELDS,
    canonical_criteria,
    criterion_record,
    indispensability_spec,
    validate_criterion,
)
from governance.vocabulary import AmendmentStatus, ProblemState

RETIRE_REASON = "No longer a priority for the panel; its pilots are decided."
AMEND_REASON = "The baseline was measured in winter; the panel wants a fairer target for the whole year."


class ProblemEmitter(PeopleEmitter):
    """Problems, versions, criteria, locks and amendments."""

    def _criterion(self, version: VersionRT, fields: dict[str, Any], by: int, t: int, *,
                   indispensable: bool = False) -> CriterionRT:
        c = CriterionRT(self.next_id("criterion"), version.id, is_indispensability=indispensable, created_by=by,
                        created_at=t, **{f: fields[f] for f in CRITERION_FIELDS})
        version.criteria.append(c)
        return c

    def _cleaned(self, c: CriterionRT, changes: dict[str, Any]) -> dict[str, Any]:
        """``services.problems._cleaned_changes``: the changes, validated as the criterion they make."""
        floor = self.charter.terms.min_survey_responses if c.is_indispensability else 1
        cleaned = validate_criterion({**criterion_record(c), **changes}, indispensability=c.is_indispensability,
                                     min_evidence_floor=floor)
        return {k: cleaned[k] for k in changes}

    def draft_problem(self, pb: ProblemP) -> None:
        """``draft_problem``: version 1 with the indispensability criterion at the charter's threshold."""
        terms = self.charter.terms
        t = self.now()
        rt = pb.rt = ProblemRT(self.next_id("problem"), pb.panel + 1, pb.programme, pb.author, t)
        ver = VersionRT(self.next_id("problem_version"), rt.id, 1, pb.title, pb.statement, pb.author, t)
        rt.versions[1] = ver
        spec = indispensability_spec(terms.evaluation_window_days, terms.indispensability_threshold,
                                     terms.min_survey_responses)
        threshold = self._criterion(ver, spec, pb.author, t, indispensable=True)
        self.log(pb.author, events.problem_drafted(problem_id=rt.id, panel_id=pb.panel + 1, title=pb.title,
                                                   statement=pb.statement,
                                                   indispensability_threshold=threshold.target))

    def add_criterion(self, pb: ProblemP, spec: tuple[Any, ...]) -> None:
        rt: ProblemRT = pb.rt
        ver = rt.version
        author = self.rng.choice(self.pl.members[pb.panel])
        fields = validate_criterion(dict(zip(CRITERION_FIELDS, spec, strict=True)))
        c = self._criterion(ver, fields, author, self.now())
        self.log(author, events.criterion_added(criterion_id=c.id, problem_id=rt.id, version=ver.version,
                                                record=criterion_record(c)))

    def update_threshold(self, pb: ProblemP) -> None:
        """``update_criterion`` of the indispensability threshold before the lock."""
        rt: ProblemRT = pb.rt
        c = rt.version.indispensability()
        before = criterion_record(c)
        for key, value in self._cleaned(c, {"target": 0.5}).items():
            setattr(c, key, value)
        self.log(pb.author, events.criterion_updated(criterion_id=c.id, problem_id=rt.id, before=before,
                                                     after=criterion_record(c)))

    def comment(self, pb: ProblemP, who: int, body: str) -> None:
        cid = self.next_id("problem_comment")
        self.w.add("problem_comment", (cid, pb.rt.id, who, body, db_ts(self.now())))
        self.log(who, events.problem_commented(comment_id=cid, problem_id=pb.rt.id, body=body))

    def retire(self, pb: ProblemP) -> None:
        rt: ProblemRT = pb.rt
        assert rt.state != ProblemState.RETIRED, "retired twice"
        assert all(p.rt is None or p.rt.state == "decided" for p in pb.pilots), "retired with undecided pilots"
        before = rt.state
        rt.state = ProblemState.RETIRED
        self.log(pb.retirer, events.problem_retired(problem_id=rt.id, before_state=before, reason=RETIRE_REASON))

    # --------------------------------------------------- effects of panel votes
    def apply_ratification(self, pb: ProblemP, vote_id: int, actor: int | None) -> None:
        rt: ProblemRT = pb.rt
        assert rt.state in (ProblemState.DRAFT, ProblemState.REOPENED), f"ratifying a {rt.state} problem"
        ver = rt.version
        before = rt.state
        rt.state = ProblemState.RATIFIED
        ver.ratified_at, ver.ratified_by_vote_id = self.now(), vote_id
        self.log(actor, events.problem_ratified(problem_id=rt.id, before_state=before, version=ver.version,
                                                vote_id=vote_id))

    def apply_lock(self, pb: ProblemP, vote_id: int, actor: int | None) -> None:
        """R3 pre-registration: the criteria set frozen with its SHA-256."""
        rt: ProblemRT = pb.rt
        ver = rt.version
        assert rt.state == ProblemState.RATIFIED and ver.lock is None, "R3: lock of an unratified or locked set"
        body, digest = canonical_criteria(ver.problem_id, ver.version, ver.criteria_by_name())
        lid = self.next_id("criteria_lock")
        t = self.now()
        self.w.add("criteria_lock", (lid, ver.id, actor, db_ts(t), vote_id, digest, body))
        ver.lock = LockRT(lid, digest, body, t)
        self.log(actor, events.criteria_locked(lock_id=lid, problem_id=rt.id, version=ver.version,
                                               criteria_sha256=digest, vote_id=vote_id))

    def propose_amendment(self, pb: ProblemP, v: VoteP) -> tuple[AmendmentRT, CriterionRT, dict[str, Any]]:
        """``propose_amendment`` (R4): the amendment on record, before its panel vote opens."""
        ver = pb.rt.version
        assert ver.lock is not None, "R4: amending a criterion that is not locked"
        assert v.amendment_changes is not None
        name = pb.criteria[pb.amend_criterion][1][0]
        c = next(c for c in ver.criteria if c.name == name)
        cleaned = self._cleaned(c, v.amendment_changes)
        a = AmendmentRT(self.next_id("amendment"), c.id, None,
                        canonical_json({k: getattr(c, k) for k in cleaned}), canonical_json(cleaned), AMEND_REASON,
                        AmendmentStatus.PROPOSED, pb.amend_proposer, self.now())
        ver.amendments.append(a)
        self.log(pb.amend_proposer, events.amendment_proposed(amendment_id=a.id, criterion_id=c.id, changes=cleaned,
                                                              reason=AMEND_REASON))
        return a, c, cleaned

    def apply_amendment(self, pb: ProblemP, a: AmendmentRT, vote_id: int, actor: int | None) -> None:
        """A passed amendment applied; flagged if real use had begun on the version (R4)."""
        ver = next(v for v in pb.rt.versions.values() if any(c.id == a.criterion_id for c in v.criteria))
        c = next(c for c in ver.criteria if c.id == a.criterion_id)
        before = criterion_record(c)
        a.status, a.decided_at, a.after_real_use = AmendmentStatus.APPLIED, self.now(), ver.real_use_began()
        for key, value in json.loads(a.after_json).items():
            setattr(c, key, value)
        _, a.resulting_sha256 = canonical_criteria(ver.problem_id, ver.version, ver.criteria_by_name())
        self.log(actor, events.criterion_amended(criterion_id=c.id, before=before, after=criterion_record(c),
                                                 amendment_id=a.id, reason=a.reason, vote_id=vote_id,
                                                 after_real_use=a.after_real_use, criteria_sha256=a.resulting_sha256))

    def reject_amendment(self, a: AmendmentRT, vote_id: int, actor: int | None) -> None:
        a.status, a.decided_at = AmendmentStatus.REJECTED, self.now()
        self.log(actor, events.amendment_rejected(amendment_id=a.id, vote_id=vote_id))

    def reopen(self, pb: ProblemP, pilot: PilotRT, actor: int | None, reason: str) -> None:
        """``reopen_problem`` (R10): a new draft version with the criteria copied, linked to the pilot."""
        rt: ProblemRT = pb.rt
        old = rt.version
        assert rt.state != ProblemState.RETIRED, "reopening a retired problem"
        if rt.state == ProblemState.REOPENED:
            self.stats["reopen_linked"] += 1
            self.log(actor, events.problem_reopen_linked(problem_id=rt.id, version=old.version, pilot_id=pilot.id,
                                                         reopening_id=old.reopening_id))
            return
        t = self.now()
        new = VersionRT(self.next_id("problem_version"), rt.id, old.version + 1, old.title, old.statement,
                        actor if actor is not None else old.created_by, t)
        rt.versions[new.version] = new
        for c in old.criteria_by_name():
            self._criterion(new, criterion_record(c), c.created_by, t, indispensable=c.is_indispensability)
        new.reopening_id = self.next_id("problem_reopening")
        self.w.add("problem_reopening", (new.reopening_id, new.id, pilot.id, reason, actor, db_ts(t)))
        before = rt.state
        rt.state, rt.current_version = ProblemState.REOPENED, new.version
        self.stats["reopened"] += 1
        self.log(actor, events.problem_reopened(problem_id=rt.id, before_state=before, old_version=old.version,
                                                new_version=new.version, pilot_id=pilot.id, reason=reason))

    def finish_problems(self) -> None:
        """Every problem, version, criterion and criterion amendment, in its final state."""
        for pb in self.pl.problems:
            rt: ProblemRT | None = pb.rt
            if rt is None:
                continue
            self.put("problem", rt.row())
            for ver in rt.versions.values():
                self.put("problem_version", ver.row())
                for c in ver.criteria:
                    self.put("criterion", c.row())
                for a in ver.amendments:
                    self.put("amendment", a.row())
