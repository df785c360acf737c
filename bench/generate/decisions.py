"""Declarations and the signed record, as ``services.decisions``, ``services.checkpoints`` and
``governance.jobs`` write them: the decision with its basis frozen by ``rules.basis`` (R9),
the design signal (R10), a signed checkpoint at every declaration and at least daily (R18),
auditors' cosignatures, and the scheduled job's run log."""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.bulk import db_ts
from bench.generate.core import moment
from bench.generate.state import PilotRT, VoteRT
from bench.generate.surveys import Step
from bench.generate.votes import VoteEmitter, evidence_passed
from bench.plan import DAY, HOUR, VoteP
from governance.jobs import RunReport
from governance.record import checkpoints as notes
from governance.record.chain import canonical_json, sha256_hex
from governance.record.events import record as record_events, votes as events
from governance.rules.basis import BasisFacts, build_basis, roster_changes, voter_entry
from governance.rules.evidence import status_row
from governance.rules.voting import Tally
from governance.services.checkpoints import DAILY
from governance.vocabulary import AmendmentStatus, Outcome, PilotState

JOB_HOLDER = "bench-scheduler:1"
#: How often the scheduled job looks for a checkpoint to make (cron runs it every minute; an
#: hour is fine-grained enough for "at least daily").
JOB_TICK = HOUR


