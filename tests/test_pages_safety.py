"""Errors and safety on the pages (docs/pages.md).

- Text people typed is rendered as text: a problem title carrying
  ``<script>`` and ``<img onerror=…>`` reaches every page that shows it
  escaped, and nothing is ever rendered with ``unsafe_allow_html``.
- A refused act shows ``st.error`` with the domain's own message, never a
  traceback; an unexpected failure shows a plain apology, never its details.
- Caches never show stale state: a write (here or on another replica) moves
  the audit chain's head, which keys every cached read, and roles are read
  fresh on every run.
"""
from __future__ import annotations

import re
from typing import Any

import pytest

from governance import services as sv
from governance.errors import InvalidInput
from governance.queries import pilots as pilots_q, problems as problems_q
from tests.apptest_support import (
    PAGE_FILES,
    app,
    choose,
    click,
    confirm,
    errors,
    ok,
    one,
    open_page,
    open_tab,
    pages_db,
    shown_text,
    submit,
    successes,
    unescaped,
)
from tests.world import World

__all__ = ["pages_db"]  # the fixture, imported for pytest

pytestmark = pytest.mark.usefixtures("pages_db")

HOSTILE = "<script>alert(1)</script> & <img src=x onerror=alert(1)>"
#: A tag opener markdown would pass on as HTML: "<" not escaped by a backslash.
RAW_TAG = re.compile(r"(?<!\\)<\s*(script|img|b)\b", re.IGNORECASE)
HOSTILE_PILOT = "![pixel](https://tracker.example/p.png) <img src=x onerror=alert(1)> **Assistant**"
HOSTILE_STATEMENT = "Clerks see **bold** claims and [a link](javascript:alert(1)) <b>here</b>."


def markdown_bodies(at: Any) -> list[str]:
    """Every markdown-rendered body on the page (markdown, captions, headings, alerts)."""
    bodies = [m.value for m in at.markdown] + [c.value for c in at.caption]
    for kind in ("title", "header", "subheader", "success", "info", "warning", "error"):
        bodies += [str(e.value) for e in getattr(at, kind)]
    return bodies


def assert_rendered_as_text(at: Any, *texts: str) -> None:
    """No HTML allowed anywhere on the page, no raw tag in any markdown body,
    and each of ``texts`` shown literally (after markdown unescaping)."""
    ok(at)
    assert not [m for m in [*at.markdown, *at.caption] if m.allow_html], "unsafe_allow_html was used"
    assert not at.get("html"), "st.html was used"
    for body in markdown_bodies(at):
        assert not RAW_TAG.search(body), body
    shown = unescaped(shown_text(at))
    for t in texts:
        assert t in shown, f"{t!r} is not shown literally"


# --------------------------------------------------------- escaping text
def test_a_hostile_problem_title_typed_in_the_form_renders_as_text_everywhere(world: World) -> None:
    at = open_page(world.members[0], "problems")
    one(at.text_input, label="Title", form="draft-problem").input(HOSTILE)
    one(at.text_area, form="draft-problem").input(HOSTILE_STATEMENT)
    at = submit(at, "draft-problem", "Save draft")
    assert successes(at), errors(at)
    [row] = problems_q.problems_page(world.uow, world.members[0]).rows
    assert row.title == HOSTILE, "stored exactly as typed (escaping is the page's job)"
    problem = row.id

    # The list is a dataframe (cells are text); the detail heading and statement are escaped markdown.
    at = choose(at, "problem-chosen", problem)
    assert_rendered_as_text(at, HOSTILE, HOSTILE_STATEMENT)
    heading = next(s.value for s in at.subheader if "script" in s.value)
    assert unescaped(heading) == HOSTILE and "\\<script\\>" in heading
    statement = next(m.value for m in at.markdown if "bold" in m.value)
    assert "\\*\\*bold\\*\\*" in statement and "\\[a link\\]\\(javascript" in statement

    # A comment, and the ratification dialog that quotes the title.
    world.add_criterion(problem)
    at = choose(open_page(world.facilitator, "problems"), "problem-chosen", problem)
    one(at.text_area, form="comment").input(HOSTILE)
    at = submit(at, "comment", "Post comment")
    assert_rendered_as_text(at, HOSTILE)
    at = click(at, "ratify")
    assert_rendered_as_text(at, f"ratify **{HOSTILE}**")

    # The vote's question carries the title onto Home and Votes.
    at = confirm(at, "ratify")
    at = open_page(world.members[1], "home")
    assert_rendered_as_text(at, HOSTILE)
    vote = next(v.id for v in problems_q.problem_detail(world.uow, world.members[1], problem).votes)
    at = choose(open_page(world.members[1], "votes"), "open-vote", vote)
    assert_rendered_as_text(at, HOSTILE)


