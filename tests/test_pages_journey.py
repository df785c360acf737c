"""The main acts work through the pages' widgets, end to end (issue 4, Tests).

Each test drives the dashboard with AppTest as the person who would really do
the act, then checks both what the page says and what the database now holds
(read through ``governance.queries``). Preconditions a test is not about are
set up through the use cases (``tests.world``), so each test stays short.
"""
from __future__ import annotations

import pytest

from governance import services as sv
from governance.errors import RuleViolation
from governance.queries import (
    audit as audit_q,
    evaluate as evaluate_q,
    pilots as pilots_q,
    problems as problems_q,
    votes as votes_q,
)
from governance.vocabulary import PilotState, ProblemState, VoteStatus
from tests.apptest_support import (
    choose,
    click,
    confirm,
    errors,
    frames,
    one,
    open_page,
    open_tab,
    pages_db,
    shown_text,
    submit,
    successes,
    unescaped,
)
from tests.world import SOMEWHAT, VERY, World

__all__ = ["pages_db"]  # the fixture, imported for pytest

pytestmark = pytest.mark.usefixtures("pages_db")


# ------------------------------------------------------------------ helpers
def open_votes(world: World, person: int, kind: str | None = None) -> list[dict]:
    rows = votes_q.votes_page(world.uow, person, status=VoteStatus.OPEN, mine_only=False).rows
    return [r for r in rows if kind is None or r.kind == kind]


def ballot_on_page(person: int, vote_id: int, option: str, *, change: bool = False):  # type: ignore[no-untyped-def]
    """Cast (or change) a ballot on the Votes page: the ballot form, then the confirmation dialog."""
    at = choose(open_page(person, "votes"), "open-vote", vote_id)
    one(at.radio, label="Your ballot", form=f"ballot-{vote_id}").set_value(option)
    at = submit(at, f"ballot-{vote_id}", "Change my ballot" if change else "Cast my ballot")
    at = confirm(at, f"ballot-{vote_id}")
    assert any("ballot is recorded." in m for m in successes(at)), (errors(at), successes(at))
    return at


def close_on_page(person: int, vote_id: int):  # type: ignore[no-untyped-def]
    """Close a vote on the Votes page (its outcome statement, the button, then the confirmation dialog)."""
    at = choose(open_page(person, "votes"), "open-vote", vote_id)
    one(at.text_area, form=f"close-form-{vote_id}").input("Decided as counted; the panel hears of it on Monday.")
    at = confirm(submit(at, f"close-form-{vote_id}", "Close this vote now"), f"close-{vote_id}")
    assert "Vote closed." in successes(at), (errors(at), successes(at))
    return at


def panel_vote_on_page(world: World, vote_id: int, voters: list[int]) -> None:
    """The given panel members approve through the page, the rest through the use case; with
    everyone voted the facilitator may close it early (R16), and does, on the page."""
    for person in voters:
        ballot_on_page(person, vote_id, "approve")
    for person in set(world.panel_voters) - set(voters):
        sv.cast_ballot(world.uow, person, vote_id, "approve")
    close_on_page(world.facilitator, vote_id)


def problem_on_page(person: int, problem_id: int):  # type: ignore[no-untyped-def]
    return choose(open_page(person, "problems"), "problem-chosen", problem_id)


def pilot_on_page(person: int, pilot_id: int):  # type: ignore[no-untyped-def]
    return choose(open_page(person, "pilots"), "pilot-chosen", pilot_id)


def fill(at, form: str, **by_label: object):  # type: ignore[no-untyped-def]
    """Set a form's text inputs and text areas by their labels."""
    for label, value in by_label.items():
        widgets = [w for kind in (at.text_input, at.text_area) for w in kind
                   if w.label == label and w.form_id == form]
        assert len(widgets) == 1, (label, form)
        widgets[0].input(value)
    return at


