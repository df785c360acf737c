"""The light path: ``/lite/`` — the same acts as the dashboard in a few kilobytes.

Served by the dashboard's own server (``st.App(..., routes=...)`` in
``dashboard.py``), so same process, same port, same database. Each page is
plain HTML rendered here; each act is a POST form answered by a redirect
(``303``) to a page that shows the result, so a reload never repeats it.

* Sign-in uses ``services.sign_in`` (same accounts, same delays, same one
  message for every refusal) and then the session machinery of the dashboard:
  the ticket is redeemed at once and the same signed ``pilot_session`` cookie
  is set, so a person signed in here is signed in on the dashboard too.
* Every form carries a CSRF token (``governance.identity.csrf``); a post
  without the right one is refused before anything is read or written.
* Every act is a ``governance.services`` call and every page reads
  ``governance.queries`` read models: no rule is written here. A refusal shows
  the service's own message; an unexpected error shows a plain page (logged,
  never a traceback).
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from governance import services as sv
from governance.errors import GovernanceError, InvalidInput
from governance.identity import csrf, sessions
from governance.lite import html as h
from governance.queries import evaluate as evaluate_q
from governance.queries import home as home_q
from governance.queries import links as links_q
from governance.queries import people as people_q
from governance.queries import votes as votes_q
from governance.queries.people import Me
from governance.rules.evidence import SUS_ITEMS
from governance.rules.permissions import Action, allowed
from governance.services.reminders import set_my_reminders
from governance.services.signin import ActiveSession, SignedIn, current_session
from governance.storage.db import Database
from governance.vocabulary import FeedbackKind, SurveyAnswer, VoteStatus, label

log = logging.getLogger(__name__)

PREFIX = "/lite"
#: A light form is a few hundred bytes; anything far larger is not one of ours.
MAX_BODY = 64 * 1024
SUS_SCALE = (("1", "1 Strongly disagree"), ("2", "2 Disagree"), ("3", "3 Neither"), ("4", "4 Agree"),
             ("5", "5 Strongly agree"))
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


class Lite:
    """The light path's routes over one database (``database`` is called once per request)."""

    def __init__(self, database: Callable[[], Database]) -> None:
        self.database = database

    def routes(self) -> list[BaseRoute]:
        """The routes to mount beside Streamlit's."""
        def route(path: str, handler: Handler, methods: list[str]) -> Route:
            return Route(PREFIX + path, self._endpoint(handler), methods=methods)

        return [
            Route(PREFIX, lambda _request: RedirectResponse(PREFIX + "/", status_code=308), methods=["GET"]),
            route("/", home, ["GET"]),
            route("/sign-in", sign_in, ["POST"]),
            route("/sign-out", sign_out, ["POST"]),
            route("/password", password, ["GET", "POST"]),
            route("/survey/{round_id:int}", survey, ["GET", "POST"]),
            route("/vote/{vote_id:int}", vote, ["GET", "POST"]),
            route("/feedback", feedback, ["GET", "POST"]),
            route("/link/{token}", personal_link, ["GET", "POST"]),
            route("/reminders", reminders, ["POST"]),
        ]

    def _endpoint(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            form: dict[str, str] = {}
            if request.method == "POST":
                body = b""
                async for chunk in request.stream():
                    body += chunk
                    if len(body) > MAX_BODY:
                        return _respond(None, h.page("Too much", h.alert(
                            "That form was far larger than any light form; nothing was saved.")), 413)
                parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=50)
                form = {name: values[-1] for name, values in parsed.items()}
            # Database work is blocking: off the event loop, like Starlette's own sync endpoints.
            return await run_in_threadpool(self._run, handler, request, form)

        return endpoint

    def _run(self, handler: Handler, request: Request, form: dict[str, str]) -> Response:
        ctx: Ctx | None = None
        try:
            db = self.database()
            secret = csrf.valid_secret(request.cookies.get(csrf.COOKIE_NAME))
            ctx = Ctx(request=request, db=db, key=sessions.load_key(db.url), form=form,
                      browser_secret=secret or csrf.new_browser_secret(), new_secret=secret is None)
            ctx.session = _session(ctx)
            if ctx.session is not None and not ctx.session.must_change_password:
                ctx.person = people_q.whoami(db.uow(), ctx.session.person_id)
            if request.method == "POST" and not ctx.csrf_ok(_scope_for(ctx, handler)):
                return _respond(ctx, h.page("Form refused", h.alert(CSRF_REFUSED) + _home_link()), 403)
            return handler(ctx)
        except GovernanceError as exc:
            # A refusal no form anticipated (a read model's, say): its own words, on a plain page.
            if ctx is None:
                return _respond(None, h.page("Not possible", h.alert(str(exc))), 400)
            return _page(ctx, "Not possible", h.alert(str(exc)) + _home_link(), 400)
        except Exception:  # noqa: BLE001 - never a traceback in the browser
            log.exception("light path %s %s failed", request.method, request.url.path)
            return _respond(ctx, h.page("Something went wrong", h.alert(
                "Something went wrong on the server. If you were sending a form, it was not saved: "
                "open the page again and retry, or tell your facilitator if it keeps happening.")
                + _home_link()), 500)


