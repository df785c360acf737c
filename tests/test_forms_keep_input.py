"""A refused form keeps every field as the person typed it, and reports every problem at
once, each saying what to do (issue 14, "Forms keep their input"); nothing is written.
After a success the form starts empty again."""
from __future__ import annotations

import pytest

from governance import services as sv
from governance.errors import InvalidInput
from governance.queries import pilots as pilots_q
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
