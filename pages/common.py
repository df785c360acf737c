"""What every page shares: the database, who is signed in, cached reads,
acting through use cases, confirmations, and consistent presentation.

Pages never build SQL or hold sessions: they read through
``governance.queries`` (cached, keyed by the audit chain's head, so any
write anywhere — on any replica — invalidates them) and act through
``governance.services`` (every act re-checked there).
"""
from __future__ import annotations

import contextlib
import functools
import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st
from streamlit.errors import StreamlitAPIException

from governance.errors import GovernanceError
from governance.queries import audit as audit_queries, zone as zone_queries
from governance.queries.people import Me, whoami
from governance.rules.permissions import may_open
from governance.storage.db import Database, UnitOfWork, is_embedded_default
from governance.vocabulary import label

# What pages show (pages/present.py); pages reach it through common, as common.esc(…).
from pages.present import (
    NOTHING as NOTHING,
    PALETTE as PALETTE,
    ZONE_KEY,
    badge as badge,
    change_text as change_text,
    choose as choose,
    csv_download as csv_download,
    esc as esc,
    open_next as open_next,
    pager as pager,
    payload_summary as payload_summary,
    pct as pct,
    percent_column as percent_column,
    percent_columns as percent_columns,
    public_url as public_url,
    selectable as selectable,
    value_text as value_text,
    when as when,
    when_text as when_text,
    when_utc as when_utc,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

PERSON_KEY = "person_id"
SESSION_KEY = "sign_in_session"
WANTED_KEY = "_wanted_path"
REDIRECT_KEY = "_redirect"
FLASH_KEY = "_flash"
PENDING_KEY = "_pending_confirmation"


# ------------------------------------------------------------------ database
_database_override: Database | None = None


@st.cache_resource(show_spinner="Opening the organisation's record…")
def _default_database() -> Database:
    """One Database per process.

    No DATABASE_URL: the embedded demo file, migrated, with the demo organisation
    built on first run. DATABASE_URL set (a real organisation): opened as it is —
    never migrated from here and never given the demo; until it is migrated and
    initialised the router shows how to set it up (``setup_state``)."""
    db = Database()
    if is_embedded_default():
        db.upgrade()
        from governance.demo import ensure_demo

        ensure_demo(db)
    return db


def database() -> Database:
    return _database_override or _default_database()


def use_database(db: Database | None) -> None:
    """Point the pages at another database (tests; AppTest runs in-process)."""
    global _database_override
    _database_override = db
    st.cache_data.clear()


def uow() -> UnitOfWork:
    return database().uow()


def data_version() -> int:
    """The audit chain's head: it moves with every write, so it keys every cache."""
    return audit_queries.chain_head(uow())[0]


def cached(fn: Callable[..., T]) -> Callable[..., T]:
    """Cache a read model. Its key is the data version, the current minute and
    every argument — including the reader's id, which every read model takes —
    so nobody ever sees a result computed for someone else, or one older than
    the last write."""

    def run(version: int, minute: str, *args: Any, **kwargs: Any) -> T:
        return fn(uow(), *args, **kwargs)

    # Streamlit keys a cache by the function's module and qualified name: give
    # each read model its own, before decorating.
    run.__module__ = fn.__module__
    run.__qualname__ = run.__name__ = f"cached_{fn.__qualname__}"
    run = st.cache_data(show_spinner=False, ttl=900, max_entries=2000)(run)

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> T:
        # Some answers depend on the time too (overdue items, open windows,
        # deadlines): the current minute is part of the key.
        minute = database().clock.now().strftime("%Y-%m-%dT%H:%M")
        return run(data_version(), minute, *args, **kwargs)

    return call


def clear_caches() -> None:
    st.cache_data.clear()


# ------------------------------------------------------------------ identity
def _session_from_state() -> Any:
    from governance.services.signin import current_session

    session_id = st.session_state.get(SESSION_KEY)
    if session_id is None:
        return None
    found = current_session(uow(), session_id)
    if found is None:  # ended elsewhere (sign-out, password change, idle): ask again
        st.session_state.pop(SESSION_KEY, None)
        st.session_state.pop(PERSON_KEY, None)
    return found


def _session_from_cookie() -> Any:
    from governance.identity import sessions
    from governance.services.signin import current_session

    try:
        raw = st.context.cookies.get(sessions.COOKIE_NAME)
    except Exception:  # noqa: BLE001 - no browser context (tests, bare runs)
        raw = None
    if not raw:
        return None
    claim = sessions.read_cookie(sessions.load_key(database().url), raw)
    found = current_session(uow(), claim.session_id, claim.token) if claim is not None else None
    if found is not None:
        st.session_state[SESSION_KEY] = found.session_id
        st.session_state[PERSON_KEY] = found.person_id
    return found


def current_session() -> Any:
    """The signed-in session of this browser (this tab's, or its cookie's), or None."""
    if st.session_state.get(SESSION_KEY) is not None:
        return _session_from_state()
    return _session_from_cookie()


def identity_lookup() -> int | None:
    """Who is signed in: the person of this browser's live session (a password or
    OIDC sign-in in this tab, or the signed cookie of an earlier one).

    In-process callers that have no browser (AppTest) may put a person id in the
    session state directly; nothing a browser sends can. Tests replace this
    function too (AppTest cannot drive an OIDC login)."""
    found = current_session()
    if found is not None:
        return None if found.must_change_password else found.person_id
    person_id = st.session_state.get(PERSON_KEY)
    return person_id if isinstance(person_id, int) and not isinstance(person_id, bool) else None


def set_identity_lookup(fn: Callable[[], int | None]) -> None:
    global identity_lookup
    identity_lookup = fn


def me() -> Me | None:
    """The signed-in person as the database knows them *now* (roles read fresh)."""
    person_id = identity_lookup()
    return None if person_id is None else whoami(uow(), person_id)


def client_address() -> str | None:
    """The browser's address as the server sees it (None locally or when unknown)."""
    try:
        return st.context.ip_address
    except Exception:  # noqa: BLE001 - no browser context
        return None


def browser_binding() -> str | None:
    """This browser's binding for a sign-in ticket (its XSRF token's digest), or None."""
    from governance.identity.sessions import BROWSER_COOKIE, browser_binding as binding

    try:
        return binding(st.context.cookies.get(BROWSER_COOKIE))
    except Exception:  # noqa: BLE001 - no browser context
        return None


def wanted_path() -> str:
    """The page this browser first asked for (a bookmark such as /votes), to open after sign-in."""
    from governance.identity.sessions import safe_next

    if WANTED_KEY not in st.session_state:
        path = "/"
        try:
            url = st.context.url or ""
        except Exception:  # noqa: BLE001
            url = ""
        if "://" in url:
            path = "/" + url.split("://", 1)[1].partition("/")[2]
        st.session_state[WANTED_KEY] = safe_next(path)
    return str(st.session_state[WANTED_KEY])


def redirect(url: str) -> None:
    """Send the browser to ``url`` on this site (Streamlit's own mechanism for st.login)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None:
        return
    msg = ForwardMsg()
    msg.auth_redirect.url = url
    ctx.enqueue(msg)


NOTICES = {"password": "Password saved. Your other sessions were signed out."}


def show_notice() -> None:
    """A message the last page load carried over the cookie round trip (``?notice=…``)."""
    notice = st.query_params.get("notice")
    if notice is not None:
        del st.query_params["notice"]
        if notice in NOTICES:
            st.session_state[FLASH_KEY] = ("success", NOTICES[notice])


def begin_session(opened: Any, notice: str | None = None) -> None:
    """A sign-in succeeded: remember its session here, and send the browser to the
    route that sets its cookie and then opens the page first asked for."""
    from urllib.parse import urlencode

    from governance.identity.web import START_PATH

    st.session_state[SESSION_KEY] = opened.session_id
    st.session_state[PERSON_KEY] = opened.person_id
    clear_caches()
    # Sent on the next run: a message enqueued just before st.rerun() may never reach the browser.
    query = {"ticket": opened.ticket, "next": wanted_path(), **({"notice": notice} if notice in NOTICES else {})}
    st.session_state[REDIRECT_KEY] = f"{START_PATH}?{urlencode(query)}"


def send_pending_redirect() -> None:
    """Send the browser where the last run asked (the route that sets the session cookie)."""
    url = st.session_state.pop(REDIRECT_KEY, None)
    if url:
        redirect(url)


def sign_out() -> None:
    """End this browser's session everywhere (the cookie stops working), then tidy the browser."""
    from governance.identity.web import END_PATH
    from governance.services.signin import sign_out as end_session

    session_id = st.session_state.pop(SESSION_KEY, None)
    st.session_state.pop(PERSON_KEY, None)
    st.session_state.pop(WANTED_KEY, None)
    if session_id is not None:
        try:
            end_session(uow(), session_id)
        except GovernanceError:
            log.exception("ending session %s failed", session_id)
    clear_caches()
    if oidc_configured():
        try:
            if st.user.is_logged_in:
                st.logout()
                return
        except Exception:  # noqa: BLE001 - signing out locally is enough
            log.exception("OIDC logout failed")
    st.session_state[REDIRECT_KEY] = END_PATH


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all
        return False


# ---------------------------------------------------------------- page frame
def page(key: str, title: str, purpose: str) -> Me:
    """Title and one-line purpose; re-check that the signed-in person may open
    this page (the router hides it too); show any message left by the last act."""
    person = me()
    if person is None:
        # Reached without the router: the first request after a server start
        # can deep-link a page file directly (Streamlit's legacy pages/ mode).
        # Hand over to the router, which shows the sign-in screen — and opens this
        # page after sign-in.
        st.session_state.setdefault(WANTED_KEY, "/" + key if key != "home" else "/")
        with contextlib.suppress(StreamlitAPIException):  # already under the router: not registered
            st.switch_page("dashboard.py")
        st.error("You are signed out. Sign in again to continue.")
        st.stop()
    # Every time this page shows is in the organisation's zone (the charter's term).
    st.session_state[ZONE_KEY] = cached(zone_queries.time_zone)()
    set_tab_title(title)
    st.title(title)
    st.caption(purpose)
    if not may_open(person.roles, key):
        st.error(f"This page is not available with your roles ({roles_text(person)}). "
                 "Ask an administrator if you need access.")
        st.stop()
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        kind, message = flash
        (st.success if kind == "success" else st.info)(message)
    return person


APP_NAME = "Pilot Evaluation Governance"


def set_tab_title(title: str) -> None:
    """Name the page in the browser tab (and in the history list, bookmarks and a screen
    reader's announcement of the page) — each page its own, the product after it."""
    st.set_page_config(page_title=f"{title} · {APP_NAME}")


def roles_text(person: Me) -> str:
    return ", ".join(sorted(label(r) for r in person.roles)) or "no role"


_RULE_CODE = re.compile(r"\s*\((?:R\d{1,2})(?:[,/] ?R\d{1,2})*\)")


def for_people(message: str) -> str:
    """A refusal's message without its rule code ("… first (R3).") — the code is for
    auditors, who find it on the record and in docs/rules.md; people get what to do."""
    return _RULE_CODE.sub("", message)


def refusal(exc: GovernanceError) -> None:
    """Show a refusal: one message, or — for a form with several problems — each problem
    on its own line, named by its field, so all can be fixed in one go."""
    from governance.csvfiles import FileRejected, problem_table

    if isinstance(exc, FileRejected) and exc.errors:  # a refused file: its problems as a table
        st.error(f"'{esc(exc.filename)}' was not imported — nothing was saved. Fix the {len(exc.errors)} "
                 "problems below and upload it again." if len(exc.errors) > 1 else for_people(str(exc)))
        if len(exc.errors) > 1:
            st.dataframe(problem_table(exc.errors), placeholder=NOTHING, hide_index=True, width="stretch",
                         column_config={"Problem": st.column_config.TextColumn(width="large"),
                                        "What to do": st.column_config.TextColumn(width="large")})
        return
    problems = getattr(exc, "problems", None) or {}
    if len(problems) > 1:
        st.error(f"Nothing was saved; {len(problems)} things need fixing:\n\n"
                 + "\n".join(f"- **{esc(field)}**: {esc(for_people(message))}"
                              for field, message in problems.items()))
    else:
        st.error(for_people(str(exc)))


def act(fn: Callable[..., T], *args: Any, success: str | None = None, rerun: bool = True,
        clear: tuple[str, ...] = (), then: Callable[[T], None] | None = None, **kwargs: Any) -> T | None:
    """Run one use case as the signed-in person. A refusal shows its message
    (never a traceback) and leaves every field as typed; success clears the caches,
    empties the widgets named in ``clear`` (their keys) and reruns the page."""
    person_id = identity_lookup()
    if person_id is None:
        st.error("You are signed out. Sign in again to continue.")
        return None
    try:
        result = fn(uow(), person_id, *args, **kwargs)
    except GovernanceError as exc:
        refusal(exc)
        return None
    except Exception:  # noqa: BLE001 - a bug must not show a traceback to a user
        log.exception("unexpected error in %s", getattr(fn, "__name__", fn))
        st.error("Something went wrong and nothing was saved. Please try again; if it keeps "
                 "happening, tell your administrator (the details are in the server log).")
        return None
    clear_caches()
    for key in clear:  # done: the next form starts empty (a refusal kept what was typed)
        st.session_state.pop(key, None)
    if then is not None:  # e.g. open what was just created
        then(result)
    if success:
        st.session_state[FLASH_KEY] = ("success", success)
    if rerun:
        st.rerun()
    return result


def read_or_error(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """One read model as the signed-in person, uncached; a refusal shows its message."""
    person_id = identity_lookup()
    if person_id is None:
        st.error("You are signed out. Sign in again to continue.")
        return None
    try:
        return fn(uow(), person_id, *args, **kwargs)
    except GovernanceError as exc:
        refusal(exc)
        return None


def tab_for_link(key: str, links: dict[str, str]) -> None:
    """Before the tabs ``key`` are drawn: a deep link (``?param=id``) opens the tab ``links[param]``
    its record is on — once, on the session's first look at the page; clicks move it after."""
    if key not in st.session_state:
        wanted = next((tab for param, tab in links.items() if param in st.query_params), None)
        if wanted is not None:
            st.session_state[key] = wanted


def ask_confirmation(key: str) -> None:
    st.session_state[PENDING_KEY] = key


def _dismiss() -> None:
    st.session_state.pop(PENDING_KEY, None)


def confirmation(key: str, title: str, body: str, confirm_label: str,
                 on_confirm: Callable[[], Any]) -> None:
    """If ``key`` is pending, ask before a binding or irreversible act."""
    if st.session_state.get(PENDING_KEY) != key:
        return

    @st.dialog(title, on_dismiss=_dismiss)
    def dialog() -> None:
        st.markdown(body)
        left, right = st.columns(2)
        if left.button(confirm_label, type="primary", key=f"confirm-{key}"):
            _dismiss()
            on_confirm()
        if right.button("Cancel", key=f"cancel-{key}"):
            _dismiss()
            st.rerun()

    dialog()


def personal_links(key: str, fn: Callable[..., Any], act_id: int, what: str) -> None:
    """Issue personal one-time links for an act and show them once: only their hashes are kept,
    so this is the one moment they can be printed, texted or emailed."""
    state_key = f"_personal-links-{key}"
    if st.button(f"Issue personal links for {what}", key=f"issue-{key}",
                 help="One link per person, for this act only, working once, expiring at the close. "
                      "Issuing again replaces the links not yet used."):
        issued = act(fn, act_id, rerun=False)
        if issued is not None:
            st.session_state[state_key] = [{"name": link.name, "email": link.email,
                                            "link": public_url(link.path)} for link in issued]
    rows = st.session_state.get(state_key)
    if rows:
        st.warning("These links are shown only now: the database keeps only a fingerprint of each. Give each "
                   "person their own link; whoever holds a link can use it once as that person.")
        st.dataframe(rows, placeholder=NOTHING, hide_index=True, width="stretch")
        csv_download("Download the links (CSV)", rows, f"personal-links-{key}.csv", key=f"download-{key}")
        if st.button("Done — forget these links", key=f"forget-{key}"):
            st.session_state.pop(state_key, None)
            st.rerun()