# ----------------------------------------------------------- the problem
def test_a_panel_drafts_defines_ratifies_and_locks_a_problem_through_the_pages(world: World) -> None:
    # A member drafts the problem on the Problems page.
    at = open_page(world.members[0], "problems")
    fill(at, "draft-problem", **{"Title": "Appointment no-shows",
                                 "What happens, how often, and who it affects":
                                     "Every Monday a third of the booked appointments are no-shows."})
    at = submit(at, "draft-problem", "Save draft")
    assert "Draft saved and opened below. Add the panel's success criteria next." in successes(at)
    [row] = problems_q.problems_page(world.uow, world.members[0]).rows
    problem = row.id
    assert (row.title, row.state) == ("Appointment no-shows", ProblemState.DRAFT)

    # …adds a success criterion to it.
    at = problem_on_page(world.members[0], problem)
    fill(at, "add-criterion", **{"Name": "No-show rate", "Plain-language definition":
                                 "Share of booked appointments nobody attends.",
                                 "How it is measured": "Weekly booking report."})
    one(at.selectbox, label="Unit", form="add-criterion").set_value("percent")
    one(at.selectbox, label="Direction", form="add-criterion").set_value("lower_is_better")
    one(at.number_input, label="Target", form="add-criterion").set_value(15.0)
    at = submit(at, "add-criterion", "Add criterion")
    assert "Criterion 'No-show rate' added." in successes(at)
    criteria = problems_q.problem_detail(world.uow, world.members[0], problem).criteria
    assert {c.name for c in criteria} >= {"No-show rate"}
    added = next(c for c in criteria if c.name == "No-show rate")
    assert (added.unit, added.direction, added.target) == ("percent", "lower_is_better", 15.0)

    # The facilitator proposes ratification: a dialog asks first.
    at = problem_on_page(world.facilitator, problem)
    at = click(at, "ratify")
    assert "confirm-ratify" in [b.key for b in at.button]
    assert not open_votes(world, world.facilitator), "nothing happens before the dialog is confirmed"
    at = confirm(at, "ratify")
    assert "Ratification vote opened on the Votes page." in successes(at)
    [vote] = open_votes(world, world.facilitator, "ratify_problem")

    # Members vote on the Votes page (ballot form + confirmation); the facilitator closes it.
    panel_vote_on_page(world, vote.id, [world.facilitator, *world.members[:3]])
    detail = problems_q.problem_detail(world.uow, world.members[0], problem)
    assert detail.state == ProblemState.RATIFIED
    assert detail.lock is None

    # Locking the criteria goes the same way: dialog, panel vote, close.
    at = problem_on_page(world.facilitator, problem)
    at = click(at, "lock")
    assert any("changes need a panel vote" in m for m in shown_text(at).splitlines())
    at = confirm(at, "lock")
    assert "Lock vote opened on the Votes page." in successes(at)
    [vote] = open_votes(world, world.facilitator, "lock_criteria")
    panel_vote_on_page(world, vote.id, [world.facilitator, *world.members[:3]])
    detail = problems_q.problem_detail(world.uow, world.members[0], problem)
    assert detail.lock is not None and len(detail.lock.sha256) == 64

    # The page now says so, and offers amendments instead of free edits.
    at = problem_on_page(world.members[0], problem)
    assert any(s.startswith("Criteria locked (pre-registered)") for s in successes(at))
    assert "FormSubmitter:add-criterion-Add criterion" not in [b.key for b in at.button]
    assert "FormSubmitter:amend-Propose and open the panel vote" in [b.key for b in at.button]


def test_a_dialog_cancelled_changes_nothing(world: World) -> None:
    problem = world.draft_problem()
    world.add_criterion(problem)
    before = world.audit_count()
    at = click(problem_on_page(world.facilitator, problem), "ratify")
    at = click(at, "cancel-ratify")
    assert "confirm-ratify" not in [b.key for b in at.button]
    assert world.audit_count() == before
    assert not open_votes(world, world.facilitator)


