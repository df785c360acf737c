"""Scenario pilots: registration and team, roster, readiness, real use, measurements,
usage, feedback, surveys, the outcome vote and claims."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from governance import services as sv
from governance.demo.builder import Event, ScenarioError
from governance.demo.survey_steps import SurveySteps
from governance.storage.models import Pilot


class PilotSteps(SurveySteps):
    """One planner per pilot action of the scenario (``"do": …``)."""

    def plan_pilot(self, spec: Event) -> None:
        """Schedule every event of one scenario pilot, in its order."""
        key = spec["key"]
        for event in spec["events"]:
            seq, day, do = self.next_seq(), event["day"], event["do"]
            label = f"pilot {key}: {do} (day {day})"
            by = event.get("by", spec["registered_by"])
            if do == "feedback":
                self._plan_feedback(key, event, seq, label)
            elif do == "survey":
                self._plan_survey(key, event, seq, label, by)
            elif do == "outcome_vote":
                vote_key = f"{key}:outcome:{seq}"
                self.add(day, label, self._step(self._open_outcome_vote, key, event, vote_key), seq=seq)
                self.plan_ballots(event, vote_key, seq, None)
            elif do == "register":
                self.add(day, label, self._step(self._register, spec), seq=seq)
            else:
                planner = self._pilot_actions().get(do)
                if planner is None:
                    raise ScenarioError(f"{label}: unknown action '{do}'")
                self.add(day, label, self._step(planner, key, by, event), seq=seq)

    def _pilot_actions(self) -> dict[str, Callable[[str, str, Event], None]]:
        return {"roster": self._roster, "readiness": self._readiness, "waive": self._waive,
                "start": self._start, "measure": self._measure, "usage": self._usage,
                "amend_metric": self._amend_metric, "claim": self._claim}

    def _register(self, spec: Event) -> None:
        self.pilots[spec["key"]] = self.act(
            sv.register_pilot, self.pid(spec["registered_by"]),
            problem_id=self.problems[spec["problem"]], title=spec["title"],
            description=spec["description"], owner_id=self.pid(spec["owner"]),
            team_ids=[self.pid(k) for k in spec.get("team", [])], metrics=spec["metrics"])
        self.roster[spec["key"]] = []
        # Each invited person (the owner too) joins by accepting, as R15 requires.
        for invitation, person_id in self.pending_invitations(self.pilots[spec["key"]]):
            self.act(sv.accept_team_invitation, person_id, invitation)

    def _readiness(self, key: str, by: str, event: Event) -> None:
        for item, detail in event["items"].items():
            on = detail.get("on_day")
            self.act(sv.record_readiness, self.pid(by), self.pilots[key], item,
                     detail=detail["detail"], on_date=None if on is None else self.date_of(on))

    def _waive(self, key: str, _by: str, event: Event) -> None:
        self.act(sv.waive_readiness, self.pid(event["by"]), self.pilots[key], reason=event["reason"])

    def _start(self, key: str, by: str, _event: Event) -> None:
        self.act(sv.start_real_use, self.pid(by), self.pilots[key])

    def _amend_metric(self, key: str, by: str, event: Event) -> None:
        metric = self.metric_id(self.pilots[key], event["metric"])
        self.act(sv.amend_metric, self.pid(by), metric, reason=event["reason"], **event["changes"])

    def _claim(self, key: str, _by: str, event: Event) -> None:
        self.act(sv.record_claim, self.pid(event["by"]), self.pilots[key], statement=event["statement"],
                 cited_metrics=event["cites"], asserts_success=event.get("asserts_success", True))

    def _open_outcome_vote(self, key: str, event: Event, vote_key: str) -> None:
        self.votes[vote_key] = self.act(sv.open_outcome_vote, self.pid(event["by"]), self.pilots[key],
                                        **self.deadline(event))

    def _roster(self, key: str, by: str, event: Event) -> None:
        entries: list[tuple[int, str | None]] = [(self.pid(k), k) for k in event.get("people", [])]
        for part in event.get("staff", []):
            group = self.staff[part["group"]]
            entries += [(pid, None) for pid in group[part.get("from", 0):part.get("to", len(group))]]
        self.act(sv.add_to_roster, self.pid(by), self.pilots[key], [pid for pid, _ in entries])
        self.roster[key] += entries

    def _measure(self, key: str, by: str, event: Event) -> None:
        pilot = self.pilots[key]
        rows = event["rows"]
        if event.get("file"):
            body = "measure,observed_on,value\n" + "".join(
                f"{name},{self.date_of(day).isoformat()},{value}\n" for name, day, value in rows)
            self.act(sv.import_measurements, self.pid(by), pilot, filename=event["file"],
                     content=body.encode("utf-8"))
            return
        for name, day, value in rows:
            metric = self.metric_id(pilot, name, missing_ok=True)
            target = ({"metric_id": metric} if metric
                      else {"criterion_id": self.pilot_criterion_id(pilot, name)})
            self.act(sv.record_measurement, self.pid(by), pilot, value=value,
                     observed_on=self.date_of(day), **target)

    def _usage(self, key: str, by: str, event: Event) -> None:
        pilot = self.pilots[key]
        with self.db.uow().reading() as s:
            started = s.get_one(Pilot, pilot).real_use_started_at
        if started is None:
            raise ScenarioError(f"pilot {key}: usage is imported only after real use has started")
        first_week = started.date() - timedelta(days=started.weekday())
        eligible = event.get("eligible", len(self.roster[key]))
        offset = self.usage_weeks[key]
        lines = ["week_start,active_users,eligible_users"]
        for i, active in enumerate(event["active"]):
            week = first_week + timedelta(weeks=offset + i)
            lines.append(f"{week.isoformat()},{active},{eligible}")
        self.act(sv.import_usage, self.pid(by), pilot, filename=event["file"],
                 content=("\n".join(lines) + "\n").encode("utf-8"))
        self.usage_weeks[key] += len(event["active"])

    def _plan_feedback(self, key: str, event: Event, seq: int, label: str) -> None:
        item_key = f"{key}:feedback:{seq}"
        items: dict[str, int] = {}

        def raise_item() -> None:
            items[item_key] = self.act(sv.raise_feedback, self.pid(event["by"]), self.pilots[key],
                                       kind=event["kind"], body=event["text"])
        self.add(event["day"], label, raise_item, seq=seq)
        response = event.get("response")
        if response:
            if response["day"] <= event["day"]:
                raise ScenarioError(f"{label}: the response must come on a later day")

            def respond() -> None:
                self.act(sv.respond_to_feedback, self.pid(response["by"]), items[item_key],
                         response=response["text"])
            self.add(response["day"], f"{label}: response", respond, seq=seq, sub=1)

    # ----------------------------------------------------------- surveys
