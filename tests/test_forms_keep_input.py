"""A refused form keeps every field as the person typed it, and reports every problem at
once, each saying what to do (issue 14, "Forms keep their input"); nothing is written.
After a success the form starts empty again."""
from __future__ import annotations

import pytest

from governance import services as sv
from governance.errors import InvalidInput
from governance.queries import evaluate as evaluate_q, pilots as pilots_q
from tests.apptest_support import choose, errors, one, open_page, pages_db, submit, successes
from tests.world import World

__all__ = ["pages_db"]
pytestmark = pytest.mark.usefixtures("pages_db")


def test_adding_a_person_reports_every_problem_at_once_and_writes_nothing(world: World) -> None:
    with pytest.raises(InvalidInput) as refused:
        sv.create_person(world.uow, world.admin, name="", email="not an email", roles=["auditor", "frontline"])
    assert set(refused.value.problems) == {"Name", "Email", "Roles"}


def test_a_refused_add_person_form_keeps_every_field_and_lists_every_problem(world: World) -> None:
    at = open_page(world.admin, "admin")
    one(at.text_input, label="Name", form="add-person").input("   ")
    one(at.text_input, label="Email", form="add-person").input("dana at clinic")
    one(at.multiselect, label="Roles", form="add-person").set_value(["auditor", "frontline"])
    before = world.fingerprint()
    at = submit(at, "add-person", "Add person")
    [error] = errors(at)
    assert error.startswith("Nothing was saved; 3 things need fixing:")
    for field in ("**Name**", "**Email**", "**Roles**"):
        assert field in error
    assert world.fingerprint() == before
    # Everything typed is still there, to be corrected rather than typed again.
    assert one(at.text_input, label="Email", form="add-person").value == "dana at clinic"
    assert one(at.text_input, label="Name", form="add-person").value == "   "
    assert one(at.multiselect, label="Roles", form="add-person").value == ["auditor", "frontline"]

    # Corrected, it is accepted; the form is then empty for the next person.
    one(at.text_input, label="Name", form="add-person").input("Dana Doyle")
    one(at.text_input, label="Email", form="add-person").input("dana@clinic.example")
    one(at.multiselect, label="Roles", form="add-person").set_value(["frontline"])
    at = submit(at, "add-person", "Add person")
    assert "Dana Doyle added." in successes(at), errors(at)
    assert one(at.text_input, label="Email", form="add-person").value == ""


def test_a_readiness_item_refused_for_its_missing_date_keeps_the_evidence_and_the_item(world: World) -> None:
    problem = world.locked_problem()
    pilot = world.register_pilot(problem)
    at = choose(open_page(world.commissioner, "pilots"), "pilot-chosen", pilot)
    one(at.selectbox, label="Item", form="readiness").set_value("old_process_retirement")
    one(at.text_area, label="Evidence (what was done)", form="readiness").input("Paper re-keying stops.")
    before = world.fingerprint()
    at = submit(at, "readiness", "Record")
    assert errors(at) == ["Give the date the old or manual process retires."]
    assert world.fingerprint() == before
    assert one(at.selectbox, label="Item", form="readiness").value == "old_process_retirement"
    assert one(at.text_area, label="Evidence (what was done)", form="readiness").value == "Paper re-keying stops."

    # With the date it is recorded, and the evidence box is empty again.
    one(at.date_input, label="Date (for the retirement of the old process)", form="readiness").set_value(
        world.today())
    at = submit(at, "readiness", "Record")
    assert "Readiness recorded." in successes(at), errors(at)
    assert one(at.text_area, label="Evidence (what was done)", form="readiness").value == ""
    done = {r.item for r in pilots_q.pilot_detail(world.uow, world.commissioner, pilot).readiness if r.done}
    assert "old_process_retirement" in done


def test_empty_evidence_and_a_missing_date_are_both_reported(world: World) -> None:
    pilot = world.register_pilot(world.locked_problem())
    with pytest.raises(InvalidInput) as refused:
        sv.record_readiness(world.uow, world.commissioner, pilot, "old_process_retirement", detail="")
    assert set(refused.value.problems) == {"Evidence", "Date"}