# -------------------------------------------------------------- the pilot
def test_commissioning_registers_a_pilot_gets_it_ready_and_starts_real_use(world: World) -> None:
    problem = world.locked_problem()
    c = world.commissioner

    # Register with the form; the metrics come from its data editor.
    at = open_page(c, "pilots")
    fill(at, "register-pilot", **{"Pilot title": "Clinic letter reader",
                                  "What the tool does": "Reads a referral letter and fills both systems."})
    assert one(at.selectbox, label="Ratified problem", form="register-pilot").value == problem
    at.session_state["metrics-editor"] = {
        "edited_rows": {0: {"name": "Extraction accuracy", "definition": "Fields extracted correctly.",
                            "target": 95.0}},
        "added_rows": [{"name": "Minutes saved per letter", "definition": "Clerk time saved.",
                        "unit": "minutes", "direction": "higher_is_better", "target": 4.0}],
        "deleted_rows": []}
    at = submit(at, "register-pilot", "Register pilot")
    assert "Pilot 'Clinic letter reader' registered." in successes(at)
    [row] = pilots_q.pilots_page(world.uow, c).rows
    pilot = row.id
    d = pilots_q.pilot_detail(world.uow, c, pilot)
    assert d.state == PilotState.REGISTERED and d.owner.id == c
    assert [(m.name, m.unit, m.target) for m in d.metrics] == [
        ("Extraction accuracy", "percent", 95.0), ("Minutes saved per letter", "minutes", 4.0)]

    # One more metric through the "add-metric" form.
    at = pilot_on_page(c, pilot)
    fill(at, "add-metric", Name="Cost per letter", Definition="Vendor cost per letter processed.")
    one(at.number_input, label="Target", form="add-metric").set_value(0.5)
    at = submit(at, "add-metric", "Add metric")
    assert "Metric added." in successes(at)
    assert "Cost per letter" in [m.name for m in pilots_q.pilot_detail(world.uow, c, pilot).metrics]

    # Start real use is shown disabled, with its reasons, until the checklist and the roster are done.
    start = at.button(key="start-real-use")
    assert start.disabled and "readiness checklist is incomplete" in start.help

    # Readiness, item by item, through the readiness form.
    for item, evidence, on in (("training_plan", "Two one-hour sessions per role.", None),
                               ("old_process_retirement", "Manual re-keying stops.", world.today()),
                               ("escalation_path", "Clinic lead, then the vendor hotline.", None),
                               ("low_connectivity_test", "Tested at Hillside on 3G.", None)):
        one(at.selectbox, label="Item", form="readiness").set_value(item)
        fill(at, "readiness", **{"Evidence (what was done)": evidence})
        if on is not None:
            one(at.date_input, form="readiness").set_value(on)
        at = submit(at, "readiness", "Record")
        assert "Readiness recorded." in successes(at), errors(at)
    d = pilots_q.pilot_detail(world.uow, c, pilot)
    assert all(i.done for i in d.readiness), d.readiness

    # The roster: frontline users picked in the roster form.
    one(at.multiselect, label="Add frontline users", form="roster").set_value(world.members)
    at = submit(at, "roster", "Add to roster")
    assert "Roster updated." in successes(at)
    assert {r.id for r in pilots_q.pilot_detail(world.uow, c, pilot).roster} == set(world.members)

    # Ready: start real use, after the confirmation dialog.
    assert pilots_q.pilot_detail(world.uow, c, pilot).state == PilotState.READY
    at = click(at, "start-real-use")
    assert pilots_q.pilot_detail(world.uow, c, pilot).state == PilotState.READY
    at = confirm(at, "start")
    assert "Real use started; metrics locked." in successes(at)
    d = pilots_q.pilot_detail(world.uow, c, pilot)
    assert d.state == PilotState.IN_USE and d.real_use_started_at is not None
    assert d.metrics_sha256 and len(d.metrics_sha256) == 64
    assert "FormSubmitter:add-metric-Add metric" not in [b.key for b in at.button]