def test_a_hostile_pilot_title_renders_as_text_in_the_survey_question(world: World) -> None:
    """Widget labels render markdown too (links, images): a typed title is escaped there."""
    pilot = world.register_pilot(world.locked_problem(), title=HOSTILE_PILOT)
    sv.add_to_roster(world.uow, world.commissioner, pilot, world.members)
    world.make_ready(pilot)
    sv.start_real_use(world.uow, world.commissioner, pilot)
    world.pass_window()
    sv.open_survey_round(world.uow, world.commissioner, pilot)
    at = open_page(world.members[0], "evaluate")
    [question] = [r.label for r in at.radio if r.form_id == "survey" and not r.key.startswith("sus-")]
    assert question.startswith("How would you feel if you could no longer use ")
    assert not RAW_TAG.search(question) and "\\!\\[pixel\\]" in question, question
    assert unescaped(question).endswith(f"{HOSTILE_PILOT}?")
    at = choose(open_page(world.commissioner, "pilots"), "pilot-chosen", pilot)
    assert_rendered_as_text(at, HOSTILE_PILOT)


def test_hostile_text_in_claims_and_feedback_renders_as_text(world: World) -> None:
    _, pilot = world.pilot_in_use()
    sv.record_claim(world.uow, world.commissioner, pilot, statement=HOSTILE, cited_metrics=[HOSTILE])
    sv.raise_feedback(world.uow, world.members[0], pilot, kind="other", body=HOSTILE)
    at = choose(open_page(world.commissioner, "pilots"), "pilot-chosen", pilot)
    assert_rendered_as_text(at, f"“{HOSTILE}”", f"'{HOSTILE}' is not a metric or criterion of this pilot")
    at = open_page(world.members[0], "evaluate")
    assert_rendered_as_text(at, HOSTILE)
    at = open_tab(open_page(world.auditor, "audit"), "audit-tab", "Claims")
    assert_rendered_as_text(at, f"“{HOSTILE}”")


# ----------------------------------------------------- refusals and bugs
def domain_message(world: World, fn: Any, *args: Any, **kwargs: Any) -> str:
    """The message the use case itself gives for this input (and it writes nothing)."""
    with world.refuses(InvalidInput) as refusal:
        fn(world.uow, *args, **kwargs)
    return str(refusal.value)


def test_an_empty_problem_title_is_refused_with_the_domain_message(world: World) -> None:
    expected = domain_message(world, sv.draft_problem, world.members[0], panel_id=world.panel, title="   ",
                              statement="Something happens.")
    before = world.fingerprint()
    at = open_page(world.members[0], "problems")
    one(at.text_input, label="Title", form="draft-problem").input("   ")
    one(at.text_area, form="draft-problem").input("Something happens.")
    at = submit(at, "draft-problem", "Save draft")
    assert errors(at) == [expected] == ["Title is empty; write it in a few words."]
    assert not successes(at)
    assert world.fingerprint() == before


def test_a_retirement_date_left_out_is_refused_with_the_domain_message(world: World) -> None:
    pilot = world.register_pilot(world.locked_problem())
    expected = domain_message(world, sv.record_readiness, world.commissioner, pilot, "old_process_retirement",
                              detail="Manual re-keying stops.", on_date=None)
    at = choose(open_page(world.commissioner, "pilots"), "pilot-chosen", pilot)
    one(at.selectbox, label="Item", form="readiness").set_value("old_process_retirement")
    one(at.text_area, label="Evidence (what was done)", form="readiness").input("Manual re-keying stops.")
    before = world.fingerprint()
    at = submit(at, "readiness", "Record")
    assert errors(at) == [expected]
    assert world.fingerprint() == before


def test_a_refusal_inside_a_confirmation_dialog_is_shown_there(world: World) -> None:
    """The same ballot twice: confirmed in the dialog, refused by the use case, shown as an error."""
    problem = world.draft_problem()
    world.add_criterion(problem)
    vote = sv.propose_ratification(world.uow, world.facilitator, problem)
    sv.cast_ballot(world.uow, world.members[0], vote, "approve")
    at = choose(open_page(world.members[0], "votes"), "open-vote", vote)
    # The current ballot is said in words; the radio group pre-selects nothing (arrow keys select).
    assert any(m.value.startswith("Your current ballot: **Approve**") for m in at.markdown)
    assert one(at.radio, form=f"ballot-{vote}").value is None
    one(at.radio, form=f"ballot-{vote}").set_value("approve")
    at = submit(at, f"ballot-{vote}", "Change my ballot")
    before = world.fingerprint()
    at = confirm(at, f"ballot-{vote}")
    [error] = errors(at)
    assert error.startswith("Your ballot is already 'Approve'; your receipt is ")  # a secret ballot (R17)
    assert world.fingerprint() == before


