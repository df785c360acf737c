"""What happens during real use, as the use cases write it: usage and measurement imports
(``import_usage``, ``import_measurements``: the file checked and hashed by
``governance.csvfiles``), entered measurements, feedback (R13), amended metrics (R4) and
claims with their checks (R12, ``rules.claims``)."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bench.bulk import db_ts
from bench.generate.core import day_of, moment
from bench.generate.pilots import PilotEmitter
from bench.generate.state import AmendmentRT, FeedbackRT, MetricRT, PilotRT
from bench.plan import PilotP
from governance.csvfiles import ParsedFile, parse_csv
from governance.record.chain import canonical_json
from governance.record.events import evaluation as evaluation_events, pilots as events
from governance.rules.claims import Citable, claim_checks
from governance.rules.deadlines import add_working_days
from governance.rules.prereg import canonical_metrics, metric_record, validate_metric
from governance.services.evaluation import USAGE_COLUMNS
from governance.services.pilots import MEASUREMENT_COLUMNS
from governance.vocabulary import AmendmentStatus

METRIC_REASON = "The vendor's baseline was measured on a different case mix; target re-based."
UNKNOWN_METRIC = "Staff satisfaction"


def _parsed(filename: str, content: str, columns: tuple[str, ...]) -> ParsedFile:
    """The file as the import accepts it: header and shape checked, SHA-256 and size taken."""
    return parse_csv(filename, content.encode("utf-8"), columns, lambda row: dict(row))


class RealUseEmitter(PilotEmitter):
    """Imports, measurements, feedback, metric amendments and claims."""

    criterion_latest: dict[int, tuple[tuple[str, int], dict[str, Any]]]

    def act_usage(self, p: PilotP, n: int) -> None:
        """Weekly active against eligible users since the last import (a log export)."""
        rt: PilotRT = p.rt
        t = self.now()
        assert rt.real_use_started_at is not None
        start = day_of(rt.real_use_started_at)
        first = start - timedelta(days=start.weekday())
        week = rt.usage[-1][0] + timedelta(days=7) if rt.usage else first
        weeks = []
        while week <= day_of(t):
            weeks.append(week)
            week += timedelta(days=7)
        if not weeks:
            return
        eligible = len(rt.roster)
        rows = [(wk, self._active(p, (wk - first).days // 7, eligible), eligible) for wk in weeks]
        parsed = _parsed(f"usage-export-{rt.id}-{n + 1}.csv", "week_start,active_users,eligible_users\n"
                         + "".join(f"{wk.isoformat()},{a},{e}\n" for wk, a, e in rows), USAGE_COLUMNS)
        fid = self.next_id("source_file")
        who = p.core_team[-1]
        self.w.add("source_file", (fid, rt.id, "usage", parsed.filename, parsed.sha256, parsed.byte_size, len(rows),
                                   who, db_ts(t)))
        for wk, a, e in rows:
            self.w.add("usage_week", (self.next_id("usage_week"), rt.id, wk.isoformat(), a, e, fid))
        rt.usage += rows
        self.log(who, evaluation_events.usage_imported(source_file_id=fid, pilot_id=rt.id, filename=parsed.filename,
                                                       sha256=parsed.sha256, weeks=weeks))

    def _active(self, p: PilotP, k: int, eligible: int) -> int:
        if p.compliance:
            share = min(0.95, 0.55 + 0.05 * k)
        elif p.rounds and p.rounds[-1].verdict == "pass":
            share = min(0.9, 0.25 + 0.08 * k)
        else:
            share = max(0.1, 0.5 - 0.04 * k)
        return max(0, min(eligible, int(eligible * share * self.rng.uniform(0.93, 1.05))))

    def _metric_value(self, p: PilotP, m: MetricRT) -> float:
        factor = self.rng.uniform(1.0, 1.08) if p.on_target else self.rng.uniform(0.75, 0.97)
        if m.direction == "lower_is_better":
            factor = 2 - factor
        value = m.target * factor
        return round(min(100.0, value) if m.unit == "percent" else value, 2)

    def _measure(self, rt: PilotRT, subject: int, *, metric: bool, value: float, observed: date,
                 file: tuple[int, str, str] | None, who: int, t: int) -> int:
        """One measurement row; keeps the latest value per subject as ``repository`` picks it
        (the latest observation date, then the latest row)."""
        row_id = self.next_id("measurement")
        source = "imported" if file else "entered"
        self.w.add("measurement", (row_id, rt.id, None if metric else subject, subject if metric else None, value,
                                   observed.isoformat(), source, file[0] if file else None, who, db_ts(t)))
        latest = {"value": value, "observed_on": observed.isoformat(), "source": source,
                  "source_sha256": file[1] if file else None, "source_file": file[2] if file else None}
        key = (observed.isoformat(), row_id)
        store = rt.latest_metric if metric else self.criterion_latest
        old = store.get(subject)
        if old is None or key > old[0]:
            store[subject] = (key, latest)
        return row_id

    def act_measure(self, p: PilotP, k: int) -> None:
        """``record_measurement`` of each commissioning metric."""
        rt: PilotRT = p.rt
        who = p.core_team[k % len(p.core_team)]
        for m in rt.metrics:
            t = self.now()
            observed = max(day_of(t) - timedelta(days=self.rng.randint(0, 3)), day_of(rt.registered_at))
            value = self._metric_value(p, m)
            mid = self._measure(rt, m.id, metric=True, value=value, observed=observed, file=None, who=who, t=t)
            self.log(who, events.measurement_recorded(measurement_id=mid, pilot_id=rt.id, measure=m.name,
                                                      value=value, observed_on=observed))

    def act_measure_import(self, p: PilotP, k: int) -> None:
        """``import_measurements`` of the frontline criteria (a spreadsheet from the site)."""
        rt: PilotRT = p.rt
        crits = [c for c in rt.version.criteria if not c.is_indispensability]
        if not crits:
            return
        t = self.now()
        who = p.registrar
        observed = day_of(t) - timedelta(days=1)
        rows = []
        for c in crits:
            good = p.on_target != c.name.startswith("Errors")
            factor = self.rng.uniform(1.0, 1.1) if good else self.rng.uniform(0.8, 0.97)
            value = round(c.target * (2 - factor if c.direction == "lower_is_better" else factor), 3)
            if c.unit == "share":
                value = min(1.0, value)
            if c.unit == "rating_1_5":
                value = min(5.0, max(1.0, value))
            rows.append((c, value))
        parsed = _parsed(f"criteria-{rt.id}-{k + 1}.csv", "measure,observed_on,value\n"
                         + "".join(f"{c.name},{observed.isoformat()},{v}\n" for c, v in rows), MEASUREMENT_COLUMNS)
        fid = self.next_id("source_file")
        self.w.add("source_file", (fid, rt.id, "measurements", parsed.filename, parsed.sha256, parsed.byte_size,
                                   len(rows), who, db_ts(t)))
        for c, value in rows:
            self._measure(rt, c.id, metric=False, value=value, observed=observed,
                          file=(fid, parsed.sha256, parsed.filename), who=who, t=t)
        self.log(who, events.measurements_imported(source_file_id=fid, pilot_id=rt.id, filename=parsed.filename,
                                                   sha256=parsed.sha256, rows=len(rows)))

    def act_feedback(self, p: PilotP, raiser: int, kind: str, body: str, t_resp: int | None, responder: int,
                     response: str) -> None:
        """``raise_feedback``: due within the charter's response time (R13)."""
        rt: PilotRT = p.rt
        assert raiser in rt.roster, "feedback from someone not on the roster"
        t = self.now()
        due = add_working_days(day_of(t), self.charter.terms.feedback_response_working_days)
        item = rt.feedback[(raiser, t_resp, body)] = FeedbackRT(self.next_id("feedback_item"), rt.id, raiser, t,
                                                                 kind, body, due)
        self.log(raiser, evaluation_events.feedback_raised(item_id=item.id, pilot_id=rt.id, kind=kind, body=body,
                                                           due_on=due))

    def respond_feedback(self, p: PilotP, args: tuple[Any, ...]) -> None:
        raiser, _kind, body, t_resp, responder, response = args
        rt: PilotRT = p.rt
        item = rt.feedback[(raiser, t_resp, body)]
        assert responder in rt.current_team(), "feedback answered by someone not on the team"
        item.response, item.responded_by, item.responded_at = response, responder, self.now()
        late = day_of(item.responded_at) > item.due_on
        self.log(responder, evaluation_events.feedback_responded(item_id=item.id, response=response, late=late,
                                                                 due_on=item.due_on))

    def act_amend_metric(self, p: PilotP, index: int, who: int) -> None:
        """``amend_metric``: a locked metric re-based after real use began (R4)."""
        rt: PilotRT = p.rt
        m = rt.metrics[index]
        target = round(m.target * (0.9 if m.direction == "higher_is_better" else 1.1), 2)
        cleaned = {"target": validate_metric({**metric_record(m), "target": target})["target"]}
        before = {k: getattr(m, k) for k in cleaned}
        now = self.now()
        a = AmendmentRT(self.next_id("amendment"), None, m.id, canonical_json(before), canonical_json(cleaned),
                        METRIC_REASON, AmendmentStatus.APPLIED, who, now, decided_at=now, after_real_use=True)
        m.target = cleaned["target"]
        _, a.resulting_sha256 = canonical_metrics(rt.id, rt.metrics_by_name())
        rt.amendments.append(a)
        self.log(who, events.metric_amended(metric_id=m.id, pilot_id=rt.id, before=before, after=cleaned,
                                            reason=METRIC_REASON, amendment_id=a.id, metrics_sha256=a.resulting_sha256))

    def act_claim(self, p: PilotP, who: int, success: bool, cite_unknown: bool) -> None:
        """``record_claim`` with the checks of ``rules.claims`` against what the record holds."""
        rt: PilotRT = p.rt
        names: list[str] = [m.name for m in rt.metrics[:2]] + ([UNKNOWN_METRIC] if cite_unknown else [])
        crit = [c for c in rt.version.criteria if not c.is_indispensability]
        if crit and self.rng.random() < 0.3:
            names.append(crit[0].name)
        checks = claim_checks(names, self._citable(rt), moment(rt.real_use_started_at)
                              if rt.real_use_started_at is not None else None,
                              rt.decision[0] if rt.decision else None, rt.decision[1] if rt.decision else None,
                              success)
        statement = ("The pilot met its KPIs and is ready to scale." if success
                     else "The pilot did not deliver what was promised.")
        cid = self.next_id("claim")
        self.w.add("claim", (cid, rt.id, who, db_ts(self.now()), statement, success, canonical_json(names),
                             canonical_json(checks), rt.decision[0] if rt.decision else None))
        self.log(who, events.claim_recorded(claim_id=cid, pilot_id=rt.id, statement=statement,
                                            asserts_success=success, cited=names, flags=checks["flags"]))

    @staticmethod
    def _citable(rt: PilotRT) -> list[Citable]:
        """``repository.citable``: the pilot's metrics and its problem version's criteria."""
        lock = rt.version.lock
        amended_m = {a.metric_id for a in rt.amendments if a.after_real_use and a.status == AmendmentStatus.APPLIED}
        amended_c = {a.criterion_id for a in rt.version.amendments
                     if a.after_real_use and a.status == AmendmentStatus.APPLIED}
        return ([Citable(m.id, m.name, "commissioning metric", moment(m.created_at), m.id in amended_m)
                 for m in rt.metrics_by_name()]
                + [Citable(c.id, c.name, "frontline criterion", moment(lock.locked_at) if lock else None,
                           c.id in amended_c) for c in rt.version.criteria_by_name()])
