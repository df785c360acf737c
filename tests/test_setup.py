"""A real organisation from an empty database (issue 13, items 1 and 2).

``python -m governance init`` on an empty, migrated database: the organisation,
charter v1 and the first administrator with a one-time password that works
once and must be replaced; refused on a database that already has an
organisation. With DATABASE_URL set the demo is never built, and the dashboard
says how to set the database up; without it, the demo (with its banner).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from governance import __main__ as cli, services as sv
from governance.errors import InvalidInput, SignInFailed
from governance.identity.passwords import DEMO_PASSWORD
from governance.storage.db import Database
from governance.storage.models import Charter, Organisation, Person
from pages import common
from tests.apptest_support import DASHBOARD, TIMEOUT, app, ok, pages_pointed_at, shown_text

EMAIL = "it.lead@health.example"


def init(url: str, *extra: str) -> list[str]:
    return ["init", "--database-url", url, "--organisation", "Ministry of Health", "--admin-email",
            " IT.Lead@Health.example ", *extra]


def one_time_password(out: str) -> str:
    found = re.search(r"one-time password: (\S+)", out)
    assert found, out
    return found.group(1)


def test_init_then_the_one_time_password_once_then_a_password_of_ones_own(db_url: str, capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli.main(init(db_url, "--country", "jm")) == 0
    out = capsys.readouterr().out
    assert "Set up 'Ministry of Health'" in out and "public holidays of JM" in out
    otp = one_time_password(out)
    db = Database(db_url)
    try:
        with db.uow().reading() as s:
            assert s.get(Organisation, 1).name == "Ministry of Health"
            assert s.scalars(select(Charter.country)).one() == "JM"
            admin = s.scalars(select(Person)).one()
            assert admin.email == EMAIL and admin.password_temporary and otp not in admin.password_hash
            admin_id = admin.id
        opened = sv.sign_in(db.uow(), EMAIL, otp)
        assert opened.must_change_password
        with pytest.raises(SignInFailed):  # it worked once
            sv.sign_in(db.uow(), EMAIL, otp)
        with pytest.raises(InvalidInput, match="demo organisation's published password"):
            sv.change_own_password(db.uow(), opened.person_id, opened.session_id, current_password=None,
                                   new_password=DEMO_PASSWORD)
        sv.change_own_password(db.uow(), opened.person_id, opened.session_id, current_password=None,
                               new_password="ministry lead passphrase")
        assert sv.sign_in(db.uow(), EMAIL, "ministry lead passphrase").person_id == admin_id
        with pytest.raises(SignInFailed):  # the demo's password opens nothing in a real organisation
            sv.sign_in(db.uow(), EMAIL, DEMO_PASSWORD)
        with pytest.raises(SignInFailed):
            sv.sign_in(db.uow(), "grace.mensah@demo.example", DEMO_PASSWORD)
        # Set up once only.
        assert cli.main(init(db_url)) == 1
        assert "already holds an organisation ('Ministry of Health')" in capsys.readouterr().err
        with db.uow().reading() as s:
            assert s.scalar(select(func.count()).select_from(Person)) == 1
    finally:
        db.dispose()


def test_init_refuses_without_a_real_database_or_a_migrated_one(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert cli.main(["init", "--organisation", "X", "--admin-email", EMAIL]) == 2
    assert "DATABASE_URL is not set" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="python -m governance.migrate"):
        cli.main(init(f"sqlite:///{tmp_path / 'fresh.db'}"))
    assert cli.main(init(f"sqlite:///{tmp_path / 'fresh.db'}", "--country", "XX")) == 2
    assert "is not a two-letter country code" in capsys.readouterr().err


def test_with_oidc_configured_init_makes_no_password(db_url: str, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(cli, "_oidc_configured", lambda *a: True)
    assert cli.main(init(db_url)) == 0
    out = capsys.readouterr().out
    assert "sign in with your organisation account" in out and "one-time password" not in out
    db = Database(db_url)
    try:
        with db.uow().reading() as s:
            assert s.scalars(select(Person.password_hash)).one() is None
        assert sv.sign_in_by_email(db.uow(), EMAIL, provider="oidc", email_verified=True)
    finally:
        db.dispose()


def test_reset_password_gives_a_new_one_time_password(db_url: str, capsys) -> None:  # type: ignore[no-untyped-def]
    cli.main(init(db_url))
    first = one_time_password(capsys.readouterr().out)
    assert cli.main(["reset-password", "--database-url", db_url, EMAIL]) == 0
    second = re.search(r": (\S+)\n", capsys.readouterr().out).group(1)
    db = Database(db_url)
    try:
        with pytest.raises(SignInFailed):
            sv.sign_in(db.uow(), EMAIL, first)
        assert sv.sign_in(db.uow(), EMAIL, second).must_change_password
    finally:
        db.dispose()


# ---------------------------------------------------------- demo versus real
def test_the_demo_is_built_only_without_database_url(monkeypatch, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    built: list[str] = []
    monkeypatch.setattr("governance.demo.ensure_demo", lambda db: built.append(db.url))
    monkeypatch.setenv("DATABASE_URL", db_url)
    st.cache_resource.clear()
    try:
        db = common._default_database()
        assert db.url == db_url and built == []
        db.dispose()
        st.cache_resource.clear()
        monkeypatch.delenv("DATABASE_URL")
        demo_file = tmp_path / "demo.db"
        monkeypatch.setattr("governance.storage.db.DEFAULT_SQLITE_PATH", demo_file)
        db = common._default_database()
        assert built == [f"sqlite:///{demo_file}"]  # the embedded file, migrated, gets the demo
        db.dispose()
    finally:
        st.cache_resource.clear()


def dashboard_over(monkeypatch, url: str) -> AppTest:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", url)
    st.cache_resource.clear()
    common.use_database(None)
    return AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT)


def test_a_real_database_not_yet_set_up_shows_how_to_set_it_up(monkeypatch, db_url: str, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                              capsys) -> None:
    try:
        at = ok(dashboard_over(monkeypatch, f"sqlite:///{tmp_path / 'blank.db'}").run())
        assert [t.value for t in at.title] == ["Pilot Evaluation Governance — set-up"]
        assert "python -m governance.migrate" in at.code[0].value and "python -m governance init" in at.code[0].value
        at = ok(dashboard_over(monkeypatch, db_url).run())
        assert "python -m governance.migrate" not in at.code[0].value
        assert "never built into a real deployment" in shown_text(at)
        assert not at.text_input  # no sign-in form, no demo people, nothing to act on
        db = Database(db_url)
        with db.uow().reading() as s:
            assert s.scalar(select(func.count()).select_from(Person)) == 0
        db.dispose()
        cli.main(init(db_url))
        capsys.readouterr()
        at = ok(dashboard_over(monkeypatch, db_url).run())
        assert [t.value for t in at.title] == ["Pilot Evaluation Governance"]
        assert {w.label for w in at.text_input} == {"Email", "Password"}
        assert "Demo organisation" not in shown_text(at)
    finally:
        st.cache_resource.clear()


def test_the_demo_shows_its_banner_on_every_page(database_factory: Any) -> None:
    url = database_factory.url()
    from governance import demo

    demo.build_demo(url)
    db = Database(url)
    try:
        with pages_pointed_at(db):
            people = demo.demo_people(db.uow())
            signed_out = ok(app().run())
            assert any("Demo organisation" in w.value for w in signed_out.warning)
            assert DEMO_PASSWORD in shown_text(signed_out)
            for role, pages in (("admin", ("pages/admin.py", "pages/home.py")),
                                ("frontline", ("pages/votes.py", "pages/evaluate.py"))):
                person = next(p for p in people if role in p["roles"])
                at = ok(app(person["person_id"]).run())
                for page in pages:
                    at = ok(at.switch_page(page).run())
                    assert any("Demo organisation" in w.value for w in at.warning), page
    finally:
        db.dispose()
        database_factory.drop(url)
