"""The Paper page (AppTest): a facilitator prints and enters, cannot attest their own batch; steering
attests with a scan and a mismatch note, and the closure certificate shows."""
from __future__ import annotations

from typing import Any

import pytest

from governance import services as sv
from tests.apptest_support import (
    choose,
    click,
    errors,
    ok,
    open_page,
    pages_db,
    shown_text,
    submit,
    successes,
)
from tests.test_paper import SCAN, sheets_of
from tests.world import VERY, World

__all__ = ["pages_db"]
pytestmark = pytest.mark.usefixtures("pages_db")


def opened(person_id: int) -> Any:
    at = open_page(person_id, "paper")
    return choose(at, "paper-act", 1)


def test_print_enter_and_attest_on_the_page(world: World) -> None:
    w = world
    _, pilot = w.pilot_in_use()
    w.pass_window()
    rnd = sv.open_survey_round(w.uow, w.commissioner, pilot)
    at = opened(w.facilitator)
    at = click(at, f"print-survey_round-{rnd}")
    assert any("6 sheets printed" in s for s in successes(at)), shown_text(at)
    assert [b.label for b in at.get("download_button")] == ["Download the sheets (PDF)"]
    codes = sheets_of(at.session_state["paper-printed"][2])
    batch = int(at.session_state["paper-printed"][3].rsplit("-", 1)[1][:-4])
    at.text_input(key=f"code-{batch}").set_value(codes["Member 1"])
    at.radio(key=f"answer-{batch}").set_value(VERY)
    at = submit(at, f"enter-{batch}", "Enter this sheet")
    assert any("counts once the batch is attested" in s for s in successes(at)), errors(at)
    assert "You entered sheets of this batch, so you cannot also attest it" in shown_text(at)
    sv.enter_paper_sheet(w.uow, w.facilitator, batch, code=codes["Member 2"], spoiled=True)

    at = opened(w.steering)
    at.number_input(key=f"returned-{batch}").set_value(2)
    at = submit(at, f"attest-{batch}", "Attest this batch")
    shown = " ".join(errors(at))
    assert "Upload a scan or photo" in shown and "Say in a sentence what happened" in shown
    assert "Closure certificate" not in shown_text(at)
    at.number_input(key=f"returned-{batch}").set_value(2)
    at.get("file_uploader")[0].set_value(("sheets.jpg", SCAN, "image/jpeg"))
    at.text_area(key=f"note-{batch}").set_value("Four people were on night shifts.")
    at = submit(at, f"attest-{batch}", "Attest this batch")
    assert any("entries now count" in s for s in successes(at)), errors(at)
    assert "Closure certificate" in shown_text(at)
    table = at.table[0].value
    assert "4 of the 6 sheets printed were not returned. Four people were on night shifts." in table.to_string()
    assert "Download the certificate (PDF)" in [b.label for b in at.get("download_button")]


def test_the_page_is_not_for_frontline_or_commissioning(world: World) -> None:
    from governance.rules.permissions import may_open
    from governance.vocabulary import Role

    assert not may_open({Role.FRONTLINE}, "paper") and not may_open({Role.COMMISSIONING}, "paper")
    at = ok(open_page(world.steering, "paper"))
    assert "There is no open survey round or panel vote" in shown_text(at)