def _scope_for(ctx: Ctx, handler: Handler) -> str:
    # Signing in and a personal link are the forms posted without a session (login CSRF is still
    # refused); a link's forms are bound to that link.
    if handler is personal_link:
        return "link:" + sessions.digest(str(ctx.request.path_params.get("token", "")).encode("ascii", "replace")
                                         .decode("ascii"))
    return "sign-in" if handler is sign_in else ctx.scope


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


# ------------------------------------------------------------------ sign in and out
def _sign_in_page(ctx: Ctx, message: str | None = None, email: str = "", status: int = 200) -> Response:
    body = (h.alert(message) if message else "") + h.form(
        PREFIX + "/sign-in", ctx.token("sign-in"),
        h.field("email", "Email", "email", value=email, autocomplete="username")
        + h.field("password", "Password", "password", autocomplete="current-password"),
        "Sign in")
    body += ('<p class="muted">The light version: answer surveys, vote and raise feedback on a slow '
             "connection. It needs no JavaScript.</p>")
    return _respond(ctx, h.page("Sign in", body), status)


def home(ctx: Ctx) -> Response:
    """What needs the signed-in person now, or the sign-in form."""
    if ctx.session is not None and ctx.session.must_change_password:
        return _respond(ctx, redirect=PREFIX + "/password")
    if ctx.person is None:
        return _sign_in_page(ctx)
    return _agenda(ctx)


def sign_in(ctx: Ctx) -> Response:
    """``services.sign_in`` (same delays, same one message); on success the dashboard's own cookie."""
    email = ctx.get("email")
    client = ctx.request.client
    try:
        opened = sv.sign_in(ctx.db.uow(), email, ctx.get("password"), address=client.host if client else None)
    except GovernanceError as exc:
        return _sign_in_page(ctx, str(exc), email, 401)
    if not _open_cookie(ctx, opened):
        return _sign_in_page(ctx, "Your sign-in could not be completed; sign in again.", email, 401)
    return _respond(ctx, redirect=PREFIX + ("/password" if opened.must_change_password else "/"))


def sign_out(ctx: Ctx) -> Response:
    """End this session everywhere (``services.sign_out``) and clear the cookie."""
    if ctx.session is not None:
        sv.sign_out(ctx.db.uow(), ctx.session.session_id)
    ctx.cookies_to_clear.append(sessions.COOKIE_NAME)
    return _respond(ctx, redirect=PREFIX + "/")