def test_a_refused_claim_keeps_every_field_and_lists_every_problem(world: World) -> None:
    _, pilot = world.pilot_in_use()
    metric = pilots_q.pilot_detail(world.uow, world.commissioner, pilot).metrics[0].name
    at = choose(open_page(world.commissioner, "pilots"), "pilot-chosen", pilot)
    form = f"claim-{pilot}"
    one(at.text_area, label="Claim", form=form).input("   ")
    one(at.radio, label="Does it claim success?", form=form).set_value("No")
    before = world.fingerprint()
    at = submit(at, form, "Record claim")
    [error] = errors(at)
    assert error.startswith("Nothing was saved; 2 things need fixing:")
    assert "**Claim**" in error and "**Cited metrics**" in error
    assert world.fingerprint() == before
    assert one(at.text_area, label="Claim", form=form).value == "   "
    assert one(at.radio, label="Does it claim success?", form=form).value == "No"

    # Corrected, it is recorded; the form is then empty for the next claim.
    one(at.text_area, label="Claim", form=form).input("The assistant has not yet met its accuracy target.")
    one(at.multiselect, label="Metrics it rests on", form=form).set_value([metric])
    at = submit(at, form, "Record claim")
    assert "Claim recorded with its checks." in successes(at), errors(at)
    assert one(at.text_area, label="Claim", form=form).value == ""
    assert one(at.multiselect, label="Metrics it rests on", form=form).value == []


def test_a_refused_comment_keeps_its_text(world: World) -> None:
    problem = world.draft_problem(title="Tuesday re-keying")
    at = choose(open_page(world.members[0], "problems"), "problem-chosen", problem)
    too_long = "The Tuesday letters arrive late. " * 130  # beyond the 4,000 characters a comment holds
    one(at.text_area, label="Add a comment", form="comment").input(too_long)
    before = world.fingerprint()
    at = submit(at, "comment", "Post comment")
    [error] = errors(at)
    assert "Comment" in error and "4000" in error.replace(",", "")
    assert world.fingerprint() == before
    assert one(at.text_area, label="Add a comment", form="comment").value == too_long
    one(at.text_area, label="Add a comment", form="comment").input(too_long[:200])
    at = submit(at, "comment", "Post comment")
    assert "Comment posted." in successes(at), errors(at)
    assert one(at.text_area, label="Add a comment", form="comment").value == ""


def test_a_survey_with_the_usability_items_half_answered_names_each_one_left_and_keeps_the_rest(
        world: World) -> None:
    _, pilot = world.pilot_in_use()
    world.pass_window()
    rnd = sv.open_survey_round(world.uow, world.commissioner, pilot)
    at = open_page(world.members[0], "evaluate")
    items = [one(at.radio, key=f"sus-{i}", form="survey") for i in range(1, 11)]
    # Ten rows of five labelled choices, none chosen: "not answered" is no answer at all.
    for item in items:
        assert item.horizontal and item.value is None
        assert item.options == ["1 Strongly disagree", "2 Disagree", "3 Neither", "4 Agree", "5 Strongly agree"]
    for i in (1, 3, 4, 5, 7, 8, 9):
        one(at.radio, key=f"sus-{i}", form="survey").set_value(4)
    one(at.text_area, label="What would you use instead?", form="survey").input("Paper, again.")
    before = world.fingerprint()
    at = submit(at, "survey", "Submit my answer")
    [error] = errors(at)
    # Both problems at once: the main question, and every usability item left out by number.
    assert error.startswith("Nothing was saved; 2 things need fixing:")
    assert "Usability questions 2, 6 and 10 are not answered" in error and "**Answer**" in error
    assert world.fingerprint() == before
    assert [one(at.radio, key=f"sus-{i}", form="survey").value for i in range(1, 11)] == \
        [4, None, 4, 4, 4, None, 4, 4, 4, None]
    assert one(at.text_area, label="What would you use instead?", form="survey").value == "Paper, again."

    one(at.radio, key=f"answer-{rnd}", form="survey").set_value("very_disappointed")
    for i in (2, 6, 10):
        one(at.radio, key=f"sus-{i}", form="survey").set_value(2)
    at = submit(at, "survey", "Submit my answer")
    assert "Thank you — your answer is recorded." in successes(at), errors(at)
    [mine] = [r for r in evaluate_q.my_surveys(world.uow, world.members[0]) if r.round_id == rnd]
    # Odd items (4) give 3 each; even items give 5 − answer: 2, 6, 10 (2) give 3, 4 and 8 (4) give 1.
    assert mine.sus_score == (5 * 3 + 3 * 3 + 2 * 1) * 2.5
