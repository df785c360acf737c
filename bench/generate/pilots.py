"""Pilots as ``services.pilots`` and ``services.teams`` write them: registration against a
ratified problem (R1), the commissioning team joined by invitation (R15), the roster and
its changes after real use (R15), readiness (R5) and the start of real use (R3)."""
from __future__ import annotations

from datetime import timedelta

from bench.bulk import db_ts
from bench.generate.core import day_of
from bench.generate.problems import ProblemEmitter
from bench.generate.state import InvitationRT, MemberRT, MetricRT, PilotRT, ProblemRT
from bench.plan import InviteP, PilotP, RosterChangeP
from governance.record.events import pilots as events
from governance.rules.prereg import METRIC_FIELDS, canonical_metrics, validate_metric
from governance.vocabulary import PilotState, ProblemState, ReadinessItem, Role, label

READINESS_TEXT: dict[str, str] = {
    "training_plan": "Two one-hour sessions per role, night staff included.",
    "old_process_retirement": "The manual process stops on this date.",
    "escalation_path": "Team lead, then the vendor's support line within four hours.",
    "low_connectivity_test": "Tested at the most remote site on a weak mobile connection.",
}
WAIVER_REASON = "Steering accepts the risk: the escalation path is being finalised with the vendor."
TEAM_REMOVAL_REASON = "Moved to another programme; no longer works on this pilot."
ROSTER_REMOVAL_REASON = "Moved to another site and no longer uses the tool."


