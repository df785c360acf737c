"""Indispensability survey rounds as ``services.evaluation`` writes them: opened after the
evaluation window (R6), answered by rostered users who may (R7, R15), closed with the
digest and counts of their answers; and the evidence an outcome vote opens with."""
from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from typing import Any

from bench import texts
from bench.bulk import db_ts
from bench.generate.core import moment
from bench.generate.realuse import RealUseEmitter
from bench.generate.state import PilotRT, RoundRT
from bench.plan import MINUTE, RoundP, uniform
from governance.record.chain import rows_digest
from governance.record.events import evaluation as events
from governance.rules.deadlines import require_window
from governance.rules.electorate import may_answer
from governance.rules.evidence import SurveyEvidence, evidence_threshold, survey_evidence, sus_score
from governance.rules.paper import ONLINE
from governance.vocabulary import PilotState, SurveyAnswer

ANSWERS = tuple(a.value for a in SurveyAnswer)
VERY = SurveyAnswer.VERY_DISAPPOINTED.value
Step = tuple[int, Callable[..., None], tuple[Any, ...]]
#: A planned answer: (time, person, answer, 0 only / 1 to be revised / 2 the revision, the answer it revises).
Answer = tuple[int, int, str, int, str]


class SurveyEmitter(RealUseEmitter):
    """Survey rounds and their responses."""

    def round_stream(self, r: RoundP) -> Iterator[Step]:
        """The round's acts in time order; its answers are planned when it opens."""
        yield (r.t_open, self.open_round, (r,))
        for item in r.rt.plan if r.rt is not None else ():
            yield (item[0], self.respond, (r, item))
        if r.rt is not None:
            r.rt.plan = []  # replayed: free the memory
        if r.t_close is not None:
            yield (r.t_close, self.close_round, (r,))

    def open_round(self, r: RoundP) -> None:
        """``open_survey_round``: only after the window of real use (R6), not beside an open vote."""
        p = r.pilot
        assert p is not None
        rt: PilotRT = p.rt
        t = self.now()
        assert rt.state != PilotState.DECIDED and rt.open_round is None and rt.open_vote is None
        assert rt.real_use_started_at is not None
        require_window(rt.title, moment(rt.real_use_started_at), self.charter.terms.evaluation_window_days,
                       moment(t), "the indispensability survey")
        rr = RoundRT(self.next_id("survey_round"), rt.id, r.number, r.opener, t)
        before = rt.state
        if rt.state == PilotState.IN_USE:
            rt.state, rt.evaluating_since = PilotState.EVALUATING, t
        rt.open_round = rr
        self.log(r.opener, events.round_opened(round_id=rr.id, pilot_id=rt.id, number=r.number, before_state=before,
                                               after_state=rt.state))
        pool = self._answerers(rt, t)
        assert pool == list(r.pool), f"round {rr.id}: who may answer differs from the plan"
        r.rt = _RoundState(rr, self._plan_responses(r, t, rt))

    def _answerers(self, rt: PilotRT, t: int) -> list[int]:
        """Rostered people who may answer a round opening at ``t`` (R7, R15: ``rules.electorate.may_answer``)."""
        assert rt.real_use_started_at is not None
        window = self.charter.terms.evaluation_window_days
        started, opened = moment(rt.real_use_started_at), moment(t)
        return sorted(pid for pid, added in rt.roster.items() if may_answer(moment(added), started, window, opened))

    def _plan_responses(self, r: RoundP, t_open: int, rt: PilotRT) -> list[Answer]:
        rng = random.Random(f"{self.pl.seed}-round-{rt.id}-{r.number}")
        n = min(r.count, r.size)
        people = rng.sample(list(r.pool), n)
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
        plan: list[Answer] = []
        for i, (pid, answer) in enumerate(zip(people, answers, strict=True)):
            if i in changers:
                t1 = uniform(rng, lo, lo + (end - lo) * 0.6)
                first = rng.choice([a for a in ANSWERS if a != answer])
                plan.append((t1, pid, first, 1, ""))
                plan.append((uniform(rng, t1 + MINUTE, end), pid, answer, 2, first))
            else:
                plan.append((uniform(rng, lo, end), pid, answer, 0, ""))
        plan.sort()
        return plan

    def respond(self, r: RoundP, item: Answer) -> None:
        """``submit_survey_response``: a revision replaces the earlier answer (both kept, R7)."""
        _, pid, answer, kind, _previous = item
        rr = r.rt.round
        assert rr.closed_at is None and pid in r.pool
        rng = self.rng
        t = self.now()
        rid = self.next_id("survey_response")
        sus: list[int | None] = [None] * 10
        score = None
        if rng.random() < 0.6:
            good = answer == VERY
            items = [rng.randint(3, 5) if (i % 2 == 0) == good else rng.randint(1, 3) for i in range(10)]
            score, sus = sus_score(items), list(items)
        previous = rr.current.get(pid)
        if previous is not None:
            self._count(rr, previous[1], previous[2], -1)
        self._count(rr, answer, score, +1)
        rr.current[pid] = (rid, answer, score)
        # Written in its final state: an answer revised later is already not current.
        self.w.add("survey_response", (rid, rr.id, pid, answer, *sus, score, rng.choice(texts.INSTEAD),
                                       rng.choice(texts.BENEFIT), db_ts(t), kind != 1, ONLINE))
        self.log(pid, events.response_given(response_id=rid, round_id=rr.id,
                                            previous_id=previous[0] if previous else None))

    @staticmethod
    def _count(rr: RoundRT, answer: str, sus: float | None, sign: int) -> None:
        """``services.evaluation._count``: the round's kept counts of current responses."""
        rr.answers[answer] = rr.answers.get(answer, 0) + sign
        if sus is not None:
            rr.sus_total += sign * sus
            rr.sus_responses += sign

    def close_round(self, r: RoundP) -> None:
        """``close_survey_round``: the answers are final; their digest and counts go on record."""
        p = r.pilot
        assert p is not None
        rt: PilotRT = p.rt
        rr = r.rt.round
        digest = rows_digest((rid, pid, answer, score) for pid, (rid, answer, score) in rr.current.items())
        counts = {a: rr.answers.get(a, 0) for a in ANSWERS}
        rr.closed_at, rr.closed_by = self.now(), r.closer
        rt.open_round = None
        rt.closed_rounds.append(rr)
        rr.current = {}  # final: only its counts are read again (the evidence)
        self.log(r.closer, events.round_closed(round_id=rr.id, pilot_id=rt.id, number=rr.number,
                                               responses_sha256=digest, counts=counts))

    def evidence(self, rt: PilotRT) -> SurveyEvidence:
        """``repository.pilot_evidence(closed_only=True)``: the latest closed round against the
        threshold pre-registered on the pilot's problem version."""
        terms = self.charter.terms
        crit = rt.version.indispensability()
        threshold, minimum_n = evidence_threshold((float(crit.target), int(crit.minimum_evidence)),
                                                  terms.indispensability_threshold, terms.min_survey_responses)
        if not rt.closed_rounds:
            return survey_evidence(None, threshold=threshold, minimum_n=minimum_n)
        rr = max(rt.closed_rounds, key=lambda x: x.number)
        return survey_evidence({a: rr.answers.get(a, 0) for a in ANSWERS}, threshold=threshold, minimum_n=minimum_n,
                               round_id=rr.id, round_number=rr.number, closed=True, sus_total=rr.sus_total,
                               sus_n=rr.sus_responses)

    def finish_rounds(self) -> None:
        for r in self.pl.all_rounds():
            if r.rt is not None:
                self.put("survey_round", r.rt.round.row(ANSWERS))


class _RoundState:
    """A round's runtime record and its planned answers (dropped as they are replayed)."""

    __slots__ = ("plan", "round")

    def __init__(self, rr: RoundRT, plan: list[Answer]) -> None:
        self.round = rr
        self.plan = plan