def password(ctx: Ctx) -> Response:
    """A temporary password opened this session: choose one's own (``services.change_own_password``)."""
    session = ctx.session
    if session is None:
        return _respond(ctx, redirect=PREFIX + "/")
    if not session.must_change_password:
        return _respond(ctx, redirect=PREFIX + "/")
    message = ""
    if ctx.request.method == "POST":
        if ctx.get("new") != ctx.get("again"):
            message = "The two new passwords differ; type the same one twice."
        else:
            try:
                opened = sv.change_own_password(ctx.db.uow(), session.person_id, session.session_id,
                                                current_password=None, new_password=ctx.get("new"))
            except GovernanceError as exc:
                message = str(exc)
            else:
                _open_cookie(ctx, opened)
                return _respond(ctx, redirect=PREFIX + "/?done=password")
    body = (h.alert(message) if message else "") + (
        "<p>You signed in with a temporary password. It is now spent: choose your own to continue.</p>"
    ) + h.form(PREFIX + "/password", ctx.token(),
               h.field("new", "New password", "password", autocomplete="new-password")
               + h.field("again", "New password again", "password", autocomplete="new-password"),
               "Save my password")
    return _respond(ctx, h.page("Choose your password", body), 400 if message else 200)


# ------------------------------------------------------------------ what needs me
@_signed_in
def _agenda(ctx: Ctx, me: Me) -> Response:
    uow = ctx.db.uow()
    done = DONE.get(ctx.request.query_params.get("done", ""))
    agenda = home_q.my_agenda(uow, me.id)
    surveys = evaluate_q.my_surveys(uow, me.id)
    mine = evaluate_q.my_feedback(uow, me.id)
    body = h.status(done) if done else ""
    body += "<h2>Surveys for you</h2>"
    if surveys:
        body += "<ul>" + "".join(
            f'<li><a href="{PREFIX}/survey/{s.round_id}">{h.esc(s.title)} — round {s.number}</a>'
            + (f"<br>Your answer: {h.esc(label(s.answer))} ({h.when(s.submitted_at)}); you can change it."
               if s.answer else "<br><strong>Not answered yet.</strong>") + "</li>" for s in surveys) + "</ul>"
    else:
        body += "<p>No survey is open for a pilot you use.</p>"
    body += "<h2>Votes for you</h2>"
    if agenda.votes:
        body += "<ul>" + "".join(
            f'<li><a href="{PREFIX}/vote/{v.id}">{h.esc(v.question)}</a><br>Closes {h.when(v.deadline)}. '
            + ("You have voted; you can change your ballot." if v.voted else "<strong>Not voted yet.</strong>")
            + "</li>" for v in agenda.votes) + "</ul>"
    else:
        body += "<p>No open vote you can vote in.</p>"
    body += "<h2>Your feedback</h2>"
    if allowed(me.roles, Action.RAISE_FEEDBACK) and evaluate_q.my_rostered_pilots(uow, me.id):
        body += f'<p><a href="{PREFIX}/feedback">Raise feedback about a pilot</a></p>'
    if mine:
        body += "<ul>" + "".join(_feedback_item(f) for f in mine) + "</ul>"
    else:
        body += "<p>You have not raised any feedback.</p>"
    if agenda.feedback:
        body += ("<h2>Feedback awaiting your team's response</h2><ul>" + "".join(
            f"<li>{h.esc(f.pilot)}: {h.esc(f.body)}<br>"
            + ("<strong>Overdue</strong> — was due " if f.overdue else "Due ") + f"{h.when(f.due_on)}.</li>"
            for f in agenda.feedback) + '</ul><p class="muted">Respond in the full dashboard (Evaluate).</p>')
    off = people_q.reminders_off(uow, me.id)
    body += "<h2>Email reminders</h2>" + h.form(
        PREFIX + "/reminders", ctx.token(), h.hidden("off", "0" if off else "1")
        + f"<p>Reminders are {'off' if off else 'on'}.</p>", "Turn them on" if off else "Turn them off")
    return _page(ctx, "What needs you", body)


@_signed_in
def reminders(ctx: Ctx, me: Me) -> Response:
    """Turn one's own reminders off or on (``services.reminders.set_my_reminders``)."""
    off = ctx.get("off") == "1"
    set_my_reminders(ctx.db.uow(), me.id, off=off)
    return _respond(ctx, redirect=PREFIX + "/?done=" + ("reminders-off" if off else "reminders-on"))


