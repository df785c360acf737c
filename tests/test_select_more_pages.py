"""Picking a record on Evaluate, Compare, Audit and Admin (issue 14, "Select by clicking"):
each list opens its record from a table row (``common.selectable``) and each pick is the page's
deep link — a shared link opens that record, on the tab it is on, and choosing one puts it in
the address bar. Clicking a row in a real browser is driven in tests/test_screens_1400.py."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from governance import services as sv
from governance.queries import audit as audit_q
from tests.apptest_support import PAGE_FILES, app, choose, ok, one, open_page, pages_pointed_at, shown_text
from tests.test_pages_render import Furnished, furnished

__all__ = ["furnished"]


def linked(reader: int, page: str, **params: str) -> AppTest:
    """Open ``page`` as ``reader`` the way a shared link with ``params`` does."""
    at = ok(app(reader).run())
    for name, value in params.items():
        at.query_params[name] = value
    return ok(at.switch_page(PAGE_FILES[page]).run())


@pytest.fixture
def shown(furnished: Furnished) -> Iterator[Furnished]:
    with pages_pointed_at(furnished.world.db):
        yield furnished


def test_a_link_to_a_pilot_opens_its_survey_rounds_on_their_tab(shown: Furnished) -> None:
    at = linked(shown.world.commissioner, "evaluate", rounds=str(shown.in_use))
    assert at.session_state["evaluate-tab"] == "Run survey rounds"
    assert at.selectbox(key="rounds-pilot").value == shown.in_use
    assert "Evaluation window: the survey may open from" in shown_text(at)
    assert at.query_params["rounds"] == str(shown.in_use)


def test_a_link_to_a_pilots_claims_opens_them(shown: Furnished) -> None:
    at = linked(shown.world.members[0], "evaluate", claims=str(shown.decided))
    assert at.session_state["evaluate-tab"] == "Claims"
    assert at.selectbox(key="claims-pilot").value == shown.decided
    assert "The assistant met all its KPIs" in shown_text(at)


def test_a_link_to_a_feedback_item_shows_that_item_alone(shown: Furnished) -> None:
    w = shown.world
    other = sv.raise_feedback(w.uow, w.members[2], shown.decided, kind="wrong_output",
                              body="The letter date is a day early.")
    at = linked(w.commissioner, "evaluate", feedback=str(other))
    assert at.session_state["evaluate-tab"] == "Feedback"
    text = shown_text(at)
    assert "The letter date is a day early" in text  # (shown escaped, as typed text is)
    assert "We still print the letter" not in text
    at = ok(at.button(key="feedback-all").click().run())
    assert "feedback" not in at.query_params
    assert "We still print the letter" in shown_text(at)


def test_a_link_to_a_pilot_opens_it_side_by_side_on_compare(shown: Furnished) -> None:
    at = linked(shown.world.steering, "compare", pilot=str(shown.decided))
    assert at.selectbox(key="compare-pilot").value == shown.decided
    assert "**Commissioning metrics against target**" in [m.value for m in at.markdown]


def test_choosing_a_pilot_on_compare_puts_it_in_the_address_bar(shown: Furnished) -> None:
    at = choose(open_page(shown.world.steering, "compare"), "compare-pilot", shown.in_use)
    assert at.query_params["pilot"] == str(shown.in_use)
    # The table beside the chart is the list the pilot is picked from, one row per pilot.
    [table] = [d.value for d in at.dataframe if "Likely between" in d.value.columns]
    assert len(table) == 2


def test_a_link_to_a_declaration_opens_its_basis_for_the_auditor(shown: Furnished) -> None:
    at = linked(shown.world.auditor, "audit", decision=str(shown.decision))
    assert at.selectbox(key="audit-decision").value == shown.decision
    assert any(m.value.startswith("**Pre-registered criteria**") for m in at.markdown)


def test_a_link_to_an_event_opens_its_full_payload_on_the_event_log(shown: Furnished) -> None:
    w = shown.world
    newest = audit_q.events_page(w.uow, w.auditor).rows[0]
    at = linked(w.auditor, "audit", event=str(newest.seq))
    assert at.session_state["audit-tab"] == "Event log"
    assert at.selectbox(key="log-event").value == newest.seq
    assert f"Event {newest.seq}: the full payload (JSON)" in [e.label for e in at.expander]


def test_a_link_to_a_person_opens_their_roles_for_the_administrator(shown: Furnished) -> None:
    w = shown.world
    at = linked(w.admin, "admin", person=str(w.members[0]))
    assert at.selectbox(key="person-chosen").value == w.members[0]
    assert one(at.multiselect, form="roles").value == ["frontline"]


def test_a_link_to_a_panel_opens_its_members_on_the_panels_tab(shown: Furnished) -> None:
    w = shown.world
    at = linked(w.admin, "admin", panel=str(w.panel))
    assert at.session_state["admin-tab"] == "Panels"
    assert at.selectbox(key="panel-chosen").value == w.panel
    assert one(at.selectbox, label="Person", form="add-member") is not None
    at = choose(at, "panel-chosen", w.panel)
    assert at.query_params["panel"] == str(w.panel)


def test_links_to_records_a_page_does_not_offer_open_nothing(shown: Furnished) -> None:
    w = shown.world
    at = linked(w.commissioner, "evaluate", rounds="99999", claims="not-a-number")
    assert at.selectbox(key="rounds-pilot").value is None
    at = linked(w.steering, "compare", pilot="99999")
    assert at.selectbox(key="compare-pilot").value is None
    at = linked(w.admin, "admin", person="99999", panel="-1")
    assert at.selectbox(key="person-chosen").value is None and at.selectbox(key="panel-chosen").value is None
