"""The emitter: replays a plan in time order, then writes every row still held in memory.

The static acts (people, problems, pilots…) are one sorted list; every vote
and survey round is a lazy stream (its ballots or answers are planned when
it opens, from the electorate or roster it opens with), and the scheduled
job is one more; a heap merge replays them all in time order.
"""
from __future__ import annotations

from collections.abc import Iterator
from heapq import merge

from bench.bulk import BulkWriter
from bench.generate.decisions import DecisionEmitter
from bench.generate.surveys import Step
from bench.plan import HOUR, MINUTE, PilotP, Planner
from governance.identity.keys import Keys


class Emitter(DecisionEmitter):
    """Every part of the organisation, in time order."""

    def __init__(self, planner: Planner, writer: BulkWriter, keys: Keys, *, organisation: str) -> None:
        super().__init__(planner, writer, keys, organisation=organisation)
        self.criterion_latest = {}
        self.witness_keys = {}
        self.pending_witness = []

    def run(self) -> None:
        streams: list[Iterator[Step]] = [iter(sorted(self._static(), key=lambda a: a[0])), self.job_stream()]
        streams += [self.vote_stream(v) for v in self.pl.all_votes()]
        streams += [self.round_stream(r) for r in self.pl.all_rounds()]
        for t, fn, args in merge(*streams, key=lambda a: a[0]):
            self.base = t
            fn(*args)

    def _static(self) -> list[Step]:
        pl = self.pl
        static: list[Step] = [(pl.t0, self.initialise, ())]
        static += [(pl.t_person[pid], self.create_person, (pid,)) for pid in range(2, len(pl.names))]
        static += [(pl.t_panels - HOUR + i * MINUTE, self.create_programme, (i + 1,))
                   for i in range(len(pl.programmes))]
        static += [(pl.t_panels + k * MINUTE, self.create_panel, (k,)) for k in range(pl.scale.panels)]
        t = pl.t_memberships
        for panel, members in enumerate(pl.members):
            for pid in members:
                static.append((t, self.add_member, (panel, pid)))
                t += pl.membership_step
        static.append((pl.t_charter2, self.adopt_charter_v2, ()))
        static += [(t_leave, self.deactivate, (pid,)) for pid, t_leave in zip(pl.leavers, pl.leaver_times, strict=True)]
        for pb in pl.problems:
            static.append((pb.t_draft, self.draft_problem, (pb,)))
            static += [(t_c, self.add_criterion, (pb, spec)) for t_c, spec in pb.criteria]
            if pb.threshold_update is not None:
                static.append((pb.threshold_update, self.update_threshold, (pb,)))
            static += [(t_c, self.comment, (pb, who, body)) for t_c, who, body in pb.comments]
            if pb.t_retire is not None:
                static.append((pb.t_retire, self.retire, (pb,)))
        for p in pl.pilots:
            static += self._pilot_steps(p)
        return static

    def _pilot_steps(self, p: PilotP) -> list[Step]:
        steps: list[Step] = [(p.t_reg, self.register_pilot, (p,))]
        steps += [(i.t_answer, self.answer_invitation, (p, i)) for i in p.invites if i.t_answer is not None]
        if p.t_roster is not None:
            steps.append((p.t_roster, self.add_roster, (p,)))
        steps += [(t_i, self.record_readiness, (p, item)) for t_i, item in p.readiness]
        if p.waiver is not None:
            steps.append((p.waiver[0], self.waive, (p, p.waiver[1])))
        if p.t_real is not None:
            steps.append((p.t_real, self.start_real_use, (p,)))
        steps += [(c.t, self.change_roster, (p, c)) for c in p.roster_changes]
        if p.team_removal is not None:
            steps.append((p.team_removal[0], self.remove_team_member, (p, p.team_removal[1])))
        for t_a, kind, args in p.actions:
            steps.append((t_a, getattr(self, f"act_{kind}"), (p, *args)))
            if kind == "feedback" and args[3] is not None:
                steps.append((args[3], self.respond_feedback, (p, args)))
        return steps

    def finish(self) -> None:
        """Every row held until final, then the chain's head."""
        self.finish_people()
        self.finish_problems()
        self.finish_pilots()
        self.finish_rounds()
        self.finish_votes()
        self.w.add("audit_chain_head", (1, self.seq, self.prev))
        self.w.flush()