def test_an_unexpected_failure_shows_an_apology_and_no_details(world: World,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(sv, "draft_problem", broken)
    at = open_page(world.members[0], "problems")
    one(at.text_input, label="Title", form="draft-problem").input("Appointment no-shows")
    at = submit(at, "draft-problem", "Save draft")
    [message] = errors(at)
    assert message.startswith("Something went wrong and nothing was saved.")
    assert "hunter2" not in shown_text(at) and not at.exception


def test_the_signed_out_page_shows_no_traceback_for_a_vanished_person(world: World) -> None:
    """A session whose person was deactivated meanwhile is simply signed out."""
    at = open_page(world.members[0], "problems")
    sv.deactivate_person(world.uow, world.admin, world.members[0], reason="Left the organisation.")
    at = ok(at.run())
    assert [t.value for t in at.title] == ["Pilot Evaluation Governance"]
    assert {w.label for w in at.text_input} == {"Email", "Password"}


# ------------------------------------------------------------------ caches
def test_a_revoked_role_hides_the_page_on_the_next_run(world: World) -> None:
    member = world.members[0]
    at = open_page(member, "problems")
    assert "FormSubmitter:draft-problem-Save draft" in [b.key for b in at.button]
    sv.set_roles(world.uow, world.admin, member, ["auditor"])
    at = ok(at.run())
    # Not the Problems page any more, and nothing to draft with.
    assert [t.value for t in at.title] != ["Problems"]
    assert "FormSubmitter:draft-problem-Save draft" not in [b.key for b in at.button]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE_FILES["problems"])
    # The new role's page is offered at once, and the sidebar says who they are now.
    at = ok(at.switch_page(PAGE_FILES["audit"]).run())
    assert [t.value for t in at.title] == ["Audit"] and not errors(at)
    assert any("Roles: Auditor" in m.value for m in at.sidebar.markdown)


def test_a_granted_role_shows_its_page_on_the_next_run(world: World) -> None:
    at = ok(app(world.outsider).run())
    with pytest.raises(ValueError):
        at.switch_page(PAGE_FILES["audit"])
    sv.set_roles(world.uow, world.admin, world.outsider, ["auditor"])  # never with a voting role (R15)
    at = ok(at.run())
    at = ok(at.switch_page(PAGE_FILES["audit"]).run())
    assert [t.value for t in at.title] == ["Audit"] and not errors(at)


def test_votes_written_elsewhere_show_on_the_next_run_and_never_a_stale_result(world: World) -> None:
    problem = world.draft_problem()
    world.add_criterion(problem)
    vote = sv.propose_ratification(world.uow, world.facilitator, problem)
    at = choose(open_page(world.members[0], "votes"), "open-vote", vote)
    assert any("0 of 7 eligible have voted" in c for c in shown_text(at).splitlines())

    # Ballots cast by others (e.g. on another replica) show in the turnout.
    for person in world.members[1:4]:
        sv.cast_ballot(world.uow, person, vote, "approve")
    at = ok(at.run())
    assert any("3 of 7 eligible have voted" in c for c in shown_text(at).splitlines())

    # The same cached read, for another reader, is computed for that reader.
    other = choose(open_page(world.members[1], "votes"), "open-vote", vote)
    [mine] = [d.value for d in at.dataframe if "My ballot" in d.value.columns]
    [theirs] = [d.value for d in other.dataframe if "My ballot" in d.value.columns]
    assert (mine.iloc[0]["My ballot"], theirs.iloc[0]["My ballot"]) == ("not cast", "Approve")

    # Closed elsewhere: the next run shows the result, not the open vote.
    sv.cast_ballot(world.uow, world.facilitator, vote, "approve")
    world.close_at_deadline(vote, world.facilitator)
    at = ok(at.run())
    assert "No open votes here." in [i.value for i in at.info]
    at = choose(at, "closed-vote", vote)
    assert "Result: **Approve**" in successes(at)
    assert problems_q.problem_detail(world.uow, world.members[0], problem).state == "ratified"


def test_a_pilot_page_shows_its_new_state_right_after_the_act(world: World) -> None:
    problem = world.locked_problem()
    pilot = world.register_pilot(problem)
    sv.add_to_roster(world.uow, world.commissioner, pilot, world.members)
    world.make_ready(pilot)
    at = choose(open_page(world.commissioner, "pilots"), "pilot-chosen", pilot)
    assert next(m.value for m in at.markdown if "-badge[" in m.value) == ":blue-badge[Ready]"
    at = confirm(click(at, "start-real-use"), "start")
    badges = [m.value for m in at.markdown if "-badge[" in m.value]
    assert ":blue-badge[In real use]" in badges
    assert "start-real-use" not in [b.key for b in at.button]
    assert pilots_q.pilot_detail(world.uow, world.commissioner, pilot).state == "in_use"