# ------------------------------------------------ survey, vote, decision
def test_after_30_days_the_survey_is_answered_and_the_outcome_vote_decides(world: World) -> None:
    sv.adopt_charter(world.uow, world.steering, reason="A small clinic: five responses are enough.",
                     min_survey_responses=5)
    _, pilot = world.pilot_in_use()
    c, f = world.commissioner, world.facilitator

    # Before the window: the button is disabled and says from when; the service refuses anyway.
    at = choose(open_page(c, "evaluate"), "rounds-pilot", pilot)
    button = at.button(key="open-round")
    assert button.disabled and button.help.startswith("Available from ")  # the date, no rule code
    with pytest.raises(RuleViolation, match="cannot open before .* \\(30 days of real use since"):
        sv.open_survey_round(world.uow, c, pilot)
    assert not pilots_q.pilot_detail(world.uow, c, pilot).rounds

    world.pass_window()  # the Database shares the FixedClock

    # The commissioning team opens a survey round on the "Run survey rounds" tab.
    at = choose(open_page(c, "evaluate"), "rounds-pilot", pilot)
    at = click(at, "open-round")
    assert "Survey round opened for the rostered users." in successes(at), errors(at)
    [rnd] = pilots_q.pilot_detail(world.uow, c, pilot).rounds

    # Rostered users answer on the Survey tab (one changes their mind: the change replaces it).
    answers = [VERY, VERY, VERY, VERY, SOMEWHAT]
    for person, answer in zip(world.members, answers, strict=False):
        at = open_page(person, "evaluate")
        one(at.radio, form="survey", key=f"answer-{rnd.id}").set_value(answer)
        at = submit(at, "survey", "Submit my answer")
        assert "Thank you — your answer is recorded." in successes(at), errors(at)
    at = open_page(world.members[4], "evaluate")
    assert any("Your current answer: Somewhat disappointed" in i for i in shown_text(at).splitlines())
    one(at.radio, form="survey", key=f"answer-{rnd.id}").set_value(VERY)
    at = submit(at, "survey", "Submit my answer")
    assert "Thank you — your answer is recorded." in successes(at)

    # Someone not on the roster has no survey to answer.
    at = open_page(world.facilitator, "evaluate")
    assert not [r for r in at.radio if r.form_id == "survey"]

    # Close the round (dialog).
    at = choose(open_page(c, "evaluate"), "rounds-pilot", pilot)
    at = confirm(click(at, "close-round"), "close-round")
    assert "Round closed." in successes(at)
    [rnd] = pilots_q.pilot_detail(world.uow, c, pilot).rounds
    assert rnd.closed_at is not None and rnd.n == 5
    ind = pilots_q.pilot_detail(world.uow, c, pilot).evidence.indispensability
    assert ind.score == 1.0 and ind.n == 5

    # The facilitator opens the outcome vote on the Votes page.
    at = open_page(f, "votes")
    one(at.selectbox, label="Pilot", form="open-outcome").set_value(pilot)
    at = submit(at, "open-outcome", "Start the vote")
    assert "Outcome vote opened." in successes(at), errors(at)
    [vote] = open_votes(world, f, "outcome")
    vote_id = vote.id

    # A member casts a ballot, then changes it; both stay on record, the latest counts.
    ballot_on_page(world.members[0], vote_id, "iterate")
    at = ballot_on_page(world.members[0], vote_id, "adopt", change=True)
    history = votes_q.vote_detail(world.uow, world.members[0], vote_id).my_history
    assert [(h.option, h.is_current) for h in history] == [("iterate", False), ("adopt", True)]
    assert any(c.startswith("Your ballots: Iterate") and "→ Adopt" in c for c in shown_text(at).splitlines())
    # Running tallies stay hidden from voters until close.
    assert "Running tallies stay hidden from everyone until the vote closes; turnout shows." in shown_text(at)

    # Enough others vote (some through the page, the rest through the use case).
    for person in world.members[1:3]:
        ballot_on_page(person, vote_id, "adopt")
    for person in (f, *world.members[3:], world.commissioner, world.steering):
        sv.cast_ballot(world.uow, person, vote_id, "adopt")

    # The facilitator closes it; the decision is declared.
    at = close_on_page(f, vote_id)
    [decision] = votes_q.decisions_page(world.uow, f).rows
    assert (decision.pilot_id, decision.outcome, decision.declared_by) == (
        pilot, "adopt", "Fiona Facilitator")
    assert pilots_q.pilot_detail(world.uow, c, pilot).state == PilotState.DECIDED

    # The Votes page shows the decision with its basis.
    at = open_page(world.members[0], "votes")
    [table] = [d.value for d in at.dataframe if "Basis SHA-256" in d.value.columns]
    assert table.iloc[0]["Pilot"] == "Referral letter assistant" and table.iloc[0]["Outcome"] == "Adopt"
    at = choose(at, "decision", decision.id)
    text = unescaped(shown_text(at))
    assert "Referral letter assistant: Adopt" in text
    assert "vote closed by Fiona Facilitator" in text
    # …and the closed vote its result.
    at = choose(at, "closed-vote", vote_id)
    assert "Result: **Adopt**" in successes(at)


