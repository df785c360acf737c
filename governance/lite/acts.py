"""The light path's acts: the survey, a ballot, feedback, and a personal one-time link."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

from starlette.responses import Response

from governance import services as sv
from governance.errors import GovernanceError, InvalidInput
from governance.identity import sessions
from governance.lite import html as h
from governance.lite.account import sign_in
from governance.lite.core import (
    DONE,
    PREFIX,
    SUS_SCALE,
    Ctx,
    Handler,
    _home_link,
    _page,
    _respond,
    _signed_in,
)
from governance.queries import evaluate as evaluate_q, links as links_q, votes as votes_q
from governance.queries.people import Me
from governance.rules.ballots import REASON_MAX
from governance.rules.evidence import SUS_ITEMS
from governance.vocabulary import FeedbackKind, SurveyAnswer, VoteStatus, label


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


def ballot_section(v: votes_q.VoteDetail, action: str, token: str, done: bool, *, by_link: bool = False,
                   reason: str = "") -> str:
    """A vote's deadline, whether my ballot is secret, my receipt, and the ballot form.

    ``by_link``: reached through a personal link, which shows neither a ballot already cast nor
    its receipt (a link can be forwarded; a signed-in page cannot). ``reason``: the reason field's
    text (what was sent, after a refusal; else the current ballot's)."""
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
    if not v.my_ballot_is_secret:  # R17: a secret ballot carries no words of the voter's own
        inner += h.textarea("reason", f"Your reason (optional, up to {REASON_MAX} characters; shown beside "
                            "your ballot after the close)", reason, rows=2)
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
            sv.cast_ballot(uow, me.id, vote_id, ctx.get("option"), reason=ctx.form.get("reason") or None)
        except GovernanceError as exc:
            message = str(exc)
        else:
            return _respond(ctx, redirect=f"{PREFIX}/vote/{vote_id}?done=ballot")
    try:
        v = votes_q.vote_detail(uow, me.id, vote_id)
    except GovernanceError as exc:
        return _page(ctx, "Vote", h.alert(message or str(exc)) + _home_link(), 404)
    mine = next((b.reason for b in v.my_history if b.is_current), None) or ""
    body = (h.alert(message) if message else "") + ballot_section(
        v, f"{PREFIX}/vote/{vote_id}", ctx.token(), ctx.request.query_params.get("done") == "ballot",
        reason=ctx.get("reason") if message else mine)
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
            cast_ = sv.vote_by_link(uow, token, ctx.get("option"), ctx.form.get("reason") or None)
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
                                                                   by_link=True, reason=ctx.get("reason"))
    return _respond(ctx, h.page(detail.question, body), 400 if message else 200)


def _scope_for(ctx: Ctx, handler: Handler) -> str:
    # Signing in and a personal link are the forms posted without a session (login CSRF is still
    # refused); a link's forms are bound to that link.
    if handler is personal_link:
        return "link:" + sessions.digest(str(ctx.request.path_params.get("token", "")).encode("ascii", "replace")
                                         .decode("ascii"))
    return "sign-in" if handler is sign_in else ctx.scope