def _feedback_item(f: evaluate_q.FeedbackRow) -> str:
    if f.response:
        state = (f"<br>Response ({h.when(f.responded_at)}{', late' if f.answered_late else ''}): "
                 f"{h.esc(f.response)}")
    elif f.overdue:
        state = f"<br><strong>No response yet; it was due {h.when(f.due_on)}.</strong>"
    else:
        state = f"<br>Awaiting the owner's response, due {h.when(f.due_on)}."
    return (f"<li>{h.esc(f.pilot)} · {h.esc(label(f.kind))} · {h.when(f.raised_at)}<br>"
            f"{h.esc(f.body)}{state}</li>")


# ------------------------------------------------------------------ the acts
def survey_form(ctx: Ctx, current: evaluate_q.MySurvey, action: str, token: str,
                values: Mapping[str, str]) -> str:
    """The indispensability question, the ten SUS items as 1–5 choices with their labels, two texts."""
    answer = values.get("answer") or current.answer
    inner = h.radios("answer", f"How would you feel if you could no longer use {current.title}?",
                     [(a.value, label(a.value)) for a in SurveyAnswer], answer)
    inner += ("<h2>Usability (optional)</h2><p>Answer all ten or none. "
              "1 = strongly disagree, 5 = strongly agree.</p>")
    for i, item in enumerate(SUS_ITEMS, start=1):
        inner += h.radios(f"sus_{i}", f"{i}. {item}", [("", "No answer"), *SUS_SCALE],
                          values.get(f"sus_{i}", ""), css="scale")
    inner += h.textarea("use_instead", "What would you use instead?", values.get("use_instead", ""))
    inner += h.textarea("main_benefit", "What is the main benefit for you?", values.get("main_benefit", ""))
    return h.form(action, token, inner, "Submit my answer")


def sus_answers(form: Mapping[str, str]) -> list[int | str | None] | None:
    """The ten SUS answers as typed (None: not answered); None when none was answered.
    Anything other than 1–5 is passed on as typed, for the service to refuse with its message
    (the range is the service's rule, not this page's)."""
    given = [form.get(f"sus_{i}", "").strip() for i in range(1, 11)]
    if not any(given):
        return None
    return [int(v) if v.isdigit() else (v or None) for v in given]


@_signed_in
def survey(ctx: Ctx, me: Me) -> Response:
    """Answer (or revise) a survey round: ``services.submit_survey_response``."""
    round_id = int(ctx.request.path_params["round_id"])
    uow = ctx.db.uow()
    message = ""
    if ctx.request.method == "POST":
        try:
            sus = cast(Sequence[int] | None, sus_answers(ctx.form))
            sv.submit_survey_response(uow, me.id, round_id, answer=ctx.get("answer"), sus=sus,
                                      use_instead=ctx.get("use_instead"), main_benefit=ctx.get("main_benefit"))
        except GovernanceError as exc:
            message = str(exc)
        else:
            return _respond(ctx, redirect=PREFIX + "/?done=survey")
    current = next((r for r in evaluate_q.my_surveys(uow, me.id) if r.round_id == round_id), None)
    if current is None:
        return _page(ctx, "Survey", (h.alert(message) if message else "") + (
            "<p>This survey round is not open to you: it may have closed, or you are not on the "
            "pilot's roster.</p>") + _home_link(), 400 if message else 404)
    body = h.alert(message) if message else ""
    if current.answer:
        body += (f"<p>Your current answer: {h.esc(label(current.answer))} (given {h.when(current.submitted_at)}). "
                 "Answering again replaces it until the round closes; both are kept.</p>")
    body += survey_form(ctx, current, f"{PREFIX}/survey/{round_id}", ctx.token(),
                        ctx.form if message else {})
    return _page(ctx, f"Survey: {current.title}, round {current.number}", body, 400 if message else 200)


