"""Sign-in through an organisation's identity provider (OpenID Connect, st.login).

AppTest cannot drive a real provider, so the provider's answer is seeded as
``st.user``; what is under test is the mapping from a proven email to a person,
which the product owns."""
from __future__ import annotations

from sqlalchemy import select

from governance.storage.models import AuditEvent
from tests.apptest_support import app, errors, pages_db
from tests.world import World

__all__ = ["pages_db"]  # the fixture, imported for pytest

AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
        "client_id": "governance", "client_secret": "secret",
        "server_metadata_url": "https://login.example.org/.well-known/openid-configuration"}


def oidc_app(user: dict) -> object:
    at = app()
    at.secrets["auth"] = AUTH
    at.user = user
    return at


def test_without_an_auth_section_only_the_password_form_is_offered(world: World, pages_db) -> None:
    at = app().run()
    labels = [b.label for b in at.button]
    assert "Sign in with your organisation account" not in labels
    assert "Sign in" in labels and [t.label for t in at.text_input] == ["Email", "Password"]


def test_an_unauthenticated_visitor_is_offered_the_organisation_sign_in(world: World, pages_db) -> None:
    at = oidc_app({"is_logged_in": False}).run()
    assert "Sign in with your organisation account" in [b.label for b in at.button]


def test_a_proven_email_of_a_person_signs_them_in_with_their_roles(world: World, pages_db) -> None:
    at = oidc_app({"is_logged_in": True, "email": "stella.steering@example.org", "email_verified": True}).run()
    assert not at.exception
    at.run()
    assert at.session_state["person_id"] == world.steering
    assert [t.value for t in at.title] == ["Home"]
    assert "Roles: Steering" in [m.value for m in at.sidebar.markdown]
    with world.db.uow().reading() as s:
        method = s.scalars(select(AuditEvent.payload).where(AuditEvent.action == "person.signed_in")
                           .order_by(AuditEvent.seq.desc())).first()
    assert '"method":"oidc:oidc"' in method


def test_an_unverified_email_signs_nobody_in(world: World, pages_db) -> None:
    """A provider that has not verified the address proves nothing: anyone may have typed it."""
    for claim in ({}, {"email_verified": False}, {"email_verified": "false"}, {"email_verified": None}):
        at = oidc_app({"is_logged_in": True, "email": "stella.steering@example.org", **claim}).run()
        assert not at.exception
        assert errors(at) == ["Your identity provider has not verified this email address, so it cannot sign "
                              "you in here. Verify the address with your provider (or ask your IT team), then "
                              "sign in again."]
        assert "person_id" not in at.session_state
    with world.db.uow().reading() as s:
        assert not s.scalars(select(AuditEvent).where(AuditEvent.action == "person.signed_in")).first()


def test_an_email_nobody_has_is_refused_with_what_to_do(world: World, pages_db) -> None:
    at = oidc_app({"is_logged_in": True, "email": "stranger@elsewhere.example", "email_verified": True}).run()
    assert not at.exception
    assert errors(at) == ["stranger@elsewhere.example is not a person in this organisation. Ask an "
                          "administrator to add you with this email."]
    assert "person_id" not in at.session_state
