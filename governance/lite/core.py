"""The light path's shared pieces: the request context, responses and cookies, the sign-in guard."""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from governance import services as sv
from governance.identity import csrf, sessions
from governance.lite import html as h
from governance.queries.people import Me
from governance.rules.evidence import SUS_SCALE as SUS_WORDS
from governance.services.signin import ActiveSession, SignedIn, current_session
from governance.storage.db import Database

log = logging.getLogger("governance.lite")

PREFIX = "/lite"
#: A light form is a few hundred bytes; anything far larger is not one of ours.
MAX_BODY = 64 * 1024
SUS_SCALE = tuple((str(n), f"{n} {words}") for n, words in SUS_WORDS.items())
#: Results shown after the redirect, by name (no text travels in the URL).
DONE = {"survey": "Thank you — your survey answer is recorded. You can change it until the round closes.",
        "ballot": "Your ballot is recorded. You can change it until the vote closes; only the latest counts.",
        "feedback": "Sent. The pilot's owner must respond by the due date shown below.",
        "password": "Your password is saved.",
        "reminders-off": "Reminders are off: you will get no more reminder emails.",
        "reminders-on": "Reminders are on again."}
CSRF_REFUSED = ("This form has expired or did not come from this site, so nothing was saved. "
                "Open the page again and send the form from there.")
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                                      "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"}


@dataclass
class Ctx:
    """One request as the handlers see it: who, their session, the form, and the CSRF secret."""

    request: Request
    db: Database
    key: bytes
    form: dict[str, str]
    browser_secret: str
    new_secret: bool
    session: ActiveSession | None = None
    person: Me | None = None
    cookies_to_set: list[tuple[str, str]] = field(default_factory=list)
    cookies_to_clear: list[str] = field(default_factory=list)

    @property
    def scope(self) -> str:
        """What a form on this page acts for: this session, or signing in."""
        return f"session:{self.session.session_id}" if self.session else "sign-in"

    def token(self, scope: str | None = None) -> str:
        return csrf.form_token(self.key, self.browser_secret, scope or self.scope)

    def csrf_ok(self, scope: str | None = None) -> bool:
        # A secret made for this very request was never sent with a form: it cannot match.
        return not self.new_secret and csrf.token_matches(self.key, self.browser_secret, scope or self.scope,
                                                          self.form.get(csrf.FIELD))

    def get(self, name: str) -> str:
        return self.form.get(name, "")


Handler = Callable[[Ctx], Response]


def _session(ctx: Ctx) -> ActiveSession | None:
    claim = sessions.read_cookie(ctx.key, ctx.request.cookies.get(sessions.COOKIE_NAME))
    if claim is None:
        return None
    return current_session(ctx.db.uow(), claim.session_id, claim.token)


def _secure(request: Request) -> bool:
    forwarded = str(request.headers.get("x-forwarded-proto", "")).split(",")[0].strip().lower()
    return bool(request.url.scheme == "https" or forwarded == "https")


def _respond(ctx: Ctx | None, body: str | None = None, status: int = 200, *, redirect: str | None = None) -> Response:
    response: Response = (RedirectResponse(redirect, status_code=303) if redirect is not None
                          else HTMLResponse(body or "", status_code=status))
    response.headers.update(HEADERS)
    if ctx is None:
        return response
    secure = _secure(ctx.request)
    if ctx.new_secret:
        response.set_cookie(csrf.COOKIE_NAME, ctx.browser_secret, path=PREFIX, httponly=True, samesite="lax",
                            secure=secure)
    for name, value in ctx.cookies_to_set:
        response.set_cookie(name, value, max_age=int(sessions.MAX_LIFETIME.total_seconds()), path="/",
                            httponly=True, samesite="strict", secure=secure)
    for name in ctx.cookies_to_clear:
        response.delete_cookie(name, path="/", httponly=True, samesite="strict", secure=secure)
    return response


def _page(ctx: Ctx, title: str, body: str, status: int = 200) -> Response:
    person = ctx.person
    return _respond(ctx, h.page(title, body, signed_in_as=person.name if person else None,
                                sign_out_token=ctx.token() if ctx.session else None), status)


def _home_link() -> str:
    return '<p><a href="/lite/">Back to what needs you</a></p>'


def _signed_in(handler: Callable[[Ctx, Me], Response]) -> Handler:
    """Pages for a signed-in person; anyone else is sent to sign in."""
    @functools.wraps(handler)
    def run(ctx: Ctx) -> Response:
        if ctx.session is not None and ctx.session.must_change_password:
            return _respond(ctx, redirect=PREFIX + "/password")
        if ctx.person is None:
            return _respond(ctx, redirect=PREFIX + "/")
        return handler(ctx, ctx.person)

    return run


def _open_cookie(ctx: Ctx, opened: SignedIn) -> bool:
    """Redeem a fresh session's ticket here and now, and set the dashboard's own cookie."""
    redeemed = sv.redeem_ticket(ctx.db.uow(), opened.ticket, None)
    if redeemed is None:
        return False
    session_id, token = redeemed
    ctx.cookies_to_set.append((sessions.COOKIE_NAME, sessions.cookie_value(ctx.key, session_id, token)))
    return True