class PilotEmitter(ProblemEmitter):
    """Registration, team, roster, readiness and real use."""

    def register_pilot(self, p: PilotP) -> None:
        """``register_pilot``: the registrar joins; everyone else (the owner too) is invited (R15)."""
        pb = p.problem
        assert pb is not None
        rt_pb: ProblemRT = pb.rt
        assert rt_pb.state == ProblemState.RATIFIED and rt_pb.current_version == p.version_no, \
            f"R1: pilot {p.idx} registered while its problem is {rt_pb.state}"
        ver = rt_pb.version
        t = self.now()
        rt = p.rt = PilotRT(self.next_id("pilot"), rt_pb.id, ver.id, p.title, p.description, p.owner, p.registrar,
                            t, ver)
        ver.pilots.append(rt)
        cleaned = [validate_metric(dict(zip(METRIC_FIELDS, m, strict=True))) for m in p.metrics]
        rt.metrics = [MetricRT(self.next_id("commissioning_metric"), rt.id, created_by=p.registrar, created_at=t,
                               **m) for m in cleaned]
        self.log(p.registrar, events.pilot_registered(pilot_id=rt.id, title=p.title, description=p.description,
                                                      owner_id=p.owner, problem_id=rt_pb.id,
                                                      problem_version=ver.version, team=[p.registrar],
                                                      metrics=cleaned))
        self._join(rt, p.registrar, actor=p.registrar)
        for invite in sorted(p.invites, key=lambda i: i.person):
            self._invite(rt, invite.person, actor=p.registrar)

    def _join(self, rt: PilotRT, who: int, *, actor: int) -> None:
        """``teams.join_team``; the owner's joining is the readiness "owner" record."""
        t = self.now()
        rt.team[who] = MemberRT(rt.id, who, t)
        if who == rt.owner_id and ReadinessItem.OWNER not in rt.items:
            self.w.add("readiness_record", (rt.id, ReadinessItem.OWNER.value,
                                            f"{self.pl.names[who]} is accountable for the last mile.", None, who,
                                            db_ts(t)))
            rt.items.add(ReadinessItem.OWNER)
        self.log(actor, events.team_member_added(pilot_id=rt.id, person_id=who, name=self.pl.names[who]))

    def _invite(self, rt: PilotRT, who: int, *, actor: int) -> None:
        roles = self.pl.roles[who]
        assert Role.AUDITOR not in roles, "R15: an auditor invited to a team"
        assert who != rt.owner_id or Role.COMMISSIONING in roles, "R15: an owner without the commissioning role"
        rt.invitations[who] = InvitationRT(self.next_id("team_invitation"), rt.id, who, actor, self.now())
        self.log(actor, events.team_invited(invitation_id=rt.invitations[who].id, pilot_id=rt.id, person_id=who,
                                            name=self.pl.names[who]))

    def answer_invitation(self, p: PilotP, invite: InviteP) -> None:
        """``accept_team_invitation`` / ``decline_team_invitation``: the invitee's own act."""
        rt: PilotRT = p.rt
        inv = rt.invitations[invite.person]
        accept = invite.answer == "accept"
        assert inv.status == "pending", "an invitation answered twice"
        assert not accept or rt.real_use_started_at is None, "R15: joined a team frozen at real use"
        inv.status, inv.responded_at = ("accepted" if accept else "declined"), self.now()
        self.log(invite.person, events.team_invitation_answered(invitation_id=inv.id, pilot_id=rt.id,
                                                                person_id=invite.person, accepted=accept))
        if accept:
            self._join(rt, invite.person, actor=invite.person)

    def remove_team_member(self, p: PilotP, who: int) -> None:
        """``remove_team_member`` with a reason; they stay out of the pilot's frontline group."""
        rt: PilotRT = p.rt
        member = rt.team[who]
        assert member.removed_at is None and who != rt.owner_id
        member.removed_at, member.removed_by, member.removed_reason = self.now(), p.registrar, TEAM_REMOVAL_REASON
        self.log(p.registrar, events.team_member_removed(pilot_id=rt.id, person_id=who, reason=TEAM_REMOVAL_REASON,
                                                         after_real_use=rt.real_use_started_at is not None))

    # ------------------------------------------------------------------ roster
    def _roster_open(self, rt: PilotRT) -> None:
        """R15: nobody joins or leaves the roster while a round is open, nor once decided."""
        assert rt.state != PilotState.DECIDED, "R15: roster changed after the decision"
        assert rt.open_round is None, "R15: roster changed during an open round"

    def add_roster(self, p: PilotP, people: list[int] | None = None) -> None:
        """``add_to_roster``: frontline people who will really use the pilot."""
        rt: PilotRT = p.rt
        self._roster_open(rt)
        t = self.now()
        after = rt.real_use_started_at is not None
        added = sorted(pid for pid in set(p.roster if people is None else people) if pid not in rt.roster)
        for pid in added:
            assert {Role.FRONTLINE, Role.FACILITATOR} & set(self.pl.roles[pid]) and pid not in self.inactive, \
                "R7: a roster entry that is not an active frontline person"
            rt.roster[pid] = t
            self.w.add("roster_change", (self.next_id("roster_change"), rt.id, pid, "added", None, p.registrar,
                                         db_ts(t), after))
            if after:
                rt.roster_changes.append({"person_id": pid, "change": "added", "reason": None, "changed_at": t})
        self.log(p.registrar, events.roster_added(pilot_id=rt.id, person_ids=added, after_real_use=after))

    def remove_from_roster(self, p: PilotP, pid: int) -> None:
        """``remove_from_roster``: after real use, with a reason shown beside the evidence (R15)."""
        rt: PilotRT = p.rt
        self._roster_open(rt)
        after = rt.real_use_started_at is not None
        why = ROSTER_REMOVAL_REASON if after else None
        del rt.roster[pid]
        t = self.now()
        self.w.add("roster_change", (self.next_id("roster_change"), rt.id, pid, "removed", why, p.registrar,
                                     db_ts(t), after))
        if after:
            rt.roster_changes.append({"person_id": pid, "change": "removed", "reason": why, "changed_at": t})
        self.log(p.registrar, events.roster_removed(pilot_id=rt.id, person_id=pid, reason=why, after_real_use=after))

    def change_roster(self, p: PilotP, change: RosterChangeP) -> None:
        if change.added:
            self.add_roster(p, change.added)
        for pid in change.removed:
            self.remove_from_roster(p, pid)

    # --------------------------------------------------------------- readiness
    def record_readiness(self, p: PilotP, item: str) -> None:
        rt: PilotRT = p.rt
        who = p.registrar
        assert rt.real_use_started_at is None
        t = self.now()
        detail = READINESS_TEXT[item]
        on = day_of(t) + timedelta(days=30) if item == ReadinessItem.OLD_PROCESS_RETIREMENT else None
        self.w.add("readiness_record", (rt.id, item, detail, None if on is None else on.isoformat(), who, db_ts(t)))
        rt.items.add(item)
        self.log(who, events.readiness_recorded(pilot_id=rt.id, item=item, detail=detail, on_date=on, before=None))
        self._maybe_ready(rt, who, "checklist complete")

    def waive(self, p: PilotP, steering: int) -> None:
        """R5: a steering decision, with its reason, to start before the checklist is complete."""
        rt: PilotRT = p.rt
        missing = [label(i) for i in ReadinessItem if i not in rt.items]
        self.w.add("readiness_waiver", (rt.id, WAIVER_REASON, steering, db_ts(self.now())))
        rt.waived = True
        self.log(steering, events.readiness_waived(pilot_id=rt.id, reason=WAIVER_REASON, missing=missing))
        self._maybe_ready(rt, steering, "waived by steering")

    def _maybe_ready(self, rt: PilotRT, actor: int, why: str) -> None:
        if rt.state == PilotState.REGISTERED and (rt.waived or all(i in rt.items for i in ReadinessItem)):
            rt.state, rt.ready_at = PilotState.READY, self.now()
            self.log(actor, events.pilot_ready(pilot_id=rt.id, basis=why))

    def start_real_use(self, p: PilotP) -> None:
        """R3/R5: locked criteria and readiness; the metrics lock, the team freezes (invitations lapse)."""
        rt: PilotRT = p.rt
        assert rt.state == PilotState.READY, f"R5: pilot {p.idx} is {rt.state}"
        assert rt.version.lock is not None, f"R3: pilot {p.idx} started before its criteria were locked"
        assert rt.roster and rt.metrics
        body, digest = canonical_metrics(rt.id, rt.metrics_by_name())
        rt.real_use_started_at = t = self.now()
        rt.metrics_json, rt.metrics_sha256 = body, digest
        rt.state = PilotState.IN_USE
        voided = []
        for inv in rt.invitations.values():
            if inv.status == "pending":
                inv.status, inv.responded_at = "void", t
                voided.append(inv.id)
        self.log(p.registrar, events.real_use_started(pilot_id=rt.id, metrics_sha256=digest, waived=rt.waived,
                                                      roster_size=len(rt.roster), team=rt.current_team(),
                                                      voided_invitations=voided))

    def finish_pilots(self) -> None:
        """Every pilot and what hangs off it, in its final state."""
        for p in self.pl.pilots:
            rt: PilotRT | None = p.rt
            if rt is None:
                continue
            self.put("pilot", rt.row())
            for m in rt.metrics:
                self.put("commissioning_metric", m.row())
            for member in rt.team.values():
                self.put("pilot_team_member", member.row())
            for inv in rt.invitations.values():
                self.put("team_invitation", inv.row())
            for pid, added_at in rt.roster.items():
                self.w.add("roster_entry", (rt.id, pid, p.registrar, db_ts(added_at)))
            for item in rt.feedback.values():
                self.put("feedback_item", item.row())
            for a in rt.amendments:
                self.put("amendment", a.row())