def ballot_section(v: votes_q.VoteDetail, action: str, token: str, done: bool, *, by_link: bool = False) -> str:
    """A vote's deadline, whether my ballot is secret, my receipt, and the ballot form.

    ``by_link``: reached through a personal link, which shows neither a ballot already cast nor
    its receipt (a link can be forwarded; a signed-in page cannot)."""
    body = f"<p>{h.esc(label(v.kind))} · closes {h.when(v.deadline)} · {v.cast} of {v.eligible_total} have voted.</p>"
    if done:
        body = h.status(DONE["ballot"]) + body
    if v.status != VoteStatus.OPEN:
        return body + f"<p>This vote closed {h.when(v.closed_at)}. See the result in the full dashboard.</p>"
    if by_link and v.current_ballot is not None:
        return body + "<p>You have already voted in this vote. To change your ballot, sign in on /lite/.</p>"
    if v.my_receipt:
        body += (f'<p class="ok">Your receipt: <strong>{h.esc(v.my_receipt)}</strong>. Keep it: after the '
                 "close, find it in the published list with your option. A changed ballot gets a new receipt; "
                 "the old one is not counted.</p>")
    if v.current_ballot:
        body += f"<p>Your ballot now: <strong>{h.esc(label(v.current_ballot))}</strong>.</p>"
    if not v.may_cast:
        return body + "<p>You are not among this vote's eligible voters (they were fixed when it opened).</p>"
    body += f"<p>{h.esc(v.ballot_privacy)}</p>"
    inner = h.radios("option", "Your ballot", [(o, label(o)) for o in v.options], v.current_ballot)
    inner += "<p>Your ballot is binding. You can change it until the vote closes; only the latest counts.</p>"
    return body + h.form(action, token, inner, "Cast my ballot" if v.current_ballot is None else "Change my ballot")


@_signed_in
def vote(ctx: Ctx, me: Me) -> Response:
    """A vote's deadline and my ballot; cast or change it: ``services.cast_ballot``."""
    vote_id = int(ctx.request.path_params["vote_id"])
    uow = ctx.db.uow()
    message = ""
    if ctx.request.method == "POST":
        try:
            sv.cast_ballot(uow, me.id, vote_id, ctx.get("option"))
        except GovernanceError as exc:
            message = str(exc)
        else:
            return _respond(ctx, redirect=f"{PREFIX}/vote/{vote_id}?done=ballot")
    try:
        v = votes_q.vote_detail(uow, me.id, vote_id)
    except GovernanceError as exc:
        return _page(ctx, "Vote", h.alert(message or str(exc)) + _home_link(), 404)
    body = (h.alert(message) if message else "") + ballot_section(
        v, f"{PREFIX}/vote/{vote_id}", ctx.token(), ctx.request.query_params.get("done") == "ballot")
    return _page(ctx, v.question, body + _home_link(), 400 if message else 200)


@_signed_in
def feedback(ctx: Ctx, me: Me) -> Response:
    """Raise feedback on a pilot I am rostered on or whose panel I sit on: ``services.raise_feedback``."""
    uow = ctx.db.uow()
    message = ""
    if ctx.request.method == "POST":
        raw = ctx.get("pilot_id")
        try:
            if not raw.isdigit():
                raise InvalidInput("Choose the pilot your feedback is about.", field="Pilot")
            sv.raise_feedback(uow, me.id, int(raw), kind=ctx.get("kind"), body=ctx.get("body"))
        except GovernanceError as exc:
            message = str(exc)
        else:
            return _respond(ctx, redirect=PREFIX + "/?done=feedback")
    pilots = evaluate_q.my_rostered_pilots(uow, me.id)
    if not pilots:
        return _page(ctx, "Raise feedback", (h.alert(message) if message else "")
                     + "<p>Feedback comes from a pilot's rostered users and its panel; you are on none.</p>"
                     + _home_link(), 400 if message else 200)
    inner = (h.select("pilot_id", "Pilot", [(str(p.id), p.title) for p in pilots], ctx.get("pilot_id"))
             + h.select("kind", "What kind", [(k.value, label(k.value)) for k in FeedbackKind], ctx.get("kind"))
             + h.textarea("body", "What happened", ctx.get("body") if message else "", rows=5))
    body = (h.alert(message) if message else "") + h.form(PREFIX + "/feedback", ctx.token(), inner,
                                                          "Send to the pilot's owner")
    return _page(ctx, "Raise feedback", body + _home_link(), 400 if message else 200)


