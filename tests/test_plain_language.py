"""Every page a person reads speaks plainly (issue 14, "Plain language"): no raw enum
values, no "None" in a cell, no ISO timestamps with microseconds, no JSON outside the
auditor's "full frozen basis" expander, and rule codes only in the auditor's views.

Each page is rendered through the router as each role that may open it, over the same
furnished organisation as ``tests/test_pages_render.py``, with every record picker on
the page opened in turn, and the whole rendered text — markdown, captions, alerts,
badges, table headers and cells, tab and expander labels, metrics — is scanned.
"""
from __future__ import annotations

import re
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from governance.rules.permissions import PAGE_ROLES
from governance.vocabulary import Role
from tests.apptest_support import offers, ok, open_page, pages_pointed_at
from tests.test_pages_render import Furnished, details, furnished

ALLOWED = [(page, role) for page, roles in PAGE_ROLES.items() for role in sorted(roles)]

#: What must never reach a person, each with why it is wrong.
RAW = {
    "an enum value": re.compile(r"\b[a-z]+_is_[a-z_]+\b|\b(?:higher|lower)_is_better\b"
                                r"|\b(?:in_use|revisit_problem|ratify_problem|lock_criteria|amend_criterion)\b"),
    "None shown as text": re.compile(r"(?<![\w'])None(?![\w'])"),
    "an ISO timestamp with microseconds": re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}\.\d+"),
    "raw JSON": re.compile(r"\{\s*\\?\"[a-z_]+\\?\"\s*:"),
}
#: Rule codes (R3, R13 …) belong in an auditor's detail view only.
__all__ = ["furnished"]  # the furnished organisation of test_pages_render, a fixture
RULE_CODE = re.compile(r"\bR(?:[1-9]|1[0-8])\b")


def _cells(frame: Any, placeholder: str = "None") -> list[str]:
    """A table's header and every cell, as a person sees them: the grid draws a missing
    value (None, NaN, NA) as the table's placeholder, the word "None" unless one is set."""
    import pandas as pd

    out = [str(c) for c in frame.columns]
    for row in frame.itertuples(index=False):
        out.extend(f"{placeholder} (a blank in column {col!r})"
                   if v is None or (not isinstance(v, (list, tuple, dict)) and pd.isna(v)) else str(v)
                   for col, v in zip(frame.columns, row, strict=True))
    return out


def everything_shown(at: AppTest) -> list[str]:
    """The whole rendered text of a page, element by element (the auditor's raw-JSON
    expander, ``st.json``, is a separate element and is not read here)."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "success", "info", "warning",
                 "error", "exception"):
        parts.extend(str(e.value) for e in getattr(at, kind))
    parts.extend(str(t.label) for t in at.tabs)
    parts.extend(str(e.label) for e in at.expander)
    parts.extend(f"{m.label} {m.value}" for m in at.metric)
    for d in at.dataframe:
        parts.extend(_cells(d.value, d.proto.placeholder if d.proto.HasField("placeholder") else "None"))
    for table in at.table:
        parts.extend(_cells(table.value))
    for box in at.selectbox:
        parts.extend(str(o) for o in box.options)
    for radio in at.radio:
        parts.extend(str(o) for o in radio.options)
    return parts


def problems_in(parts: list[str], role: Role) -> list[str]:
    found = []
    for text in parts:
        for why, pattern in RAW.items():
            if pattern.search(text):
                found.append(f"{why}: {text[:160]!r}")
        if role != Role.AUDITOR and RULE_CODE.search(text):
            found.append(f"a rule code in a sentence for a {role}: {text[:160]!r}")
    return found


@pytest.mark.parametrize(("page", "role"), ALLOWED, ids=[f"{p}-{r}" for p, r in ALLOWED])
def test_every_page_speaks_plainly_to_every_role(furnished: Furnished, page: str, role: Role) -> None:
    with pages_pointed_at(furnished.world.db):
        at = open_page(furnished.person(role), page)
        found = problems_in(everything_shown(at), role)
        for key, record in details(furnished)[page]:
            boxes = [b for b in at.selectbox if b.key == key]
            if boxes and offers(boxes[0], record):
                at = ok(boxes[0].set_value(record).run())
                found += [f"{key}={record}: {p}" for p in problems_in(everything_shown(at), role)]
    assert not found, "\n".join(dict.fromkeys(found))


def test_the_scan_finds_what_it_looks_for() -> None:
    """The patterns are not vacuous: each catches the raw forms the issue quotes."""
    quoted = ['higher_is_better', 'Cast 2026-11-23T08:12:00.000033Z', 'None', '{"target": 99.0}',
              'a design signal (R10).']
    assert problems_in(quoted, Role.FRONTLINE) == [
        "an enum value: 'higher_is_better'",
        "an ISO timestamp with microseconds: 'Cast 2026-11-23T08:12:00.000033Z'",
        "None shown as text: 'None'", "raw JSON: '{\"target\": 99.0}'",
        "a rule code in a sentence for a frontline: 'a design signal (R10).'"]
    assert problems_in(["target 99 → 95", "Not voted yet", "01 Mar 2026 09:00"], Role.FRONTLINE) == []
