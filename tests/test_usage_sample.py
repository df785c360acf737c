"""The sample usage file (issue 14, "A sample file that works"): a sample made for a pilot
imports into it as it is, and a refused file's problems come as a table — line, column,
problem, what to do — on the Pilots page too."""
from __future__ import annotations

from pathlib import Path

import pytest

from governance import services as sv
from governance.csvfiles import FileRejected, problem_table, sample_usage_rows, to_csv
from governance.queries import pilots as pilots_q
from tests.apptest_support import ROOT, frames, pages_db
from tests.world import World

__all__ = ["pages_db"]
EXAMPLE = ROOT / "data" / "usage_example.csv"


def test_a_sample_made_for_a_pilot_imports_into_it(world: World) -> None:
    _, pilot = world.pilot_in_use()
    world.pass_window(days=36)
    d = pilots_q.pilot_detail(world.uow, world.commissioner, pilot)
    assert d.usage_sample
    sv.import_usage(world.uow, world.commissioner, pilot, filename="sample.csv",
                    content=to_csv(d.usage_sample))  # exactly what the page's download button writes
    weeks = pilots_q.pilot_detail(world.uow, world.commissioner, pilot).usage
    assert len(weeks) == len(d.usage_sample) >= 5
    assert all(w.eligible_users == len(world.members) for w in weeks)
    # Made again, it leaves out the weeks now imported: nothing is left to add this week.
    assert pilots_q.pilot_detail(world.uow, world.commissioner, pilot).usage_sample == []


def test_the_sample_skips_weeks_already_imported() -> None:
    from datetime import date

    rows = sample_usage_rows(date(2026, 3, 4), date(2026, 3, 24), 10, {date(2026, 3, 9)})
    assert [(r["week_start"], r["active_users"]) for r in rows] == [
        ("2026-03-02", 1), ("2026-03-16", 2), ("2026-03-23", 3)]


def test_a_refused_file_lists_its_problems_as_a_table(world: World) -> None:
    _, pilot = world.pilot_in_use()  # real use began today: the example's later weeks are in the future
    content = Path(EXAMPLE).read_bytes()
    with pytest.raises(FileRejected) as refused:
        sv.import_usage(world.uow, world.commissioner, pilot, filename="usage_example.csv", content=content)
    table = problem_table(refused.value.errors)
    assert len(table) == len(refused.value.errors) >= 7  # one row per refused line, none cut off
    assert set(table[0]) == {"Line", "Column", "Problem", "What to do"}
    assert all(row["Column"] == "week_start" and row["Line"].isdigit() for row in table)
    assert table[0]["What to do"].startswith("Write the Monday of the week")


def test_the_pages_show_a_refused_file_as_a_table() -> None:
    """``common.refusal`` — how every page shows a refusal — turns a refused file into a table."""
    from streamlit.testing.v1 import AppTest

    def script() -> None:
        from governance.csvfiles import FileRejected
        from pages import common

        common.refusal(FileRejected("usage.csv", [(2, "week_start 2026-03-02 is before real use began "
                                                     "(2026-07-13)"), (3, "active_users 50 is more than "
                                                                          "eligible_users 40")]))

    at = AppTest.from_function(script).run()
    [error] = [e.value for e in at.error]
    assert error.startswith("'usage") and "was not imported — nothing was saved. Fix the 2 problems below" in error
    [table] = frames(at)
    assert list(table.columns) == ["Line", "Column", "Problem", "What to do"]
    assert list(table["Column"]) == ["week_start", "active_users"]