# ---------------------------------------------------------------- claims
def test_a_claim_is_recorded_on_the_pilots_page_and_its_flags_are_shown(world: World) -> None:
    _, pilot = world.pilot_in_use()
    at = pilot_on_page(world.commissioner, pilot)
    form = f"claim-{pilot}"
    fill(at, form, Claim="The pilot met its KPIs.")
    one(at.multiselect, form=form).set_value(["Extraction accuracy", "Staff happiness"])
    at = submit(at, form, "Record claim")
    assert "Claim recorded with its checks." in successes(at), errors(at)
    [claim] = evaluate_q.claims_for_pilot(world.uow, world.commissioner, pilot)
    assert claim.statement == "The pilot met its KPIs."
    assert "'Staff happiness' is not a metric or criterion of this pilot" in claim.flags_now
    assert "made before any binding decision" in claim.flags_now
    # The page shows the claim as non-binding, with its flags as text badges.
    text = unescaped(shown_text(at))
    assert "NON-BINDING" in text
    badges = [unescaped(m.value) for m in at.markdown if m.value.startswith(":red-badge[")]
    assert ":red-badge['Staff happiness' is not a metric or criterion of this pilot]" in badges
    assert ":red-badge[made before any binding decision]" in badges

    # The auditor sees it, flagged, on the Audit page's Claims tab.
    at = open_tab(open_page(world.auditor, "audit"), "audit-tab", "Claims")
    text = unescaped(shown_text(at))
    assert "“The pilot met its KPIs.”" in text
    assert "'Staff happiness' is not a metric or criterion of this pilot" in text
    assert "made before any binding decision" in text


def test_the_audit_page_computes_only_the_open_tab(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each tab's read models miss the cache after every write; computing the hidden ones on every run
    made Audit the slowest page to open under load. The event log is read only when its tab is open."""
    world.pilot_in_use()
    calls: list[str] = []
    real_events, real_facets = audit_q.events_page, audit_q.facets

    def events(*args: object, **kwargs: object) -> object:
        calls.append("events_page")
        return real_events(*args, **kwargs)  # type: ignore[arg-type]

    def facets(*args: object, **kwargs: object) -> object:
        calls.append("facets")
        return real_facets(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(audit_q, "events_page", events)
    monkeypatch.setattr(audit_q, "facets", facets)
    at = open_page(world.auditor, "audit")
    assert calls == [], "the hidden Event log tab was computed"
    keys = [b.key for b in at.button]
    assert "verify" not in keys and not [f for f in frames(at) if "Time (UTC)" in f.columns]
    at = open_tab(at, "audit-tab", "Event log")
    assert "events_page" in calls and [f for f in frames(at) if "Time (UTC)" in f.columns]
    assert "verify" not in [b.key for b in at.button]
    at = open_tab(at, "audit-tab", "Chain verification")
    assert "verify" in [b.key for b in at.button]
    assert not [f for f in frames(at) if "Time (UTC)" in f.columns], "the Event log tab was computed"


def test_the_auditor_verifies_the_chain_on_the_audit_page(world: World) -> None:
    world.pilot_in_use()
    at = open_tab(open_page(world.auditor, "audit"), "audit-tab", "Chain verification")
    at = click(at, "verify")
    [message] = successes(at)
    head = audit_q.chain_head(world.uow)[0]
    assert unescaped(message).startswith(f"The audit chain verifies: {head:,} events, head #{head} "), message
    assert not errors(at)
    assert "signed checkpoints hold; no record altered" in unescaped(message)
    assert any(m.label == "Events verified" and m.value == f"{head:,}" for m in at.metric)