# ------------------------------------------------------------------ personal links
def personal_link(ctx: Ctx) -> Response:
    """A personal one-time link: the act's form for the link's person, no password asked.

    A successful act is answered with its result page directly rather than a redirect: the
    link is spent, so there is nothing to reload, and a secret ballot's receipt is shown
    once, to the person who cast it, and is never reachable again by the link."""
    token = str(ctx.request.path_params["token"])
    uow = ctx.db.uow()
    landing = links_q.personal_link(uow, token)
    if landing.refusal is not None or landing.person_id is None:
        return _respond(ctx, h.page("Personal link", h.alert(landing.refusal or links_q.UNKNOWN)
                                    + _home_link()), 410 if landing.person_id else 404)
    if ctx.person is not None and ctx.person.id != landing.person_id:
        # A shared phone: whoever is signed in must not act, unawares, as the link's person (or the reverse).
        return _page(ctx, "Personal link", h.alert(
            f"This link is for {landing.person_name}, but this browser is signed in as {ctx.person.name}. "
            "Sign out first, or use your own link.") + _home_link(), 403)
    scope = _scope_for(ctx, personal_link)
    action = f"{PREFIX}/link/{token}"
    message = ""
    intro = (f"<p>This link is for <strong>{h.esc(landing.person_name)}</strong> and works once. "
             "If you are someone else, do not use it.</p>")
    if landing.round_id is not None:
        if ctx.request.method == "POST":
            try:
                sus = cast(Sequence[int] | None, sus_answers(ctx.form))
                sv.answer_by_link(uow, token, answer=ctx.get("answer"), sus=sus,
                                  use_instead=ctx.get("use_instead"), main_benefit=ctx.get("main_benefit"))
            except GovernanceError as exc:
                message = str(exc)
            else:
                return _respond(ctx, h.page("Thank you", h.status(DONE["survey"].split(" You can")[0])
                                            + "<p>This link is now spent. To change your answer later, sign in."
                                            + "</p>" + _home_link()))
        current = next((r for r in evaluate_q.my_surveys(uow, landing.person_id)
                        if r.round_id == landing.round_id), None)
        if current is None:
            return _respond(ctx, h.page("Personal link", (h.alert(message) if message else "")
                                        + "<p>This survey round is not open to you.</p>"), 400 if message else 404)
        body = (h.alert(message) if message else "") + intro + survey_form(
            ctx, current, action, ctx.token(scope), ctx.form if message else {})
        return _respond(ctx, h.page(f"Survey: {current.title}, round {current.number}", body),
                        400 if message else 200)
    assert landing.vote_id is not None
    receipt = ""
    if ctx.request.method == "POST":
        try:
            cast_ = sv.vote_by_link(uow, token, ctx.get("option"))
        except GovernanceError as exc:
            message = str(exc)
        else:
            if cast_.receipt:
                receipt = (f'<p class="ok">Your receipt: <strong>{h.esc(cast_.receipt)}</strong>. Keep it: after '
                           "the close, find it in the published list with your option. It is shown only now.</p>")
            return _respond(ctx, h.page("Ballot recorded", h.status(DONE["ballot"]) + receipt
                                        + "<p>This link is now spent.</p>" + _home_link()))
    detail = votes_q.vote_detail(uow, landing.person_id, landing.vote_id)
    body = (h.alert(message) if message else "") + intro + ballot_section(detail, action, ctx.token(scope), False,
                                                                   by_link=True)
    return _respond(ctx, h.page(detail.question, body), 400 if message else 200)


@functools.cache
def _default_database() -> Database:
    return Database()


def routes(database: Callable[[], Database] | None = None) -> list[Any]:
    """The light path's routes (``database``: default, the deployment's database)."""
    return Lite(database or _default_database).routes()
