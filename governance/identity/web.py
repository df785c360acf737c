"""The two HTTP routes that set and clear the session cookie (Starlette, served by
the same server as the dashboard through ``st.App`` in ``dashboard.py``).

A Streamlit script cannot set a cookie: it talks to the browser over a
WebSocket. So after a correct password the page sends the browser here:

* ``GET /session/start?ticket=…&next=/votes`` — redeems the one-time ticket
  (``services.signin.redeem_ticket``), sets ``pilot_session`` (HttpOnly,
  SameSite=Strict, Secure over HTTPS, Path=/), and redirects to ``next`` (a path
  on this site only).
* ``GET /session/end`` — clears the cookie and redirects home. (The session row
  was already ended by the page; this only tidies the browser.)

No Streamlit import here: the dashboard wires these routes in.
"""
from __future__ import annotations

import functools
import logging
from typing import Any

from governance.identity import sessions

log = logging.getLogger(__name__)

START_PATH = "/session/start"
#: Messages a page may ask to be shown once the cookie is set (by name: no text travels in the URL).
NOTICES = frozenset({"password"})
END_PATH = "/session/end"


@functools.cache
def _database() -> Any:
    from governance.storage.db import Database

    return Database()


def _secure(request: Any) -> bool:
    forwarded = str(request.headers.get("x-forwarded-proto", "")).split(",")[0].strip().lower()
    return bool(request.url.scheme == "https" or forwarded == "https")


def start(request: Any) -> Any:
    from starlette.responses import RedirectResponse

    from governance.services.signin import redeem_ticket

    target = sessions.safe_next(request.query_params.get("next", "/"))
    if request.query_params.get("notice") in NOTICES:
        target += "?notice=" + request.query_params["notice"]
    db = _database()
    try:
        redeemed = redeem_ticket(db.uow(), request.query_params.get("ticket"),
                                 sessions.browser_binding(request.cookies.get(sessions.BROWSER_COOKIE)))
    except Exception:  # noqa: BLE001 - never a traceback in the browser; the page asks again
        log.exception("redeeming a sign-in ticket failed")
        redeemed = None
    response = RedirectResponse(target if redeemed else "/", status_code=303)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    if redeemed:
        session_id, token = redeemed
        value = sessions.cookie_value(sessions.load_key(db.url), session_id, token)
        response.set_cookie(sessions.COOKIE_NAME, value, max_age=int(sessions.MAX_LIFETIME.total_seconds()),
                            path="/", httponly=True, samesite="strict", secure=_secure(request))
    return response


def end(request: Any) -> Any:
    from starlette.responses import RedirectResponse

    response = RedirectResponse("/", status_code=303)
    response.headers["Cache-Control"] = "no-store"
    response.delete_cookie(sessions.COOKIE_NAME, path="/", httponly=True, samesite="strict",
                           secure=_secure(request))
    return response


def routes() -> list[Any]:
    """The routes to mount beside Streamlit's (``st.App(..., routes=routes())``)."""
    from starlette.routing import Route

    return [Route(START_PATH, start, methods=["GET"]), Route(END_PATH, end, methods=["GET"])]
