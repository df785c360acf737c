"""Bad input is refused with a message that says what to fix, and writes nothing.

One table of refusals per use-case family: blank and over-long text, numbers
out of range or not finite, unknown units and directions, impossible dates,
duplicate names where names must be unique, and ids that name nothing. Each
case asserts the error type, a meaningful part of the message, and (through
``world.refuses``) that not a single row changed — the audit record included.

The refusals share one organisation (they write nothing, so they cannot
disturb each other); the cases that must be *accepted* get their own.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from governance import services as sv
from governance.errors import InvalidInput, NotFound, RuleViolation
from governance.record.chain import sha256_hex
from governance.storage.db import Database, FixedClock
from governance.storage.models import (
    CommissioningMetric,
    Criterion,
    Measurement,
    Problem,
    ProblemVersion,
    SourceFile,
)
from tests.conftest import START
from tests.world import World

NAN, INF = float("nan"), float("inf")
MISSING = 999_999
REGISTERED = START.date()  # the pilots are registered on the first day
TODAY = REGISTERED + timedelta(days=10)  # ... and the shared clock then moves on ten days
FUTURE = TODAY + timedelta(days=1)
BEFORE = REGISTERED - timedelta(days=1)


@dataclass
class Org:
    w: World
    programme: int
    draft: int  # draft problem "Re-keying referral letters"
    crit: int  # its own criterion "Minutes re-keying per week"
    indisp: int  # its indispensability threshold
    problem: int  # locked problem "Lost referral letters", with two pilots
    pilot: int  # "Referral letter assistant", in real use
    metric: int  # its "Extraction accuracy"
    pilot_crit: int  # the locked problem's own criterion
    pilot_indisp: int
    other_pilot: int  # "Letter triage bot", registered only
    other_metric: int


def _criteria(db: Database, problem: int) -> tuple[int, int]:
    with db.uow().reading() as s:
        rows = s.execute(select(Criterion.id, Criterion.is_indispensability).join(ProblemVersion)
                         .where(ProblemVersion.problem_id == problem)
                         .order_by(Criterion.is_indispensability)).all()
    return rows[0].id, rows[-1].id


def _metric(db: Database, pilot: int) -> int:
    with db.uow().reading() as s:
        return s.scalars(select(CommissioningMetric.id).where(
            CommissioningMetric.pilot_id == pilot, CommissioningMetric.name == "Extraction accuracy")).one()


@pytest.fixture(scope="module")
def org(database_factory: Any) -> Iterator[Org]:
    url = database_factory.url()
    clock = FixedClock(START)
    db = Database(url, clock=clock)
    w = World(db, clock)
    programme = sv.create_programme(w.uow, w.admin, name="Digital front door")
    draft = w.draft_problem()
    w.add_criterion(draft)
    problem, pilot = w.pilot_in_use(title="Lost referral letters",
                                    statement="Referral letters go missing between the two systems.")
    other_pilot = w.register_pilot(problem, title="Letter triage bot")
    clock.advance(days=10)
    crit, indisp = _criteria(db, draft)
    pilot_crit, pilot_indisp = _criteria(db, problem)
    yield Org(w, programme, draft, crit, indisp, problem, pilot, _metric(db, pilot), pilot_crit,
              pilot_indisp, other_pilot, _metric(db, other_pilot))
    db.dispose()
    database_factory.drop(url)


Case = tuple[str, Callable[[Org], Any], type[Exception], str]


def run_cases(cases: list[Case]) -> Any:
    return pytest.mark.parametrize("attempt,error,match", [c[1:] for c in cases],
                                   ids=[c[0] for c in cases])


def refused(org: Org, attempt: Callable[[Org], Any], error: type[Exception], match: str) -> None:
    with org.w.refuses(error, match=match):
        attempt(org)


# ==================================================================== people
def person(o: Org, **kw: Any) -> Any:
    fields = {"name": "Pat Person", "email": "pat@example.org", "roles": ["frontline"]} | kw
    return sv.create_person(o.w.uow, o.w.admin, **fields)


PEOPLE: list[Case] = [
    ("empty-name", lambda o: person(o, name=""), InvalidInput, "Name is empty; write it in a few words"),
    ("whitespace-name", lambda o: person(o, name=" \t\n "), InvalidInput, "Name is empty"),
    ("long-name", lambda o: person(o, name="x" * 121), InvalidInput,
     r"Name is too long \(121 characters\); keep it under 120"),
    ("control-characters", lambda o: person(o, name="Pat\x00Person"), InvalidInput,
     "Name contains control characters"),
    ("name-not-text", lambda o: person(o, name=42), InvalidInput, "Name must be text"),
    ("bad-email", lambda o: person(o, email="pat.example.org"), InvalidInput,
     "'pat.example.org' is not an email address; write it as name@example.org"),
    ("duplicate-email", lambda o: person(o, email=" FIONA.Facilitator@Example.org "), InvalidInput,
     "Someone with the email fiona.facilitator@example.org already exists"),
    ("unknown-role", lambda o: person(o, roles=["frontline", "superuser"]), InvalidInput,
     "Role 'superuser' is not known; use one of: frontline, facilitator"),
    ("short-password", lambda o: person(o, password="hunter2"), InvalidInput,
     "password must be at least 12 characters"),
    ("set-roles-unknown-person", lambda o: sv.set_roles(o.w.uow, o.w.admin, MISSING, ["frontline"]),
     NotFound, f"There is no person #{MISSING}"),
    ("set-roles-unknown-role", lambda o: sv.set_roles(o.w.uow, o.w.admin, o.w.members[0], ["boss"]),
     InvalidInput, "Role 'boss' is not known"),
    ("deactivate-unknown-person", lambda o: sv.deactivate_person(o.w.uow, o.w.admin, MISSING,
                                                                 reason="Left the organisation."),
     NotFound, f"There is no person #{MISSING}"),
    ("deactivate-without-reason", lambda o: sv.deactivate_person(o.w.uow, o.w.admin, o.w.members[0],
                                                                 reason="  "),
     InvalidInput, "Reason is empty"),
    ("person-id-not-a-number", lambda o: sv.set_roles(o.w.uow, o.w.admin, "3", ["frontline"]),
     InvalidInput, "person id must be the number of an existing record"),
]


@run_cases(PEOPLE)
def test_people(org: Org, attempt: Callable[[Org], Any], error: type[Exception], match: str) -> None:
    refused(org, attempt, error, match)


# ==================================================== panels and programmes
PANELS: list[Case] = [
    ("empty-name", lambda o: sv.create_panel(o.w.uow, o.w.admin, name=""), InvalidInput,
     "Panel name is empty"),
    ("whitespace-name", lambda o: sv.create_panel(o.w.uow, o.w.admin, name="   "), InvalidInput,
     "Panel name is empty"),
    ("long-name", lambda o: sv.create_panel(o.w.uow, o.w.admin, name="p" * 201), InvalidInput,
     r"Panel name is too long \(201 characters\); keep it under 200"),
    ("long-site", lambda o: sv.create_panel(o.w.uow, o.w.admin, name="Hillside", site="s" * 201),
     InvalidInput, "Site is too long"),
    ("duplicate-name", lambda o: sv.create_panel(o.w.uow, o.w.admin, name="  riverside CLINIC panel "),
     InvalidInput, "A panel called 'riverside CLINIC panel' already exists; choose another name"),
    ("unknown-programme", lambda o: sv.create_panel(o.w.uow, o.w.admin, name="Hillside",
                                                    programme_id=MISSING),
     NotFound, f"There is no programme #{MISSING}"),
    ("empty-programme-name", lambda o: sv.create_programme(o.w.uow, o.w.admin, name=""), InvalidInput,
     "Programme name is empty"),
    ("duplicate-programme", lambda o: sv.create_programme(o.w.uow, o.w.admin, name="digital front DOOR"),
     InvalidInput, "A programme called 'digital front DOOR' already exists"),
    ("member-of-unknown-panel", lambda o: sv.add_panel_member(o.w.uow, o.w.admin, MISSING, o.w.outsider),
     NotFound, f"There is no panel #{MISSING}"),
    ("unknown-member", lambda o: sv.add_panel_member(o.w.uow, o.w.admin, o.w.panel, MISSING),
     NotFound, f"There is no person #{MISSING}"),
    ("unknown-panel-role", lambda o: sv.add_panel_member(o.w.uow, o.w.admin, o.w.panel, o.w.outsider,
                                                         "chair"),
     InvalidInput, "Panel role 'chair' is not known; use one of: member, facilitator"),
    ("already-a-member", lambda o: sv.add_panel_member(o.w.uow, o.w.admin, o.w.panel, o.w.members[0]),
     InvalidInput, "Member 1 is already a member of Riverside Clinic Panel"),
    ("remove-a-non-member", lambda o: sv.remove_panel_member(o.w.uow, o.w.admin, o.w.panel,
                                                             o.w.outsider),
     InvalidInput, "not a member of this panel"),
]


@run_cases(PANELS)
def test_panels(org: Org, attempt: Callable[[Org], Any], error: type[Exception], match: str) -> None:
    refused(org, attempt, error, match)


# =================================================================== problems
def draft(o: Org, **kw: Any) -> Any:
    fields = {"panel_id": o.w.panel, "title": "Printer queue", "statement": "The printer jams daily."} | kw
    return sv.draft_problem(o.w.uow, o.w.members[0], **fields)


PROBLEMS: list[Case] = [
    ("empty-title", lambda o: draft(o, title=""), InvalidInput, "Title is empty; write it in a few words"),
    ("whitespace-title", lambda o: draft(o, title="\u00a0 \t "), InvalidInput, "Title is empty"),
    ("long-title", lambda o: draft(o, title="t" * 201), InvalidInput,
     r"Title is too long \(201 characters\); keep it under 200"),
    ("empty-statement", lambda o: draft(o, statement=""), InvalidInput, "Problem statement is empty"),
    ("long-statement", lambda o: draft(o, statement="s" * 4001), InvalidInput,
     r"Problem statement is too long \(4,001 characters\); keep it under 4,000"),
    ("title-not-text", lambda o: draft(o, title=None), InvalidInput, "Title is empty"),
    ("duplicate-title-in-panel", lambda o: draft(o, title="  re-keying REFERRAL letters"), InvalidInput,
     "Riverside Clinic Panel already has a problem called 're-keying REFERRAL letters'"),
    ("unknown-panel", lambda o: draft(o, panel_id=MISSING), NotFound, f"There is no panel #{MISSING}"),
    ("unknown-programme", lambda o: draft(o, programme_id=MISSING), NotFound,
     f"There is no programme #{MISSING}"),
    ("revise-unknown-problem", lambda o: sv.revise_problem(o.w.uow, o.w.members[0], MISSING,
                                                           title="T", statement="S"),
     NotFound, f"There is no problem #{MISSING}"),
    ("revise-to-blank-title", lambda o: sv.revise_problem(o.w.uow, o.w.members[0], o.draft, title=" ",
                                                          statement="Still a statement."),
     InvalidInput, "Title is empty"),
    ("empty-comment", lambda o: sv.comment_on_problem(o.w.uow, o.w.steering, o.draft, "  "),
     InvalidInput, "Comment is empty"),
    ("long-comment", lambda o: sv.comment_on_problem(o.w.uow, o.w.steering, o.draft, "c" * 4001),
     InvalidInput, "Comment is too long"),
    ("comment-on-unknown-problem", lambda o: sv.comment_on_problem(o.w.uow, o.w.steering, MISSING, "Hi"),
     NotFound, f"There is no problem #{MISSING}"),
    ("retire-without-reason", lambda o: sv.retire_problem(o.w.uow, o.w.facilitator, o.draft, reason=""),
     InvalidInput, "Reason is empty"),
]


@run_cases(PROBLEMS)
def test_problems(org: Org, attempt: Callable[[Org], Any], error: type[Exception], match: str) -> None:
    refused(org, attempt, error, match)


# =================================================================== criteria
def criterion(o: Org, **kw: Any) -> Any:
    fields = {"name": "Letters lost", "definition": "Letters never entered.",
                  "measurement_method": "Weekly count.", "unit": "count", "direction": "lower_is_better",
                  "target": 0, "minimum_evidence": 4} | kw
    return sv.add_criterion(o.w.uow, o.w.members[0], o.draft, **fields)


def threshold(o: Org, **changes: Any) -> Any:
    return sv.update_criterion(o.w.uow, o.w.members[0], o.indisp, **changes)


CRITERIA: list[Case] = [
    ("empty-name", lambda o: criterion(o, name=" "), InvalidInput, "Criterion name is empty"),
    ("long-name", lambda o: criterion(o, name="n" * 121), InvalidInput, "Criterion name is too long"),
    ("empty-definition", lambda o: criterion(o, definition=""), InvalidInput, "Definition is empty"),
    ("empty-method", lambda o: criterion(o, measurement_method=""), InvalidInput,
     "How it is measured is empty"),
    ("unknown-unit", lambda o: criterion(o, unit="furlongs"), InvalidInput,
     "Unit 'furlongs' is not known; use one of: percent, share, count"),
    ("unknown-direction", lambda o: criterion(o, direction="sideways"), InvalidInput,
     "Direction 'sideways' is not known; use one of: higher_is_better, lower_is_better"),
    ("nan-target", lambda o: criterion(o, target=NAN), InvalidInput,
     r"Target must be a finite number \(not NaN or infinity\)"),
    ("infinite-target", lambda o: criterion(o, target=INF), InvalidInput, "Target must be a finite number"),
    ("minus-infinite-target", lambda o: criterion(o, target="-inf"), InvalidInput,
     "Target must be a finite number"),
    ("text-target", lambda o: criterion(o, target="sixty"), InvalidInput,
     "Target must be a number, not 'sixty'"),
    ("missing-target", lambda o: criterion(o, target=None), InvalidInput, "Target must be a number"),
    ("share-above-1", lambda o: criterion(o, unit="share", target=1.5), InvalidInput,
     "Target must be at most 1; it was 1.5"),
    ("percent-above-100", lambda o: criterion(o, unit="percent", target=150), InvalidInput,
     "Target must be at most 100; it was 150"),
    ("negative-minutes", lambda o: criterion(o, unit="minutes", target=-5), InvalidInput,
     "Target must be at least 0; it was -5"),
    ("rating-out-of-scale", lambda o: criterion(o, unit="rating_1_5", target=6), InvalidInput,
     "Target must be at most 5"),
    ("zero-evidence", lambda o: criterion(o, minimum_evidence=0), InvalidInput,
     "Minimum evidence must be at least 1; it was 0"),
    ("fractional-evidence", lambda o: criterion(o, minimum_evidence=2.5), InvalidInput,
     "Minimum evidence must be a whole number, not 2.5"),
    ("duplicate-name", lambda o: criterion(o, name="minutes RE-KEYING per week"), InvalidInput,
     "This problem already has a criterion called 'minutes RE-KEYING per week'"),
    ("duplicate-of-the-threshold", lambda o: criterion(o, name="INDISPENSABILITY"), InvalidInput,
     "already has a criterion called 'INDISPENSABILITY'"),
    ("unknown-problem", lambda o: sv.add_criterion(o.w.uow, o.w.members[0], MISSING, name="x",
                                                   definition="x", measurement_method="x", unit="count",
                                                   direction="lower_is_better", target=1,
                                                   minimum_evidence=1),
     NotFound, f"There is no problem #{MISSING}"),
    # The indispensability threshold is a share in (0, 1].
    ("threshold-zero", lambda o: threshold(o, target=0), InvalidInput,
     "Indispensability threshold must be above 0; it was 0"),
    ("threshold-negative", lambda o: threshold(o, target=-0.1), InvalidInput,
     "Indispensability threshold must be above 0"),
    ("threshold-above-1", lambda o: threshold(o, target=1.01), InvalidInput,
     "Indispensability threshold must be at most 1; it was 1.01"),
    ("threshold-as-percent", lambda o: threshold(o, target=40), InvalidInput,
     "Indispensability threshold must be at most 1; it was 40"),
    ("threshold-nan", lambda o: threshold(o, target=NAN), InvalidInput,
     "Indispensability threshold must be a finite number"),
    ("threshold-infinite", lambda o: threshold(o, target=INF), InvalidInput,
     "Indispensability threshold must be a finite number"),
    ("threshold-evidence-below-charter", lambda o: threshold(o, minimum_evidence=29), InvalidInput,
     "Minimum evidence must be at least 30; it was 29"),
    ("threshold-unit", lambda o: threshold(o, unit="percent"), InvalidInput,
     "Only the threshold and minimum evidence can be changed here"),
    ("unknown-field", lambda o: sv.update_criterion(o.w.uow, o.w.members[0], o.crit, colour="red"),
     InvalidInput, r"Only name, definition, .* can be changed here \(not colour\)"),
    ("nothing-to-change", lambda o: sv.update_criterion(o.w.uow, o.w.members[0], o.crit), InvalidInput,
     "Nothing to change"),
    ("same-value", lambda o: sv.update_criterion(o.w.uow, o.w.members[0], o.crit, target=60),
     InvalidInput, "Those values are the ones already recorded"),
    ("update-bad-direction", lambda o: sv.update_criterion(o.w.uow, o.w.members[0], o.crit,
                                                           direction="up"),
     InvalidInput, "Direction 'up' is not known"),
    ("update-unknown-criterion", lambda o: sv.update_criterion(o.w.uow, o.w.members[0], MISSING, target=1),
     NotFound, f"There is no criterion #{MISSING}"),
    ("remove-unknown-criterion", lambda o: sv.remove_criterion(o.w.uow, o.w.members[0], MISSING),
     NotFound, f"There is no criterion #{MISSING}"),
    ("remove-the-threshold", lambda o: sv.remove_criterion(o.w.uow, o.w.members[0], o.indisp),
     RuleViolation, "The indispensability threshold is always part of the criteria"),
]


@run_cases(CRITERIA)
def test_criteria(org: Org, attempt: Callable[[Org], Any], error: type[Exception], match: str) -> None:
    refused(org, attempt, error, match)


# ===================================================================== pilots
METRIC = {"name": "Minutes saved", "definition": "Clerk time saved.", "unit": "minutes",
              "direction": "higher_is_better", "target": 4}


def pilot(o: Org, **kw: Any) -> Any:
    fields = {"problem_id": o.problem, "title": "Fax robot", "description": "Reads faxes.",
                  "owner_id": o.w.commissioner, "metrics": [METRIC]} | kw
    return sv.register_pilot(o.w.uow, o.w.commissioner, **fields)


PILOTS: list[Case] = [
    ("empty-title", lambda o: pilot(o, title=""), InvalidInput, "Pilot title is empty"),
    ("whitespace-title", lambda o: pilot(o, title="   "), InvalidInput, "Pilot title is empty"),
    ("long-title", lambda o: pilot(o, title="t" * 201), InvalidInput, "Pilot title is too long"),
    ("empty-description", lambda o: pilot(o, description=""), InvalidInput, "Description is empty"),
    ("long-description", lambda o: pilot(o, description="d" * 4001), InvalidInput,
     "Description is too long"),
    ("duplicate-title", lambda o: pilot(o, title="referral LETTER assistant"), InvalidInput,
     "A pilot called 'referral LETTER assistant' already exists; choose a distinct title"),
    ("unknown-problem", lambda o: pilot(o, problem_id=MISSING), NotFound, f"There is no problem #{MISSING}"),
    ("unknown-owner", lambda o: pilot(o, owner_id=MISSING), NotFound, f"There is no owner #{MISSING}"),
    ("unknown-team-member", lambda o: pilot(o, team_ids=[MISSING]), NotFound,
     f"There is no team member #{MISSING}"),
    ("metric-unknown-unit", lambda o: pilot(o, metrics=[METRIC | {"unit": "parsecs"}]), InvalidInput,
     "Unit 'parsecs' is not known"),
    ("metric-nan-target", lambda o: pilot(o, metrics=[METRIC | {"target": NAN}]), InvalidInput,
     "Target must be a finite number"),
    ("metric-duplicate-names", lambda o: pilot(o, metrics=[METRIC, METRIC | {"name": "minutes SAVED"}]),
     InvalidInput, "Two commissioning metrics have the same name"),
]


@run_cases(PILOTS)
def test_pilots(org: Org, attempt: Callable[[Org], Any], error: type[Exception], match: str) -> None:
    refused(org, attempt, error, match)


# ==================================================================== metrics
def metric(o: Org, **kw: Any) -> Any:
    return sv.add_metric(o.w.uow, o.w.commissioner, o.other_pilot, **(METRIC | kw))


METRICS: list[Case] = [
    ("empty-name", lambda o: metric(o, name=""), InvalidInput, "Metric name is empty"),
    ("long-name", lambda o: metric(o, name="m" * 121), InvalidInput, "Metric name is too long"),
    ("empty-definition", lambda o: metric(o, definition=" "), InvalidInput, "Metric definition is empty"),
    ("unknown-unit", lambda o: metric(o, unit="smiles"), InvalidInput, "Unit 'smiles' is not known"),
    ("unknown-direction", lambda o: metric(o, direction="up"), InvalidInput,
     "Direction 'up' is not known; use one of: higher_is_better, lower_is_better"),
    ("nan-target", lambda o: metric(o, target=NAN), InvalidInput, "Target must be a finite number"),
    ("infinite-target", lambda o: metric(o, target=-INF), InvalidInput, "Target must be a finite number"),
    ("percent-above-100", lambda o: metric(o, unit="percent", target=101), InvalidInput,
     "Target must be at most 100; it was 101"),
    ("negative-share", lambda o: metric(o, unit="share", target=-0.1), InvalidInput,
     "Target must be at least 0"),
    ("duplicate-name", lambda o: metric(o, name="extraction ACCURACY"), InvalidInput,
     "This pilot already has a metric called 'extraction ACCURACY'"),
    ("unknown-pilot", lambda o: sv.add_metric(o.w.uow, o.w.commissioner, MISSING, **METRIC), NotFound,
     f"There is no pilot #{MISSING}"),
    ("update-unknown-metric", lambda o: sv.update_metric(o.w.uow, o.w.commissioner, MISSING, target=1),
     NotFound, f"There is no metric #{MISSING}"),
    ("update-unknown-field", lambda o: sv.update_metric(o.w.uow, o.w.commissioner, o.other_metric,
                                                       colour="red"),
     InvalidInput, "Unknown metric fields: colour"),
    ("update-nothing", lambda o: sv.update_metric(o.w.uow, o.w.commissioner, o.other_metric),
     InvalidInput, "Nothing to change"),
    ("update-nan", lambda o: sv.update_metric(o.w.uow, o.w.commissioner, o.other_metric, target=NAN),
     InvalidInput, "Target must be a finite number"),
    ("update-to-duplicate-name", lambda o: sv.update_metric(o.w.uow, o.w.commissioner, o.other_metric,
                                                           name="Minutes saved per letter"),
     InvalidInput, "already has a metric called 'Minutes saved per letter'"),
]


@run_cases(METRICS)
def test_metrics(org: Org, attempt: Callable[[Org], Any], error: type[Exception], match: str) -> None:
    refused(org, attempt, error, match)


# ================================================================== readiness
def ready(o: Org, item: str = "training_plan", **kw: Any) -> Any:
    return sv.record_readiness(o.w.uow, o.w.commissioner, o.other_pilot, item,
                               **({"detail": "Two sessions per role."} | kw))


READINESS: list[Case] = [
    ("unknown-item", lambda o: ready(o, "vibes"), InvalidInput,
     "Readiness item 'vibes' is not known; use one of: owner, training_plan"),
    ("empty-detail", lambda o: ready(o, detail=" "), InvalidInput, "Role-specific training plan is empty"),
    ("long-detail", lambda o: ready(o, detail="d" * 4001), InvalidInput,
     "Role-specific training plan is too long"),
    ("retirement-without-date", lambda o: ready(o, "old_process_retirement"), InvalidInput,
     "Give the date the old or manual process retires"),
    ("unreadable-date", lambda o: ready(o, "old_process_retirement", on_date="next tuesday"), InvalidInput,
     "Date must be a date written YYYY-MM-DD, not 'next tuesday'"),
    ("unknown-pilot", lambda o: sv.record_readiness(o.w.uow, o.w.commissioner, MISSING, "training_plan",
                                                    detail="x"),
     NotFound, f"There is no pilot #{MISSING}"),
    ("waive-unknown-pilot", lambda o: sv.waive_readiness(o.w.uow, o.w.steering, MISSING,
                                                         reason="Winter pressures, start now."),
     NotFound, f"There is no pilot #{MISSING}"),
    ("roster-unknown-person", lambda o: sv.add_to_roster(o.w.uow, o.w.commissioner, o.other_pilot,
                                                         [MISSING]),
     NotFound, f"There is no person #{MISSING}"),
    ("roster-nobody", lambda o: sv.add_to_roster(o.w.uow, o.w.commissioner, o.other_pilot, []),
     InvalidInput, "Choose at least one person"),
]


@run_cases(READINESS)
def test_readiness(org: Org, attempt: Callable[[Org], Any], error: type[Exception], match: str) -> None:
    refused(org, attempt, error, match)


# =============================================================== measurements
def measure(o: Org, **kw: Any) -> Any:
    fields = {"value": 96, "observed_on": TODAY, "metric_id": o.metric} | kw
    return sv.record_measurement(o.w.uow, o.w.commissioner, o.pilot, **fields)


MEASUREMENTS: list[Case] = [
    ("future-date", lambda o: measure(o, observed_on=FUTURE), InvalidInput,
     f"The observation date {FUTURE} is in the future; measurements record what was observed"),
    ("far-future-date", lambda o: measure(o, observed_on="2099-01-01"), InvalidInput, "is in the future"),
    ("before-registration", lambda o: measure(o, observed_on=BEFORE), InvalidInput,
     f"The observation date {BEFORE} is before the pilot was registered \\({REGISTERED}\\)"),
    ("unreadable-date", lambda o: measure(o, observed_on="05/03/2026"), InvalidInput,
     "Observation date must be a date written YYYY-MM-DD, not '05/03/2026'"),
    ("nan-value", lambda o: measure(o, value=NAN), InvalidInput,
     r"Value must be a finite number \(not NaN or infinity\)"),
    ("infinite-value", lambda o: measure(o, value=INF), InvalidInput, "Value must be a finite number"),
    ("text-infinity", lambda o: measure(o, value="-Infinity"), InvalidInput, "Value must be a finite number"),
    ("text-value", lambda o: measure(o, value="ninety"), InvalidInput, "Value must be a number, not 'ninety'"),
    ("no-subject", lambda o: measure(o, metric_id=None), InvalidInput,
     "Choose exactly one commissioning metric or one success criterion"),
    ("two-subjects", lambda o: measure(o, criterion_id=o.pilot_crit), InvalidInput, "Choose exactly one"),
    ("metric-of-another-pilot", lambda o: measure(o, metric_id=o.other_metric), InvalidInput,
     "Metric 'Extraction accuracy' belongs to another pilot"),
    ("criterion-of-another-problem", lambda o: measure(o, metric_id=None, criterion_id=o.crit),
     InvalidInput, "Criterion 'Minutes re-keying per week' belongs to another problem"),
    ("indispensability-by-hand", lambda o: measure(o, metric_id=None, criterion_id=o.pilot_indisp),
     InvalidInput, "Indispensability is measured by the survey, not entered by hand"),
    ("unknown-metric", lambda o: measure(o, metric_id=MISSING), NotFound, f"There is no metric #{MISSING}"),
    ("unknown-criterion", lambda o: measure(o, metric_id=None, criterion_id=MISSING), NotFound,
     f"There is no criterion #{MISSING}"),
    ("unknown-pilot", lambda o: sv.record_measurement(o.w.uow, o.w.commissioner, MISSING, value=1,
                                                      observed_on=TODAY, metric_id=o.metric),
     NotFound, f"There is no pilot #{MISSING}"),
]


@run_cases(MEASUREMENTS)
def test_measurements(org: Org, attempt: Callable[[Org], Any], error: type[Exception], match: str) -> None:
    refused(org, attempt, error, match)


# ====================================================== measurement CSV import
HEADER = "measure,observed_on,value\n"
GOOD = f"Extraction accuracy,{TODAY - timedelta(days=3)},96\n"


def upload(o: Org, content: bytes | str, filename: str = "site-a.csv") -> Any:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return sv.import_measurements(o.w.uow, o.w.commissioner, o.pilot, filename=filename, content=data)


IMPORTS: list[Case] = [
    ("empty-file", lambda o: upload(o, b""), InvalidInput,
     ("'site-a.csv' was not imported — nothing was saved. Fix these and upload it again: the file is "
     "empty")),
    ("header-only", lambda o: upload(o, HEADER), InvalidInput, "the file has a header but no rows"),
    ("wrong-header", lambda o: upload(o, "metric,date,value\n" + GOOD), InvalidInput,
     "line 1: the header must be exactly 'measure,observed_on,value' \\(found 'metric,date,value'\\)"),
    ("unknown-measure", lambda o: upload(o, HEADER + GOOD + f"Coffee,{TODAY},3\n"), InvalidInput,
     "line 3: 'Coffee' is not a metric or criterion of this pilot"),
    ("future-date", lambda o: upload(o, HEADER + f"Extraction accuracy,{FUTURE},96\n"), InvalidInput,
     f"line 2: The observation date {FUTURE} is in the future"),
    ("before-registration", lambda o: upload(o, HEADER + f"Extraction accuracy,{BEFORE},96\n"),
     InvalidInput, f"line 2: The observation date {BEFORE} is before the pilot was registered"),
    ("unreadable-date", lambda o: upload(o, HEADER + "Extraction accuracy,3rd March,96\n"), InvalidInput,
     "line 2: Observation date must be a date written YYYY-MM-DD"),
    ("nan-value", lambda o: upload(o, HEADER + f"Extraction accuracy,{TODAY},nan\n"), InvalidInput,
     "line 2: value 'nan' is not a finite number"),
    ("infinite-value", lambda o: upload(o, HEADER + f"Extraction accuracy,{TODAY},-inf\n"), InvalidInput,
     "line 2: value '-inf' is not a finite number"),
    ("text-value", lambda o: upload(o, HEADER + f"Extraction accuracy,{TODAY},lots\n"), InvalidInput,
     "line 2: value 'lots' is not a number"),
    ("missing-cell", lambda o: upload(o, HEADER + f"Extraction accuracy,{TODAY}\n"), InvalidInput,
     "line 2: expected 3 values, found 2"),
    ("repeated-row", lambda o: upload(o, HEADER + GOOD + GOOD), InvalidInput,
     "line 3: repeats line 2 \\(same measure and date\\)"),
    ("not-utf8", lambda o: upload(o, HEADER.encode() + "Précision,2026-03-05,9\n".encode("latin-1")),
     InvalidInput, "the file is not UTF-8 text .* choose 'Save as CSV UTF-8'"),
    ("binary", lambda o: upload(o, HEADER.encode() + b"\x00\x01\x02"), InvalidInput,
     "the file contains binary data, not CSV text"),
    ("every-bad-line-listed", lambda o: upload(o, HEADER + GOOD + f"Coffee,{TODAY},1\n" + GOOD.replace(
        "96", "x") + f"Extraction accuracy,{FUTURE},1\n"), InvalidInput,
     "line 3: 'Coffee' .*; line 4: value 'x' is not a number; line 5: .* is in the future"),
    ("unknown-pilot", lambda o: sv.import_measurements(o.w.uow, o.w.commissioner, MISSING,
                                                       filename="a.csv", content=(HEADER + GOOD).encode()),
     NotFound, f"There is no pilot #{MISSING}"),
]


@run_cases(IMPORTS)
def test_measurement_imports(org: Org, attempt: Callable[[Org], Any], error: type[Exception],
                             match: str) -> None:
    refused(org, attempt, error, match)


def test_a_file_with_one_bad_line_imports_none_of_its_good_lines(org: Org) -> None:
    with org.w.refuses(InvalidInput, match="line 4") as info:
        upload(org, HEADER + GOOD + f"Minutes saved per letter,{TODAY},5\n" + f"Coffee,{TODAY},1\n")
    assert info.value.errors == [(4, "'Coffee' is not a metric or criterion of this pilot")]  # type: ignore[attr-defined]


# ======================================================== what is accepted
def test_boundary_values_are_accepted(world: World) -> None:
    problem = world.draft_problem()
    indisp = _criteria(world.db, problem)[1]
    sv.update_criterion(world.uow, world.members[0], indisp, target=1)  # (0, 1]: 1 is allowed
    sv.update_criterion(world.uow, world.members[0], indisp, target=0.01)
    world.add_criterion(problem, name="Share re-keyed", unit="share", direction="lower_is_better",
                        target=0)
    world.add_criterion(problem, name="Satisfaction", unit="rating_1_5", direction="higher_is_better",
                        target=5)
    with world.db.uow().reading() as s:
        assert s.get(Criterion, indisp).target == 0.01


def test_text_is_trimmed_before_it_is_stored(world: World) -> None:
    problem = sv.draft_problem(world.uow, world.members[0], panel_id=world.panel,
                               title="  Printer queue \n", statement="\tThe printer jams daily.  ")
    with world.db.uow().reading() as s:
        version = s.scalars(select(ProblemVersion).where(ProblemVersion.problem_id == problem)).one()
        assert (version.title, version.statement) == ("Printer queue", "The printer jams daily.")


def test_the_same_problem_title_may_be_used_by_another_panel(world: World) -> None:
    world.draft_problem()
    other = sv.create_panel(world.uow, world.admin, name="Hillside Depot Panel")
    sv.add_panel_member(world.uow, world.admin, other, world.outsider)
    second = sv.draft_problem(world.uow, world.outsider, panel_id=other, title="Re-keying referral letters",
                              statement="We re-key letters at the depot too.")
    with world.db.uow().reading() as s:
        titles = s.execute(select(Problem.panel_id, ProblemVersion.title)
                           .join(ProblemVersion, ProblemVersion.problem_id == Problem.id)).all()
        assert s.get_one(Problem, second).panel_id == other
    assert sorted(titles) == sorted([(world.panel, "Re-keying referral letters"),
                                     (other, "Re-keying referral letters")])


def test_a_retired_problems_title_may_be_used_again(world: World) -> None:
    problem = world.draft_problem()
    sv.retire_problem(world.uow, world.facilitator, problem, reason="Superseded by a better framing.")
    world.draft_problem()
    with world.db.uow().reading() as s:
        assert s.scalar(select(func.count()).select_from(Problem)) == 2


def test_measurements_from_registration_day_to_today_are_accepted(world: World) -> None:
    _, pilot_id = world.pilot_in_use()
    metric_id = _metric(world.db, pilot_id)
    first_day = world.today()
    world.clock.advance(days=5)
    for day in (first_day, world.today(), str(world.today() - timedelta(days=2))):
        sv.record_measurement(world.uow, world.commissioner, pilot_id, value="97.5", observed_on=day,
                              metric_id=metric_id)
    with world.db.uow().reading() as s:
        values = s.scalars(select(Measurement.value).where(Measurement.pilot_id == pilot_id)).all()
    assert values == [97.5, 97.5, 97.5]


def test_a_valid_file_is_imported_with_its_hash_and_importer(world: World) -> None:
    _, pilot_id = world.pilot_in_use()
    world.clock.advance(days=3)
    day = world.today() - timedelta(days=1)
    content = (f"\ufeffMeasure,Observed_On,Value\r\nExtraction accuracy,{day},96.5\r\n"
               f"minutes saved per letter,{day},4.2\r\n\r\n"
               f"Minutes re-keying per week,{day},75\r\n").encode()
    assert sv.import_measurements(world.uow, world.commissioner, pilot_id, filename="week-1.csv",
                                  content=content) == 3
    with world.db.uow().reading() as s:
        source = s.scalars(select(SourceFile)).one()
        assert (source.filename, source.sha256, source.row_count, source.imported_by) == (
            "week-1.csv", sha256_hex(content), 3, world.commissioner)
        rows = s.execute(select(Measurement.value, Measurement.source, Measurement.criterion_id)
                         .order_by(Measurement.value)).all()
        assert [(r.value, r.source) for r in rows] == [(4.2, "imported"), (75, "imported"),
                                                       (96.5, "imported")]
        assert rows[1].criterion_id is not None  # a frontline criterion, named in the file


def test_a_timestamp_is_recorded_as_its_day(world: World) -> None:
    _, pilot_id = world.pilot_in_use()
    m = sv.record_measurement(world.uow, world.commissioner, pilot_id, value=1,
                              observed_on=world.clock.now(), metric_id=_metric(world.db, pilot_id))
    with world.db.uow().reading() as s:
        observed = s.get(Measurement, m).observed_on
    assert type(observed) is date and observed == world.today()


# ============================================= issue 13: bad input, finished
BIG = 10 ** 23


def usage_upload(o: Org, body: str, filename: str = "usage.csv") -> Any:
    content = ("week_start,active_users,eligible_users\n" + body).encode()
    return sv.import_usage(o.w.uow, o.w.commissioner, o.pilot, filename=filename, content=content)


MONDAY = REGISTERED - timedelta(days=REGISTERED.weekday())

FINISHED: list[Case] = [
    # numbers too large for the float or the database, digits that are not 0–9
    ("usage-count-10^23", lambda o: usage_upload(o, f"{MONDAY},5,{BIG}\n"), InvalidInput,
     "line 2: eligible_users 100000000000000000000000 is more than 1,000,000,000"),
    ("usage-superscript", lambda o: usage_upload(o, f"{MONDAY},²,10\n"), InvalidInput,
     "active_users '²' is not a whole number written with the digits 0–9"),
    ("usage-double-minus", lambda o: usage_upload(o, f"{MONDAY},--7,10\n"), InvalidInput,
     "active_users '--7' is not a whole number"),
    ("target-10^400", lambda o: criterion(o, target=10 ** 400), InvalidInput,
     "Target is far too large to be a real value"),
    ("target-10^400-as-text", lambda o: criterion(o, target="1" + "0" * 400), InvalidInput,
     "Target must be a number, not a 401-character text"),
    ("evidence-superscript", lambda o: criterion(o, minimum_evidence="²"), InvalidInput,
     "Minimum evidence must be a whole number written with the digits 0–9, not '²'"),
    ("evidence-double-minus", lambda o: criterion(o, minimum_evidence="--7"), InvalidInput,
     "Minimum evidence must be a whole number written with the digits 0–9, not '--7'"),
    ("evidence-arabic-digit", lambda o: criterion(o, minimum_evidence="٣"), InvalidInput,
     "whole number written with the digits 0–9"),
    ("id-2^70", lambda o: sv.set_roles(o.w.uow, o.w.admin, 2 ** 70, ["frontline"]), InvalidInput,
     "The person id must be the number of an existing record"),
    ("pilot-id-2^70", lambda o: measure(o, metric_id=2 ** 70), InvalidInput,
     "The metric id must be the number of an existing record"),
    # a list expected
    ("roles-none", lambda o: person(o, roles=None), InvalidInput,
     r"Roles must be a list \(give an empty list for none\), not nothing"),
    ("roles-5", lambda o: person(o, roles=5), InvalidInput, "Roles must be a list .*not a int"),
    ("roster-5", lambda o: sv.add_to_roster(o.w.uow, o.w.commissioner, o.other_pilot, 5), InvalidInput,
     "People to add must be a list"),
    ("roster-none", lambda o: sv.add_to_roster(o.w.uow, o.w.commissioner, o.other_pilot, None), InvalidInput,
     "People to add must be a list"),
    ("metrics-5", lambda o: pilot(o, metrics=5), InvalidInput, "Commissioning metrics must be a list"),
    ("metric-not-a-record", lambda o: pilot(o, metrics=[5]), InvalidInput,
     "Each commissioning metric is a record"),
    ("team-none", lambda o: pilot(o, team_ids=None), InvalidInput, "Team members must be a list"),
    ("cited-none", lambda o: sv.record_claim(o.w.uow, o.w.commissioner, o.pilot, statement="It works.",
                                             cited_metrics=None), InvalidInput,
     "List the metrics the claim cites"),
    # names that look like others
    ("name-zero-width-space", lambda o: person(o, name="Member\u200b 1", email="m1b@example.org"),
     InvalidInput, r"Name contains an invisible character \(U\+200B ZERO WIDTH SPACE\)"),
    ("name-zero-width-joiner", lambda o: sv.create_panel(o.w.uow, o.w.admin, name="Riverside\u200d Clinic Panel"),
     InvalidInput, r"Panel name contains an invisible character \(U\+200D ZERO WIDTH JOINER\)"),
    ("title-right-to-left-override", lambda o: pilot(o, title="Fax \u202erobot"), InvalidInput,
     r"Pilot title contains a text-direction control \(U\+202E RIGHT-TO-LEFT OVERRIDE\)"),
    ("statement-right-to-left-override", lambda o: draft(o, statement="The printer \u202ejams daily."),
     InvalidInput, "Problem statement contains a text-direction control"),
    ("email-zero-width-space", lambda o: person(o, email="fiona.facilitator\u200b@example.org"), InvalidInput,
     "Email contains an invisible character"),
    ("name-line-break", lambda o: person(o, name="Pat\nPerson"), InvalidInput, "Name contains a line break"),
    ("fullwidth-duplicate-email", lambda o: person(o, email="ｆｉｏｎａ.facilitator@example.org"), InvalidInput,
     "Someone with the email fiona.facilitator@example.org already exists"),
    ("fullwidth-duplicate-panel", lambda o: sv.create_panel(o.w.uow, o.w.admin, name="Ｒｉｖｅｒｓｉｄｅ Clinic Panel"),
     InvalidInput, "A panel called 'Riverside Clinic Panel' already exists"),
    # domain ranges
    ("percentage-1e300", lambda o: measure(o, value=1e300), InvalidInput, "Value must be at most 100; it was 1e"),
    ("percentage-minus-50", lambda o: measure(o, value=-50), InvalidInput, "Value must be at least 0; it was -50"),
    ("percentage-1e300-in-a-file", lambda o: upload(o, HEADER + f"Extraction accuracy,{TODAY},1e300\n"),
     InvalidInput, "line 2: Value must be at most 100"),
    ("count-above-a-billion", lambda o: metric(o, unit="count", target=2e9), InvalidInput,
     "Target must be at most 1e"),
    ("retirement-9999-12-31", lambda o: ready(o, "old_process_retirement", on_date="9999-12-31"), InvalidInput,
     "Date 9999-12-31 is more than 5 year.s. ahead"),
    ("retirement-1900", lambda o: ready(o, "old_process_retirement", on_date="1900-01-01"), InvalidInput,
     "Date 1900-01-01 is more than 5 year.s. ago"),
    # files
    ("control-characters-in-a-file-name", lambda o: upload(o, HEADER + GOOD, filename="site\x07a.csv"),
     InvalidInput, "the file name contains control or invisible characters"),
    ("bidi-in-a-file-name", lambda o: upload(o, HEADER + GOOD, filename="report\u202evsc.exe"),
     InvalidInput, "the file name contains control or invisible characters"),
]


@run_cases(FINISHED)
def test_bad_input_finished(org: Org, attempt: Callable[[Org], Any], error: type[Exception], match: str) -> None:
    refused(org, attempt, error, match)


def test_the_same_file_twice_is_refused_naming_the_earlier_import(world: World) -> None:
    _, pilot_id = world.pilot_in_use()
    world.clock.advance(days=3)
    day = world.today() - timedelta(days=1)
    content = f"measure,observed_on,value\nExtraction accuracy,{day},96\n".encode()
    sv.import_measurements(world.uow, world.commissioner, pilot_id, filename="week-1.csv", content=content)
    with world.refuses(InvalidInput, match=r"this exact file \(SHA-256 [0-9a-f]{12}…\) was already imported for "
                                           r"'Referral letter assistant' as 'week-1.csv' on .* by Carl Commissioner"):
        sv.import_measurements(world.uow, world.commissioner, pilot_id, filename="renamed.csv", content=content)
    monday = world.today() - timedelta(days=world.today().weekday())
    usage = f"week_start,active_users,eligible_users\n{monday},3,6\n".encode()
    sv.import_usage(world.uow, world.commissioner, pilot_id, filename="usage.csv", content=usage)
    with world.refuses(InvalidInput, match="was already imported for 'Referral letter assistant' as 'usage.csv'"):
        sv.import_usage(world.uow, world.commissioner, pilot_id, filename="usage-again.csv", content=usage)


def test_a_full_database_says_so_and_writes_nothing(world: World, database_factory: Any) -> None:
    """SQLite: the file may not grow (max_page_count); PostgreSQL: the server answers disk_full."""
    from sqlalchemy import create_engine, event, text

    from governance.errors import StorageFull

    FULL = "^The database is full: nothing was saved; tell your administrator.$"
    engine = world.db.engine
    if world.db.is_sqlite:
        @event.listens_for(engine, "connect")
        def _cap(dbapi_conn: Any, _record: Any) -> None:
            pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
            dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

        engine.dispose()
        big = "x" * 3900

        def attempt() -> None:
            for i in range(400):  # fill the file until it is full ...
                try:
                    sv.comment_on_problem(world.uow, world.steering, problem, f"{big} {i}")
                except StorageFull:
                    break
            else:
                raise AssertionError("the capped file never filled up")
            # ... then one more write: refused with the message, and nothing written.
            with world.refuses(StorageFull, match=FULL):
                sv.comment_on_problem(world.uow, world.steering, problem, f"{big} one more")
    else:
        # The stand-in for a full disk is installed by the database's owner (the runtime role
        # may not create functions or triggers).
        owner = create_engine(database_factory.owner_url(world.db.url))
        with owner.begin() as conn:
            conn.execute(text("""CREATE FUNCTION test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'
                USING ERRCODE = 'disk_full'; END $$"""))
            conn.execute(text("CREATE TRIGGER test_disk_full BEFORE INSERT ON problem_comment "
                              "FOR EACH ROW EXECUTE FUNCTION test_disk_full()"))

        def attempt() -> None:
            with world.refuses(StorageFull, match=FULL):
                sv.comment_on_problem(world.uow, world.steering, problem, "A comment that needs room.")
    problem = world.draft_problem()
    try:
        attempt()
    finally:
        if world.db.is_sqlite:
            event.remove(engine, "connect", _cap)
            engine.dispose()
        else:
            with owner.begin() as conn:
                conn.execute(text("DROP TRIGGER test_disk_full ON problem_comment"))
                conn.execute(text("DROP FUNCTION test_disk_full()"))
            owner.dispose()
