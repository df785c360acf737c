"""Scenario problems: drafting, criteria, comments, ratification, locks, amendments, retirement."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from governance import services as sv
from governance.demo.builder import BuilderBase, Event, ScenarioError


class ProblemSteps(BuilderBase):
    """One planner per problem action of the scenario (``"do": …``)."""

    def plan_problem(self, spec: Event) -> None:
        """Schedule every event of one scenario problem, in its order."""
        key = spec["key"]
        for event in spec["events"]:
            seq, day, do = self.next_seq(), event["day"], event["do"]
            label = f"problem {key}: {do} (day {day})"
            if do in ("ratify", "lock", "amend"):
                vote_key = f"{key}:{do}:{seq}"
                self.add(day, label, self._open_problem_vote(do, key, event, vote_key), seq=seq)
                self.plan_ballots(event, vote_key, seq, spec["panel"])
                continue
            planner = self._problem_actions().get(do)
            if planner is None:
                raise ScenarioError(f"{label}: unknown action '{do}'")
            self.add(day, label, self._step(planner, spec, event), seq=seq)

    def _problem_actions(self) -> dict[str, Callable[[Event, Event], None]]:
        return {"draft": self._draft, "criteria": self._criteria, "comment": self._comment,
                "revise": self._revise, "update_criterion": self._update_criterion,
                "retire": self._retire}

    def _draft(self, spec: Event, _event: Event) -> None:
        programme = self.programmes.get(spec.get("programme", ""))
        self.problems[spec["key"]] = self.act(
            sv.draft_problem, self.pid(spec["author"]), panel_id=self.panels[spec["panel"]],
            title=spec["title"], statement=spec["statement"], programme_id=programme)

    def _criteria(self, spec: Event, _event: Event) -> None:
        for c in spec["criteria"]:
            fields = {k: v for k, v in c.items() if k != "by"}
            self.act(sv.add_criterion, self.pid(c.get("by", spec["author"])),
                     self.problems[spec["key"]], **fields)

    def _comment(self, spec: Event, event: Event) -> None:
        self.act(sv.comment_on_problem, self.pid(event["by"]), self.problems[spec["key"]], event["text"])

    def _revise(self, spec: Event, event: Event) -> None:
        self.act(sv.revise_problem, self.pid(event["by"]), self.problems[spec["key"]],
                 title=event["title"], statement=event["statement"])

    def _update_criterion(self, spec: Event, event: Event) -> None:
        criterion = self.criterion_id(self.problems[spec["key"]], event["criterion"])
        self.act(sv.update_criterion, self.pid(event["by"]), criterion, **event["changes"])

    def _retire(self, spec: Event, event: Event) -> None:
        self.act(sv.retire_problem, self.pid(event["by"]), self.problems[spec["key"]],
                 reason=event["reason"])

    def _open_problem_vote(self, do: str, key: str, event: Event, vote_key: str) -> Callable[[], None]:
        """Ratification, criteria lock or amendment: each opens a panel vote."""
        def open_vote() -> None:
            problem, by = self.problems[key], self.pid(event["by"])
            result: Any
            if do == "amend":
                criterion = self.criterion_id(problem, event["criterion"])
                result = self.act(sv.propose_amendment, by, criterion, reason=event["reason"],
                                  **self.deadline(event), **event["changes"])
            else:
                propose = sv.propose_ratification if do == "ratify" else sv.propose_criteria_lock
                result = self.act(propose, by, problem, **self.deadline(event))
            self.votes[vote_key] = result
        return open_vote
