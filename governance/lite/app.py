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
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from governance.errors import GovernanceError
from governance.identity import csrf, sessions
from governance.lite import html as h
from governance.lite.account import home, password, reminders, sign_in, sign_out
from governance.lite.acts import _scope_for, feedback, personal_link, survey, vote
from governance.lite.core import (
    CSRF_REFUSED,
    MAX_BODY,
    PREFIX,
    Ctx,
    Handler,
    _home_link,
    _page,
    _respond,
    _session,
)
from governance.queries import people as people_q, zone as zone_q
from governance.storage.db import Database

log = logging.getLogger(__name__)


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
            h.ZONE.set(zone_q.time_zone(db.uow()))
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


@functools.cache
def _default_database() -> Database:
    return Database()


def routes(database: Callable[[], Database] | None = None) -> list[Any]:
    """The light path's routes (``database``: default, the deployment's database)."""
    return Lite(database or _default_database).routes()
