"""The light path's sign-in, sign-out, password, home (what needs me) and reminder switch."""
from __future__ import annotations

from starlette.responses import Response

from governance import services as sv
from governance.errors import GovernanceError
from governance.identity import sessions
from governance.lite import html as h
from governance.lite.core import (
    DONE,
    PREFIX,
    Ctx,
    _open_cookie,
    _page,
    _respond,
    _signed_in,
)
from governance.queries import evaluate as evaluate_q, home as home_q, people as people_q
from governance.queries.people import Me
from governance.rules.permissions import Action, allowed
from governance.services.reminders import set_my_reminders
from governance.vocabulary import label


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
