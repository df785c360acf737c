"""Driving the dashboard's pages with ``streamlit.testing.v1.AppTest``.

AppTest runs the scripts in this process, so ``common.use_database`` points
every page at the test's database. A person is "signed in" by putting their
id in the session state, exactly as a successful sign-in does.

Test files import the ``pages_db`` fixture from here:

    from tests.apptest_support import pages_db  # noqa: F401 - fixture
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from governance.storage.db import Database
from pages import common
from pages.menu import PAGES
from tests.world import World

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = str(ROOT / "dashboard.py")
TIMEOUT = 30

#: page key (governance.rules.permissions.PAGE_ROLES) → script path relative to dashboard.py
PAGE_FILES = {name: script for name, (script, _, _) in PAGES.items()}

_ORIGINAL_LOOKUP = common.identity_lookup


_ORIGINAL_PAGES_MANAGER_INIT = PagesManager.__init__


def _navigation_only_init(self: PagesManager, *args: Any, **kwargs: Any) -> None:
    """A ``pages/`` folder beside the entry point makes Streamlit start in its
    old "pages directory" mode until the first ``st.navigation`` call switches
    that off for the whole process. A server does that once; AppTest resets it
    before every run, so a switched-to page would run on its own, without the
    router (no sidebar, no role-built navigation). Behave like the server."""
    _ORIGINAL_PAGES_MANAGER_INIT(self, *args, **kwargs)
    PagesManager.uses_pages_directory = False


@contextmanager
def pages_pointed_at(db: Database) -> Iterator[Database]:
    """Point the pages at ``db``; afterwards, back to the default, with no cached
    read or identity override left behind for the next test."""
    common.use_database(db)
    st.cache_data.clear()
    PagesManager.__init__ = _navigation_only_init  # type: ignore[method-assign]
    try:
        yield db
    finally:
        PagesManager.__init__ = _ORIGINAL_PAGES_MANAGER_INIT  # type: ignore[method-assign]
        common.use_database(None)
        common.set_identity_lookup(_ORIGINAL_LOOKUP)
        st.cache_data.clear()


@pytest.fixture
def pages_db(world: World) -> Iterator[Database]:
    """The pages read and write the test's ``world``."""
    with pages_pointed_at(world.db) as db:
        yield db


# ------------------------------------------------------------------ running
def app(person_id: int | None = None) -> AppTest:
    """A fresh browser session on the dashboard, signed in as ``person_id``."""
    at = AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT)
    if person_id is not None:
        at.session_state[common.PERSON_KEY] = person_id
    return at


def ok(at: AppTest) -> AppTest:
    """The last run raised nothing (no traceback element either)."""
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_page(person_id: int, page: str) -> AppTest:
    """Sign in as ``person_id`` and open ``page`` (a key of PAGE_FILES) through the router."""
    at = ok(app(person_id).run())
    return ok(at.switch_page(PAGE_FILES[page]).run())


def open_tab(at: AppTest, key: str, label: str) -> AppTest:
    """Switch the tabs ``key`` (``st.tabs(..., key=key, on_change="rerun")``) to ``label`` and rerun,
    as a click on the tab does (AppTest has no tab widget: the tabs' state is their key's value)."""
    at.session_state[key] = label
    return ok(at.run())


def page_directly(person_id: int, page: str) -> AppTest:
    """Run a page script on its own (as if its URL were reached directly,
    bypassing the router's navigation)."""
    at = AppTest.from_file(str(ROOT / PAGE_FILES[page]), default_timeout=TIMEOUT)
    at.session_state[common.PERSON_KEY] = person_id
    return at.run()


# ------------------------------------------------------------------ finding
def one(widgets: Any, *, label: str | None = None, form: str | None = None, key: str | None = None) -> Any:
    """The single widget in ``widgets`` with this label / form / key."""
    found = [w for w in widgets
             if (label is None or w.label == label) and (form is None or w.form_id == form)
             and (key is None or w.key == key)]
    assert len(found) == 1, f"expected one widget label={label!r} form={form!r} key={key!r}, " \
                            f"found {[(w.label, getattr(w, 'form_id', None), w.key) for w in widgets]}"
    return found[0]


def submit(at: AppTest, form: str, button_label: str) -> AppTest:
    """Press a form's submit button and rerun."""
    return ok(at.button(key=f"FormSubmitter:{form}-{button_label}").click().run())


def click(at: AppTest, key: str) -> AppTest:
    return ok(at.button(key=key).click().run())


def confirm(at: AppTest, key: str) -> AppTest:
    """Press the confirming button of the pending ``common.confirmation`` dialog ``key``."""
    keys = [b.key for b in at.button]
    assert f"confirm-{key}" in keys, f"no confirmation dialog {key!r} is open; buttons: {keys}"
    return click(at, f"confirm-{key}")


def choose(at: AppTest, key: str, record_id: int) -> AppTest:
    """Pick a record (by id) in a ``common.choose`` selectbox and rerun."""
    box = at.selectbox(key=key)
    assert offers(box, record_id), (record_id, box.options)
    return ok(box.set_value(record_id).run())


def offers(box: Any, value: Any) -> bool:
    """Whether a selectbox has ``value`` (a raw value, not its label) among its options."""
    return str(box.format_func(value)) in box.options


def values(elements: Any) -> list[str]:
    return [str(e.value) for e in elements]


def shown_text(at: AppTest) -> str:
    """Everything written on the page as text (for 'the page says …' checks)."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "success", "info", "warning",
                 "error"):
        parts.extend(values(getattr(at, kind)))
    return "\n".join(parts)


def unescaped(text: str) -> str:
    """Markdown text with ``common.esc``'s backslash escapes removed."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def errors(at: AppTest) -> list[str]:
    return values(at.error)


def successes(at: AppTest) -> list[str]:
    return values(at.success)


def frames(at: AppTest) -> list[Any]:
    return [d.value for d in at.dataframe]