class DecisionEmitter(VoteEmitter):
    """Decisions, checkpoints, witnesses and the job log."""

    last_checkpoint: tuple[int, int] | None = None   # (made at, seq)
    latest_note = ""
    witness_keys: dict[int, Ed25519PrivateKey]
    pending_witness: list[tuple[int, int, str, int]]   # (due, checkpoint id, note, seq)

    def declare(self, v: VoteP, vr: VoteRT, tally: Tally, shown: dict[str, Any], digest: str,
                actor: int | None) -> None:
        """``decisions._declare``: the binding decision with its frozen basis, then a checkpoint."""
        p = v.pilot
        assert p is not None
        rt: PilotRT = p.rt
        passed = evidence_passed(vr)
        assert tally.winner is not None
        outcome = Outcome(tally.winner)
        override = outcome == Outcome.ADOPT and not passed
        basis = build_basis(self._facts(rt, vr, tally, shown, digest, actor, override))
        body = canonical_json(basis)
        did = self.next_id("decision")
        self.w.add("decision", (did, vr.id, rt.id, outcome.value, body, sha256_hex(body), override, actor,
                                db_ts(self.now()), basis["audit_chain_head"]["seq"], basis["audit_chain_head"]["hash"]))
        before = rt.state
        rt.state, rt.outcome, rt.decided_at = PilotState.DECIDED, outcome.value, self.now()
        rt.decision = (did, outcome.value)
        self.log(actor, events.decision_declared(decision_id=did, pilot_id=rt.id, before_state=before, outcome=outcome,
                                                 basis_sha256=sha256_hex(body), adopt_override=override,
                                                 vote_id=vr.id))
        if outcome == Outcome.REVISIT_PROBLEM:
            evidence = json.loads(vr.evidence_json) if vr.evidence_json else None
            ind = evidence["indispensability"] if evidence else None
            reason = (f"Decision #{did} on '{rt.title}': revisit the problem"
                      + (f" — indispensability {ind['text']}." if ind else "."))
            assert v.problem is not None
            self.reopen(v.problem, rt, actor, reason)
        self.make_checkpoint("declaration")

    def _facts(self, rt: PilotRT, vr: VoteRT, tally: Tally, shown: dict[str, Any], digest: str,
               actor: int | None, override: bool) -> BasisFacts:
        """``decisions._facts``: what the record holds when the vote closes, as plain values."""
        ver = rt.version
        lock = ver.lock
        charter = self.charter_by_id(vr.charter_id)
        applied = [a for a in (*ver.amendments, *rt.amendments) if a.status == AmendmentStatus.APPLIED]
        flagged_m = {a.metric_id for a in applied if a.after_real_use and a.metric_id is not None}
        flagged_c = {a.criterion_id for a in applied if a.after_real_use and a.criterion_id is not None}
        return BasisFacts(
            pilot={"id": rt.id, "title": rt.title, "owner_id": rt.owner_id,
                   "real_use_started_at": moment(rt.real_use_started_at) if rt.real_use_started_at else None},
            problem={"id": rt.problem_id, "version": ver.version, "title": ver.title},
            lock=None if lock is None else {"sha256": lock.sha256, "locked_at": moment(lock.locked_at),
                                            "criteria_json": lock.criteria_json},
            metrics_sha256=rt.metrics_sha256,
            metrics=[status_row({"id": m.id, "name": m.name, "unit": m.unit, "direction": m.direction,
                                 "target": m.target}, _latest(rt.latest_metric, m.id), m.id in flagged_m)
                     for m in rt.metrics_by_name()],
            criteria=[status_row({"id": c.id, "name": c.name, "unit": c.unit, "direction": c.direction,
                                  "target": c.target, "minimum_evidence": c.minimum_evidence,
                                  "is_indispensability": c.is_indispensability},
                                 _latest(self.criterion_latest, c.id), c.id in flagged_c)
                      for c in sorted(ver.criteria, key=lambda c: (not c.is_indispensability, c.name))],
            amendments=[{"id": a.id, "criterion_id": a.criterion_id, "metric_id": a.metric_id,
                         "before_json": a.before_json, "after_json": a.after_json, "reason": a.reason,
                         "after_real_use": a.after_real_use, "decided_at": _when(a.decided_at)}
                        for a in sorted(applied, key=lambda a: a.id)],
            evidence=json.loads(vr.evidence_json) if vr.evidence_json else None, adoption=_adoption(rt),
            tally=tally.as_dict(),
            voters=[voter_entry(pid, self.pl.names[pid], g, o, moment(t)) for pid, (g, o, t, _b) in vr.named.items()],
            secret=shown, eligible=self.eligible_counts(vr), charter_version=charter.version, terms=charter.terms,
            adopt_override=override, proposed_outcome=vr.proposed_outcome,
            vote={"id": vr.id, "opened_at": moment(vr.opened_at), "deadline": moment(vr.deadline),
                  "closed_at": _when(vr.closed_at)},
            closed_by=(actor, self.pl.names[actor]) if actor is not None else None, chain_head=self.head(),
            roster_changes=roster_changes([{**c, "changed_at": moment(c["changed_at"])} for c in rt.roster_changes]),
            ballots_sha256=digest)

    # ------------------------------------------------------------- checkpoints
    def make_checkpoint(self, reason: str) -> int:
        """``services.checkpoints.make_checkpoint``: the chain's head, signed."""
        seq, head = self.head()
        key = self.signing_key
        note = notes.sign(notes.CheckpointBody(self.origin, seq, head), self.origin, key)
        cid = self.next_id("checkpoint")
        key_id = notes.key_id(self.origin, key.public_key())
        t = self.now()
        self.w.add("checkpoint", (cid, seq, head, self.origin, key_id, note, reason, db_ts(t)))
        self.log(None, record_events.checkpoint_made(checkpoint_id=cid, seq=seq, head_hash=head, reason=reason,
                                                     key_id=key_id))
        self.last_checkpoint = (t, seq)
        self.latest_note = note
        return cid

    def job_stream(self) -> Iterator[Step]:
        """The scheduled job, every ``JOB_TICK``: the daily checkpoint; auditors' cosignatures."""
        t = self.pl.t0 + JOB_TICK
        while t < self.pl.t_end:
            yield (t, self.job_tick, ())
            t += JOB_TICK

    def job_tick(self) -> None:
        """``checkpoint_if_due``: when the newest checkpoint is a day old and the chain has moved."""
        t = self.now()
        while self.pending_witness and self.pending_witness[0][0] <= t:
            self.witness(*self.pending_witness.pop(0)[1:])
        latest = self.last_checkpoint
        if self.seq == 0 or (latest is not None and (latest[0] > t - DAILY_US or latest[1] >= self.seq)):
            return
        cid = self.make_checkpoint("daily")
        self.job_ran(checkpoint=cid)
        if self.pl.auditors and self.rng.random() < 1 / 7:  # about weekly, an auditor witnesses one
            self.pending_witness.append((t + self.rng.randint(HOUR, 2 * DAY), cid, self.latest_note,
                                         self.last_checkpoint[1] if self.last_checkpoint else 0))

    def witness(self, checkpoint_id: int, note: str, seq: int) -> None:
        """``witness_checkpoint``: an auditor cosigns with their own key (kept by them, not by us)."""
        auditor = self.rng.choice(self.pl.auditors)
        key = self.witness_keys.setdefault(auditor, Ed25519PrivateKey.generate())
        name = f"auditor-{auditor}"
        t = self.now()
        line = notes.cosign(note, name, key, moment(t))
        key_id = notes.key_id(name, key.public_key(), notes.SIG_COSIGNATURE)
        self.w.add("checkpoint_witness", (self.next_id("checkpoint_witness"), checkpoint_id, auditor, name, key_id,
                                          notes.raw_public_key(key.public_key()), line, db_ts(t)))
        self.log(auditor, record_events.checkpoint_witnessed(checkpoint_id=checkpoint_id, seq=seq, witness_name=name,
                                                             key_id=key_id))

    def job_ran(self, *, closed_votes: list[int] | None = None, checkpoint: int | None = None) -> None:
        """``jobs.run``'s log of a run that did something (idle runs are not generated)."""
        t = self.last
        report = RunReport(ran=True, holder=JOB_HOLDER, closed_votes=list(closed_votes or []), checkpoint=checkpoint)
        self.w.add("job_run", (self.next_id("job_run"), db_ts(t - 1_000_000), db_ts(t + 1_000),
                               JOB_HOLDER, json.dumps(asdict(report), default=str)))


DAILY_US = DAILY // timedelta(microseconds=1)


def _when(t: int | None) -> Any:
    return None if t is None else moment(t)


def _latest(store: dict[int, tuple[tuple[str, int], dict[str, Any]]], key: int) -> dict[str, Any] | None:
    found = store.get(key)
    return None if found is None else found[1]


def _adoption(rt: PilotRT) -> dict[str, Any] | None:
    """``repository.latest_usage``: the most recent week, with its adoption share."""
    if not rt.usage:
        return None
    week, active, eligible = max(rt.usage)
    return {"week_start": week.isoformat(), "active_users": active, "eligible_users": eligible,
            "adoption": active / eligible if eligible else None}
