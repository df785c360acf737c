"""Scenario surveys: a round opens, answers arrive over some days (with revisions), the round closes."""
from __future__ import annotations

import random
from collections import Counter

from governance import services as sv
from governance.demo.builder import BuilderBase, Event, ScenarioError
from governance.vocabulary import SurveyAnswer


class SurveySteps(BuilderBase):
    """The survey action of a scenario pilot."""

    def _plan_survey(self, key: str, event: Event, seq: int, label: str, by: str) -> None:
        over = int(event.get("over_days", 1))
        days = [self.weekday_after(event["day"], i) for i in range(over)]
        close_day = event.get("close_day")
        if close_day is not None and close_day <= days[-1]:
            raise ScenarioError(f"{label}: the round must close after the last response day")

        survey = f"{key}:survey:{seq}"

        def open_round() -> None:
            self.rounds[survey] = self.act(sv.open_survey_round, self.pid(by), self.pilots[key])
            self.plans[survey] = self._survey_plan(key, event, over)
        self.add(days[0], f"{label}: open", open_round, seq=seq, sub=0)
        for i, day in enumerate(days):
            self.add(day, f"{label}: responses {i + 1}/{over}",
                     self._step(self._responses_on_day, survey, event, i), seq=seq, sub=1 + i)
        if close_day is not None:
            def close_round() -> None:
                self.act(sv.close_survey_round, self.pid(event.get("close_by", by)), self.rounds[survey])
            self.add(close_day, f"{label}: close", close_round, seq=seq, sub=over + 1)

    def _responses_on_day(self, survey: str, event: Event, i: int) -> None:
        self._responses(survey, event, self.plans[survey][i])

    def _survey_plan(self, key: str, event: Event, over: int
                     ) -> list[list[tuple[int, str, int]]]:
        """Who answers what on which day: [(person, answer, index)] per day; revisions last."""
        answers: dict[str, int] = dict(event["answers"])
        for a in answers:
            SurveyAnswer(a)
        named: dict[str, str] = event.get("named", {})
        rng = random.Random(f"demo-survey-{key}")
        roster = self.roster[key]
        named_ids = {self.pid(k): a for k, a in named.items()}
        rostered = {pid for pid, _ in roster}
        for k, pid in zip(named, named_ids, strict=True):
            if pid not in rostered:
                raise ScenarioError(f"survey {key}: {k} is not on the roster")
        staff = [pid for pid, k in roster if k is None]
        others = [pid for pid, k in roster if k is not None and pid not in named_ids]
        rng.shuffle(staff)
        rng.shuffle(others)
        total = sum(answers.values())
        if total > len(roster):
            raise ScenarioError(f"survey {key}: {total} answers but only {len(roster)} on the roster")
        remaining = Counter(answers)
        remaining.subtract(Counter(named_ids.values()))
        if any(v < 0 for v in remaining.values()):
            raise ScenarioError(f"survey {key}: named answers exceed the answer counts")
        pool = [a for a, n in remaining.items() for _ in range(n)]
        rng.shuffle(pool)
        respondents = list(named_ids.items()) + list(zip((staff + others)[:len(pool)], pool, strict=True))
        rng.shuffle(respondents)
        ordered = [(pid, answer, i) for i, (pid, answer) in enumerate(respondents)]
        per_day = -(-len(ordered) // over)
        plan = [ordered[i * per_day:(i + 1) * per_day] for i in range(over)]
        # Revisions: someone first answers "from", then changes to their final "to".
        for rev in event.get("revisions", []):
            changers = [r for r in ordered if r[1] == rev["to"] and r[0] not in named_ids][:rev["count"]]
            changer_ids = {r[0] for r in changers}
            for day_plan in plan:
                for j, (pid, _answer, i) in enumerate(day_plan):
                    if pid in changer_ids:
                        day_plan[j] = (pid, rev["from"], i)
            plan[-1].extend(changers)
        return plan

    def _responses(self, survey: str, spec: Event, todays: list[tuple[int, str, int]]) -> None:
        defaults = self.sc.get("survey_defaults", {})
        sus_templates = spec.get("sus", defaults.get("sus", {}))
        every, skip = defaults.get("sus_every", 4), defaults.get("sus_skip", 3)
        texts = spec.get("texts", {})
        seen = self._text_counts
        for pid, answer, i in todays:
            templates = sus_templates.get(answer)
            sus = templates[i % len(templates)] if templates and i % every != skip else None
            pair = ("", "")
            options = texts.get(answer, [])
            n = seen[f"{survey}:{answer}"]
            if options and n < 2 * len(options):
                first, second = options[n % len(options)]
                pair = (first, second)
            seen[f"{survey}:{answer}"] += 1
            self.act(sv.submit_survey_response, pid, self.rounds[survey], answer=answer, sus=sus,
                     use_instead=pair[0], main_benefit=pair[1])

