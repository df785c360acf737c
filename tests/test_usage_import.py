"""Usage import: weekly active vs eligible users from the tool's log export.

The documented columns are ``week_start,active_users,eligible_users``
(``data/usage_example.csv`` is the example). A file is validated as a whole:
any bad row refuses the whole file with its errors listed by line number,
and nothing is written. An accepted file is recorded as the source, with its
SHA-256 and who imported it.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from governance import services as sv
from governance.csvfiles import FileRejected
from governance.errors import InvalidInput, PermissionDenied, RuleViolation
from governance.storage.models import AuditEvent, SourceFile, UsageWeek
from governance.storage.repository import latest_usage

EXAMPLE = Path(__file__).resolve().parent.parent / "data" / "usage_example.csv"
HEADER = "week_start,active_users,eligible_users\n"


def read(world, fn):
    with world.db.uow().reading() as s:
        out = fn(s)
        s.expunge_all()
    return out


@pytest.fixture
def pilot(world):
    """A pilot in real use since Monday 2 March 2026; today is Monday 27 April (eight weeks on)."""
    _, pilot = world.pilot_in_use()
    world.pass_window(days=56)
    return pilot


def upload(world, pilot, content: bytes | str, filename: str = "usage.csv", actor=None):
    data = content.encode("utf-8") if isinstance(content, str) else content
    return sv.import_usage(world.uow, actor or world.commissioner, pilot, filename=filename, content=data)


def rejected(world, pilot, content, **kw) -> list[tuple[int, str]]:
    """The (line, message) errors of a refused file, after checking nothing was written."""
    with world.refuses(FileRejected, match="was not imported — nothing was saved") as info:
        upload(world, pilot, content, **kw)
    return info.value.errors


# ---------------------------------------------------------------- accepted
def test_the_example_file_imports_eight_weeks_of_rising_usage(world, pilot):
    content = EXAMPLE.read_bytes()
    assert content.decode("utf-8").splitlines()[0] == HEADER.strip()
    assert upload(world, pilot, content, filename="usage_example.csv") == 8
    weeks = read(world, lambda s: s.scalars(select(UsageWeek).where(UsageWeek.pilot_id == pilot)
                                            .order_by(UsageWeek.week_start)).all())
    assert len(weeks) == 8
    assert (weeks[0].week_start.isoformat(), weeks[-1].week_start.isoformat()) == ("2026-03-02", "2026-04-20")
    active = [w.active_users for w in weeks]
    assert active == sorted(active) and active[0] < active[-1]
    assert all(w.active_users <= w.eligible_users for w in weeks)
    latest = read(world, lambda s: latest_usage(s, pilot))
    assert latest == {"week_start": "2026-04-20", "active_users": 33, "eligible_users": 40,
                      "adoption": 33 / 40}


def test_the_source_file_records_its_sha256_and_the_importer(world, pilot):
    content = EXAMPLE.read_bytes()
    upload(world, pilot, content, filename="usage_example.csv")
    source = read(world, lambda s: s.scalar(select(SourceFile).where(SourceFile.pilot_id == pilot)))
    assert source.sha256 == hashlib.sha256(content).hexdigest()
    assert source.imported_by == world.commissioner
    assert (source.kind, source.filename, source.row_count, source.byte_size) == \
        ("usage", "usage_example.csv", 8, len(content))
    weeks_source = read(world, lambda s: set(s.scalars(select(UsageWeek.source_file_id))))
    assert weeks_source == {source.id}
    event = read(world, lambda s: s.scalar(select(AuditEvent).where(AuditEvent.action == "usage.imported")))
    assert event.actor_id == world.commissioner
    assert json.loads(event.payload)["after"]["sha256"] == source.sha256


def test_a_spreadsheet_export_with_a_byte_order_mark_and_windows_line_ends_is_accepted(world, pilot):
    content = ("\ufeff" + HEADER + "2026-03-02,5,40\n\n2026-03-09,9,40\n").replace("\n", "\r\n")
    assert upload(world, pilot, content.encode("utf-8")) == 2


def test_later_weeks_can_follow_in_a_second_file(world, pilot):
    upload(world, pilot, HEADER + "2026-03-02,5,40\n2026-03-09,9,40\n")
    assert upload(world, pilot, HEADER + "2026-03-16,14,40\n") == 1
    assert read(world, lambda s: len(s.scalars(select(SourceFile)).all())) == 2


# ---------------------------------------------------------------- refused
def test_a_wrong_header_is_refused_on_line_1(world, pilot):
    errors = rejected(world, pilot, "week,active,eligible\n2026-03-02,5,40\n")
    assert errors == [(1, "the header must be exactly 'week_start,active_users,eligible_users' "
                          "(found 'week,active,eligible')")]


def test_columns_in_another_order_are_refused(world, pilot):
    errors = rejected(world, pilot, "active_users,week_start,eligible_users\n5,2026-03-02,40\n")
    assert errors[0][0] == 1 and "header must be exactly" in errors[0][1]


def test_bad_dates_are_listed_by_line(world, pilot):
    errors = rejected(world, pilot, HEADER + "2026-03-02,5,40\n02/03/2026,6,40\n2026-02-30,7,40\n"
                                             "next week,8,40\n")
    assert [line for line, _ in errors] == [3, 4, 5]
    assert "'02/03/2026' is not a date written YYYY-MM-DD" in errors[0][1]
    assert "'2026-02-30' is not a date" in errors[1][1]


def test_a_week_must_start_on_a_monday(world, pilot):
    """Otherwise 2 and 4 March would be two "weeks" and usage would be counted twice."""
    errors = rejected(world, pilot, HEADER + "2026-03-02,5,40\n2026-03-04,6,40\n")
    assert errors == [(3, "week_start 2026-03-04 is a Wednesday; weeks start on a Monday "
                          "(that week's Monday is 2026-03-02)")]


def test_weeks_in_the_future_or_before_real_use_are_refused(world, pilot):
    errors = rejected(world, pilot, HEADER + "2026-05-04,5,40\n2026-02-23,6,40\n")
    assert errors == [(2, "week_start 2026-05-04 is in the future"),
                      (3, "week_start 2026-02-23 is before real use began (2026-03-02)")]


@pytest.mark.parametrize(("row", "says"), [
    ("2026-03-02,-3,40", "active_users -3 is negative"),
    ("2026-03-02,3,-40", "eligible_users -40 is negative"),
    ("2026-03-02,3.5,40", "active_users '3.5' is not a whole number written with the digits 0–9"),
    ("2026-03-02,3,forty", "eligible_users 'forty' is not a whole number written with the digits 0–9"),
    ("2026-03-02,,40", "active_users '' is not a whole number written with the digits 0–9"),
    ("2026-03-02,41,40", "active_users 41 is more than eligible_users 40"),
    ("2026-03-02,5", "expected 3 values, found 2"),
    ("2026-03-02,5,40,extra", "expected 3 values, found 4"),
])
def test_bad_counts_are_refused_with_their_line(world, pilot, row, says):
    errors = rejected(world, pilot, HEADER + "2026-03-09,5,40\n" + row + "\n")
    assert errors == [(3, says)]


def test_every_bad_row_is_listed_not_just_the_first(world, pilot):
    content = (HEADER + "2026-03-02,5,40\n2026-03-09,-1,40\n2026-03-16,50,40\n2026-03-23,x,40\n"
               "2026-03-30,9,40\n")
    errors = rejected(world, pilot, content)
    assert [line for line, _ in errors] == [3, 4, 5]
    with world.refuses(FileRejected) as info:
        upload(world, pilot, content)
    message = str(info.value)
    assert "line 3: active_users -1 is negative" in message
    assert "line 4: active_users 50 is more than eligible_users 40" in message
    assert "line 5: active_users 'x' is not a whole number" in message


def test_a_week_repeated_in_the_file_is_refused(world, pilot):
    errors = rejected(world, pilot, HEADER + "2026-03-02,5,40\n2026-03-09,6,40\n2026-03-02,7,40\n")
    assert errors == [(4, "week 2026-03-02 repeats line 2")]


def test_a_week_already_imported_is_refused(world, pilot):
    upload(world, pilot, HEADER + "2026-03-02,5,40\n")
    errors = rejected(world, pilot, HEADER + "2026-03-09,9,40\n2026-03-02,6,40\n")
    assert errors == [(3, "week 2026-03-02 was already imported")]


def test_the_same_example_file_twice_is_refused_whole(world, pilot):
    upload(world, pilot, EXAMPLE.read_bytes())
    errors = rejected(world, pilot, EXAMPLE.read_bytes())
    assert len(errors) == 1 and errors[0][0] == 0
    assert "this exact file" in errors[0][1] and "was already imported" in errors[0][1]
    # The same weeks in another file are refused week by week.
    errors = rejected(world, pilot, EXAMPLE.read_bytes() + b"\n")
    assert [line for line, _ in errors] == list(range(2, 10))


def test_a_file_in_the_wrong_encoding_is_refused_with_advice(world, pilot):
    latin1 = (HEADER + "2026-03-02,5,40\n").encode("utf-8") + "2026-03-09,6,40 # Clinique Hélène\n".encode(
        "latin-1")
    errors = rejected(world, pilot, latin1)
    assert len(errors) == 1 and errors[0][0] == 0
    assert "not UTF-8 text" in errors[0][1] and "Save as CSV UTF-8" in errors[0][1]


@pytest.mark.parametrize(("content", "says"), [
    (b"", "the file is empty"),
    (b"\n\n", "the file is empty"),
    (HEADER.encode(), "the file has a header but no rows"),
    ((HEADER + "\n,,\n").encode(), "the file has a header but no rows"),
    (b"\x00\x01\x02binary", "binary data"),
])
def test_empty_header_only_and_binary_files_are_refused(world, pilot, content, says):
    errors = rejected(world, pilot, content)
    assert errors == [(0, errors[0][1])] and says in errors[0][1]


def test_the_filename_is_named_in_the_refusal(world, pilot):
    with world.refuses(FileRejected, match="'clinic-export.csv' was not imported"):
        upload(world, pilot, b"", filename="clinic-export.csv")


def test_a_refused_file_is_an_invalid_input(world, pilot):
    assert issubclass(FileRejected, InvalidInput)


# ------------------------------------------------------------------ who
def test_only_the_pilots_commissioning_team_imports_usage(world, pilot):
    stranger = world.person("Cora Other", ["commissioning"])
    with world.refuses(PermissionDenied, match="is not on the commissioning team"):
        upload(world, pilot, EXAMPLE.read_bytes(), actor=stranger)
    with world.refuses(PermissionDenied, match="may not import usage records"):
        upload(world, pilot, EXAMPLE.read_bytes(), actor=world.steering)
    with world.refuses(PermissionDenied, match="may not import usage records"):
        upload(world, pilot, EXAMPLE.read_bytes(), actor=world.auditor)


def test_usage_before_real_use_is_refused(world):
    problem = world.locked_problem()
    pilot = world.register_pilot(problem)
    with world.refuses(RuleViolation, match="has not entered real use"):
        upload(world, pilot, EXAMPLE.read_bytes())
