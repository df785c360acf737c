"""Binding votes as ``services.votes`` and ``services.decisions`` write them.

Opening fixes the electorate (``rules.electorate``), the deadline within the
charter's bounds (R16, ``rules.deadlines.vote_deadline``) and the secret
groups (R17, ``services.votes.secret_groups_for``). Ballots of open groups are
kept by name; ballots of secret groups under the voter's token
(``rules.ballots.voter_token``) with a fresh receipt, participation recorded
apart, and an audit event holding a commitment instead of the option. A vote
closes before its deadline only when every eligible voter voted, otherwise
at the deadline by the scheduled job; closing tallies (``rules.voting``),
publishes the (receipt, option) list (``rules.ballots.published``) and
records the digest of the counted ballots (``record.chain.rows_digest``).
"""
from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Iterator
from typing import Any, cast

from bench.bulk import db_ts
from bench.generate.core import moment, to_us
from bench.generate.state import PilotRT, ProblemRT, VoteRT
from bench.generate.surveys import Step, SurveyEmitter
from bench.plan import MINUTE, VoteP, uniform
from governance.record.chain import canonical_json, rows_digest
from governance.record.events import votes as events
from governance.rules.ballots import (
    commitment,
    dump_groups,
    named_order,
    new_ballot_id,
    new_receipt,
    published,
    voter_token,
)
from governance.rules.deadlines import may_close_early, require_window, vote_deadline
from governance.rules.electorate import TeamMembership, panel_electorate, pilot_electorate, still_in_group
from governance.rules.paper import ONLINE
from governance.rules.statements import scheduled_statement
from governance.rules.voting import Tally, tally_vote
from governance.services.votes import options_of, secret_groups_for
from governance.vocabulary import Outcome, PilotState, ProblemState, VoteKind, VotingGroup

#: A planned ballot: (time, person, group, option, 0 only / 1 to be changed / 2 the change, the option it changes).
Ballot = tuple[int, int, str, str, int, str]


class VoteEmitter(SurveyEmitter):
    """Votes: opening, ballots, closing and the effects of panel votes."""

    def vote_stream(self, v: VoteP) -> Iterator[Step]:
        yield (v.t_open, self.open_vote, (v,))
        plan = v.rt[1] if v.rt is not None else []
        for item in plan:
            yield (item[0], self.cast, (v, item))
        if v.rt is not None:
            v.rt = (v.rt[0], [])  # replayed: free the memory
        if v.t_close is not None:
            yield (v.t_close, self.close_vote, (v,))

    # ---------------------------------------------------------------- opening
    def open_vote(self, v: VoteP) -> None:
        pb = v.problem
        assert pb is not None
        rt_pb: ProblemRT = pb.rt
        charter = self.charter
        t = self.now()
        opened = self._open_outcome(v, t) if v.kind == VoteKind.OUTCOME else self._open_panel(v, rt_pb)
        electorate, pilot_id, amendment, question, evidence_json, proposed, adopt = opened
        deadline = to_us(vote_deadline(moment(t), charter.terms.vote_min_days, charter.terms.vote_max_days,
                                       days=v.days))
        groups = secret_groups_for(v.kind, cast(Any, charter.terms))  # it reads the terms only
        version_id = v.pilot.rt.problem_version_id if v.pilot is not None else rt_pb.version.id
        vr = VoteRT(self.next_id("vote"), v.kind, pilot_id, version_id, amendment.id if amendment else None,
                    pb.panel + 1, question, charter.id, proposed, adopt, evidence_json, v.opener, t, deadline,
                    groups, eligible=electorate, options=options_of(v.kind, adopt))
        for pid, g in electorate.items():
            self.w.add("vote_eligibility", (vr.id, pid, g))
        self.log(v.opener, events.vote_opened(
            vote_id=vr.id, kind=v.kind, pilot_id=pilot_id, problem_version_id=version_id,
            amendment_id=vr.amendment_id, question=question, deadline=moment(deadline), proposed_outcome=proposed,
            adopt_available=adopt, charter_id=charter.id, eligible=dict(Counter(electorate.values())),
            secret_groups=groups))
        if v.pilot is not None:
            v.pilot.rt.open_vote = vr
        v.rt = (vr, self._plan_ballots(v, vr))

    def _open_outcome(self, v: VoteP, t: int) -> tuple[Any, ...]:
        """``open_outcome_vote``: after the window (R6), on the evidence of the latest closed round."""
        p = v.pilot
        assert p is not None
        rt: PilotRT = p.rt
        assert rt.state in (PilotState.IN_USE, PilotState.EVALUATING), f"pilot {p.idx} is {rt.state} at its vote"
        assert rt.open_round is None and rt.open_vote is None and rt.real_use_started_at is not None
        terms = self.charter.terms
        require_window(rt.title, moment(rt.real_use_started_at), terms.evaluation_window_days, moment(t),
                       "the outcome vote")
        evidence = self.evidence(rt)
        passed = evidence.indispensability.passed
        adopt = passed or terms.allow_adopt_override
        if v.winner == Outcome.ADOPT and not adopt:
            self.stats["plan_mismatch"] += 1
            v.winner = Outcome.ITERATE.value
        electorate = self._pilot_electorate(rt, v)
        assert VotingGroup.FRONTLINE in electorate.values(), "R8: no frontline voter"
        if rt.state == PilotState.IN_USE:
            rt.state, rt.evaluating_since = PilotState.EVALUATING, t
        question = f"What should happen to '{rt.title}': adopt, iterate, revisit the problem, or stop?"
        return (electorate, rt.id, None, question, canonical_json(evidence.as_dict()),
                None if passed else Outcome.REVISIT_PROBLEM.value, adopt)

    def _pilot_electorate(self, rt: PilotRT, v: VoteP) -> dict[int, str]:
        """``services.votes.electorate_of``: the team as it stood at real use stays out of the frontline."""
        pb = v.problem
        assert pb is not None and rt.real_use_started_at is not None
        members = [TeamMembership(m.person_id, moment(m.joined_at),
                                  moment(m.removed_at) if m.removed_at is not None else None)
                   for m in sorted(rt.team.values(), key=lambda m: m.person_id)]
        panel = self._panel_voters(pb.panel)
        steering = [pid for pid in self.pl.steering if pid not in self.inactive]
        active = {pid for pid in (*panel, *steering, *rt.team) if pid not in self.inactive}
        return pilot_electorate(panel=panel, members=members, steering=steering,
                                real_use_started_at=moment(rt.real_use_started_at), active=active)

    def _panel_voters(self, panel: int) -> list[int]:
        """``repository.panel_voters``: the panel's active members."""
        return [pid for pid in self.pl.members[panel] if pid not in self.inactive]

    def _open_panel(self, v: VoteP, rt_pb: ProblemRT) -> tuple[Any, ...]:
        """``propose_ratification`` / ``propose_criteria_lock`` / ``propose_amendment``."""
        pb = v.problem
        assert pb is not None
        ver = rt_pb.version
        assert ver.version == v.version_no, "panel vote on an unexpected version"
        amendment = None
        if v.kind == VoteKind.RATIFY_PROBLEM:
            assert rt_pb.state in (ProblemState.DRAFT, ProblemState.REOPENED)
            question = f"Ratify the problem '{ver.title}' (version {ver.version})?"
        elif v.kind == VoteKind.LOCK_CRITERIA:
            assert rt_pb.state == ProblemState.RATIFIED and ver.lock is None
            question = (f"Lock the {len(ver.criteria)} success criteria of '{ver.title}'? After this, changes "
                        "need a reason and a panel vote.")
        else:
            amendment, c, cleaned = self.propose_amendment(pb, v)
            changes = ", ".join(f"{k} → {val}" for k, val in cleaned.items())
            question = f"Amend '{c.name}' ({changes})? Reason: {amendment.reason}"
            v.opener = pb.amend_proposer
        return panel_electorate(self._panel_voters(pb.panel)), None, amendment, question, None, None, False

    def _plan_ballots(self, v: VoteP, vr: VoteRT) -> list[Ballot]:
        """Who votes what, and when; everyone, when the vote is to close early (R16)."""
        rng = random.Random(f"{self.pl.seed}-vote-{vr.id}")
        by_group: dict[str, list[int]] = {}
        for pid, g in vr.eligible.items():
            by_group.setdefault(g, []).append(pid)
        options = list(vr.options)
        winner = v.winner if v.kind == VoteKind.OUTCOME else ("approve" if v.passes else "reject")
        voters: list[tuple[int, str, str]] = []
        for g, members in by_group.items():
            c = len(members) if v.full_turnout else min(len(members), v.counts.get(g, 0))
            chosen = rng.sample(members, c)
            if winner is None:
                opts = [rng.choice(options) for _ in chosen]
            else:
                n_win = min(c, max(c // 2 + 1, math.ceil(c * rng.uniform(0.55, 0.85))))
                others = [o for o in options if o != winner]
                opts = [winner] * n_win + [rng.choice(others) for _ in range(c - n_win)]
                rng.shuffle(opts)
            voters += [(pid, g, o) for pid, o in zip(chosen, opts, strict=True)]
        if v.t_close is None:  # still open at the end of the timeline
            end = min(self.pl.t_end, vr.deadline) - 2 * MINUTE
        else:
            end = min(v.t_close, vr.deadline) - 2 * MINUTE
        lo = vr.opened_at + MINUTE
        changers = set(rng.sample(range(len(voters)), min(len(voters), v.changes)))
        plan: list[Ballot] = []
        for i, (pid, g, o) in enumerate(voters):
            if i in changers:
                t1 = uniform(rng, lo, lo + (end - lo) * 0.6)
                first = rng.choice([x for x in options if x != o])
                plan.append((t1, pid, g, first, 1, ""))
                plan.append((uniform(rng, t1 + MINUTE, end), pid, g, o, 2, first))
            else:
                plan.append((uniform(rng, lo, end), pid, g, o, 0, ""))
        plan.sort()
        return plan

    # ---------------------------------------------------------------- ballots
    def cast(self, v: VoteP, item: Ballot) -> None:
        """``cast_ballot``: every check of ``_check_ballot``, then a named or a secret ballot."""
        _, pid, group, option, kind, _previous = item
        vr: VoteRT = v.rt[0]
        t = self.now()
        assert vr.status == "open" and t < vr.deadline, "R16: a ballot after the deadline"
        assert vr.eligible.get(pid) == group, "R8: a ballot from someone not eligible in that group"
        assert option in vr.options, "R8/R9: an option the vote does not offer"
        team = v.pilot.rt.team if v.pilot is not None else {}
        assert not (pid in team and group == VotingGroup.FRONTLINE), "R8: conflict of interest"
        on_team_now = pid in team and team[pid].removed_at is None
        assert still_in_group(group, self.pl.roles[pid], on_team_now) and pid not in self.inactive, "R15"
        first = pid not in vr.participants
        if first:
            vr.participants.add(pid)
            self.w.add("vote_participation", (vr.id, pid))
        if group in vr.secret_groups:
            self._cast_secret(vr, pid, group, option, current=kind != 1, first=first)
            return
        previous = vr.named.get(pid)
        bid = self.next_id("ballot")
        # Written in its final state: a ballot changed later is already not current.
        # The generated voters give no reason (``ballot.reason`` is optional).
        self.w.add("ballot", (bid, vr.id, pid, group, option, db_ts(t), kind != 1, None, ONLINE))
        vr.named[pid] = (group, option, t, bid)
        mark = commitment(self.ballot_key, vr.id, f"ballot-{bid}", option)
        self.log(pid, events.ballot_cast(ballot_id=bid, vote_id=vr.id, group=group, commitment=mark,
                                         reason_commitment=None, previous_id=previous[3] if previous else None))

    def _cast_secret(self, vr: VoteRT, pid: int, group: str, option: str, *, current: bool, first: bool) -> None:
        """``services.votes._cast_secret`` (R17): no person on the row, no time, a random id."""
        token = voter_token(self.ballot_key, vr.id, pid)
        receipt = new_receipt()
        row_id = new_ballot_id()
        vr.secret_rows.append((row_id, vr.id, token, group, option, receipt, current, ONLINE))
        vr.secret[token] = (row_id, group, option, receipt)
        mark = commitment(self.ballot_key, vr.id, receipt, option)
        if first:
            self.log(pid, events.secret_ballot_cast(vote_id=vr.id, group=group, commitment=mark))
        else:
            self.log(None, events.secret_ballot_changed(vote_id=vr.id, group=group, commitment=mark))

    # ---------------------------------------------------------------- closing
    def current_ballots(self, vr: VoteRT) -> list[tuple[str, str]]:
        """``repository.current_ballots``: (group, option) of every voter's latest ballot."""
        return sorted([(g, o) for g, o, _t, _b in vr.named.values()] + [(g, o) for _i, g, o, _r in vr.secret.values()])

    def eligible_counts(self, vr: VoteRT) -> dict[str, int]:
        counts = Counter(vr.eligible.values())
        return {g.value: counts.get(g.value, 0) for g in VotingGroup}

    def close_vote(self, v: VoteP) -> None:
        """``close_vote`` (early, everyone voted) or ``close_due_vote`` (the job, at the deadline)."""
        vr: VoteRT = v.rt[0]
        now = self.now()
        if v.early:
            assert may_close_early(len(vr.eligible), len(vr.participants)), "R16: closed early with voters missing"
            actor, closed_at = v.closer, min(now, vr.deadline)
        else:
            assert now >= vr.deadline, "R16: the job closed a vote before its deadline"
            actor, closed_at = None, vr.deadline
        terms = self.charter_by_id(vr.charter_id).terms
        tally = tally_vote(vr.kind, self.current_ballots(vr), eligible=self.eligible_counts(vr), terms=terms,
                           adopt_available=vr.adopt_available, proposed=vr.proposed_outcome)
        result = tally.as_dict()
        shown = published(vr.secret_groups, [(r, g, o) for _i, g, o, r in vr.secret.values()],
                          [(pid, self.pl.names[pid], vr.eligible[pid]) for pid in vr.participants
                           if vr.eligible[pid] in vr.secret_groups]).as_dict()
        result["secret_ballots"] = shown
        digest = rows_digest(self.current_ballots(vr))
        # ``repository.named_voters``: the open groups' ballots, by group then name.
        named = sorted(({"person_id": pid, "name": self.pl.names[pid], "group": g, "option": o, "reason": None}
                        for pid, (g, o, _t, _b) in vr.named.items()), key=named_order)
        result["named_ballots"] = named
        if vr.kind == VoteKind.OUTCOME:
            vr.passed, vr.outcome = tally.winner is not None, tally.winner
            assert not (tally.winner == Outcome.ADOPT and not evidence_passed(vr) and not terms.allow_adopt_override), \
                "R9: adopt without the threshold"
            assert v.pilot is not None
            v.pilot.rt.open_vote = None
        else:
            vr.passed = tally.passed
        vr.status, vr.closed_at, vr.closed_by = "closed", closed_at, actor
        vr.result_json, vr.quorum_met = canonical_json(result), tally.quorum_met
        # ``services.decisions.close``: the closer writes a statement; the schedule records its own.
        vr.outcome_statement = (scheduled_statement(moment(vr.deadline), result) if actor is None else
                                "Every eligible voter had voted, so the vote was closed before its deadline.")
        self._write_vote(vr)
        self.log(actor, events.vote_closed(vote_id=vr.id, kind=vr.kind, winner=tally.winner,
                                           quorum_met=tally.quorum_met, at_deadline=actor is None,
                                           closed_at=moment(closed_at), tally=tally.as_dict(),
                                           ballots_sha256=digest, published=shown, named=named,
                                           statement=vr.outcome_statement))
        if actor is None:
            self.job_ran(closed_votes=[vr.id])
        self._after_close(v, vr, tally, shown, digest, actor)
        vr.release()

    def _after_close(self, v: VoteP, vr: VoteRT, tally: Tally, shown: dict[str, Any], digest: str,
                     actor: int | None) -> None:
        if vr.kind == VoteKind.OUTCOME:
            expected = v.winner if v.meets_quorum else None
            if tally.winner != expected:
                raise AssertionError(f"vote {vr.id}: tally winner {tally.winner}, planned {expected}")
            if tally.winner is not None:
                self.declare(v, vr, tally, shown, digest, actor)
            return
        expected = "approve" if v.passes else "reject"
        if tally.winner != expected:
            raise AssertionError(f"panel vote {vr.id}: tally winner {tally.winner}, planned {expected}")
        pb = v.problem
        assert pb is not None
        if vr.kind == VoteKind.AMEND_CRITERION:
            amendment = next(a for ver in pb.rt.versions.values() for a in ver.amendments if a.id == vr.amendment_id)
            if tally.passed:
                self.apply_amendment(pb, amendment, vr.id, actor)
            else:
                self.reject_amendment(amendment, vr.id, actor)
        elif tally.passed and vr.kind == VoteKind.RATIFY_PROBLEM:
            self.apply_ratification(pb, vr.id, actor)
        elif tally.passed:
            self.apply_lock(pb, vr.id, actor)

    def _write_vote(self, vr: VoteRT) -> None:
        """The vote row, once final; its secret ballots in random order (R17: on PostgreSQL rows
        sit in insertion order, which must not tell who voted when)."""
        self.put("vote", vr.row(dump_groups))
        self.rng.shuffle(vr.secret_rows)
        for row in vr.secret_rows:
            self.w.add("secret_ballot", row)
        vr.secret_rows = []

    def finish_votes(self) -> None:
        """Votes still open at the end of the timeline."""
        for v in self.pl.all_votes():
            if v.rt is not None and v.rt[0].status == "open":
                self._write_vote(v.rt[0])

    def declare(self, v: VoteP, vr: VoteRT, tally: Tally, shown: dict[str, Any], digest: str,
                actor: int | None) -> None:
        """The declaration (``bench.generate.decisions``)."""
        raise NotImplementedError

    def job_ran(self, *, closed_votes: list[int] | None = None, checkpoint: int | None = None) -> None:
        """The scheduled job's run log (``bench.generate.decisions``)."""
        raise NotImplementedError



def evidence_passed(vr: VoteRT) -> bool:
    """Whether the evidence the vote opened with met the indispensability threshold."""
    evidence = json.loads(vr.evidence_json) if vr.evidence_json else None
    return bool(evidence and evidence["indispensability"]["passed"])
