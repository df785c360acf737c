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
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, Literal, TypeVar

import streamlit as st
from streamlit.errors import StreamlitAPIException

from governance.errors import GovernanceError
from governance.queries import audit as audit_queries
from governance.queries.people import Me, whoami
from governance.rules.permissions import may_open
from governance.storage.db import Database, UnitOfWork, is_embedded_default
from governance.vocabulary import label

log = logging.getLogger(__name__)
T = TypeVar("T")

PERSON_KEY = "person_id"
SESSION_KEY = "sign_in_session"
WANTED_KEY = "_wanted_path"
REDIRECT_KEY = "_redirect"
FLASH_KEY = "_flash"
PENDING_KEY = "_pending_confirmation"

#: Okabe–Ito: a palette people with colour-vision deficiencies can tell apart.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
BadgeColour = Literal["red", "orange", "yellow", "blue", "green", "violet", "gray", "grey", "primary"]
BADGE_COLOURS: dict[str, BadgeColour] = {
    "draft": "gray", "ratified": "green", "reopened": "orange", "retired": "gray",
    "registered": "gray", "ready": "blue", "in_use": "blue", "evaluating": "violet", "decided": "green",
    "adopt": "green", "iterate": "blue", "revisit_problem": "orange", "stop": "red",
    "open": "blue", "closed": "gray", "pass": "green", "fail": "red", "insufficient": "orange",
    "none": "gray", "overdue": "red", "answered": "green", "applied": "green", "rejected": "red",
    "proposed": "orange",
}


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
    if claim is None:
        return None
    found = current_session(uow(), claim.session_id, claim.token)
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
    if person_id is None:
        return None
    return whoami(uow(), person_id)


def client_address() -> str | None:
    """The browser's address as the server sees it (None locally or when unknown)."""
    try:
        return st.context.ip_address
    except Exception:  # noqa: BLE001 - no browser context
        return None


def browser_binding() -> str | None:
    """This browser's binding for a sign-in ticket (its XSRF token's digest), or None."""
    from governance.identity.sessions import BROWSER_COOKIE
    from governance.identity.sessions import browser_binding as binding

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
            st.dataframe(problem_table(exc.errors), hide_index=True, width="stretch",
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


# ------------------------------------------------------------- presentation
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&$:])")


def esc(text: Any) -> str:
    """Text a person typed, made literal for markdown (no HTML, no formatting)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text if text is not None else ""))


def badge(value: str | None, text: str | None = None) -> None:
    """A status badge that always carries its text (never colour alone).

    The text may quote what people typed (a claim's flags name the metrics it
    cites), so it is escaped like any user text; st.badge escapes the square
    brackets itself, so those are left to it."""
    literal = esc(text or label(value)).replace("\\[", "[").replace("\\]", "]")
    st.badge(literal, color=BADGE_COLOURS.get(str(value), "gray"))


def when(moment: datetime | date | None) -> str:
    if moment is None:
        return "—"
    if isinstance(moment, datetime):
        return moment.strftime("%d %b %Y %H:%M UTC")
    return moment.strftime("%d %b %Y")


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def pager(key: str, total: int, per_page: int) -> int:
    """A page chooser for long lists; returns the 1-based page."""
    pages = max(1, -(-total // per_page))
    if pages == 1:
        st.caption(f"{total:,} shown")
        return 1
    left, right = st.columns([1, 4])
    number = left.number_input("Page", min_value=1, max_value=pages, value=1, step=1, key=key)
    right.caption(f"{total:,} in all — page {number} of {pages}")
    return int(number)


def selectable(frame: Any, ids: list[int], *, chooser: str, **kwargs: Any) -> None:
    """A table whose rows open their record with one click (single-row selection): the
    clicked row becomes the choice of the ``choose`` box ``chooser`` that follows it, which
    stays as the keyboard's and screen reader's way to the same records."""
    event = st.dataframe(frame, hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row", key=f"{chooser}-table", **kwargs)
    rows = list(getattr(getattr(event, "selection", None), "rows", []) or [])
    picked = ids[rows[0]] if rows and rows[0] < len(ids) else None
    last = f"_{chooser}-table-last"
    # Only a new click moves the choice, so the box below can still choose another record.
    if picked is not None and picked != st.session_state.get(last):
        st.session_state[chooser] = picked
    st.session_state[last] = picked


def open_next(chooser: str, record_id: Any) -> None:
    """After creating a record, open it: the ``choose`` box ``chooser`` picks it on the next run."""
    if isinstance(record_id, int):
        st.session_state[f"_open-{chooser}"] = record_id


def choose(label_text: str, options: Mapping[int, str | None], *, key: str,
           placeholder: str = "Choose…", param: str | None = None) -> int | None:
    """A selectbox over records given as id → name; returns the chosen record's id (or None).

    With ``param`` the choice is also the page's deep link (``?param=id``): a link with it
    opens that record, and choosing a record puts it in the address bar to share."""
    if not options:
        return None
    pending = st.session_state.pop(f"_open-{key}", None)
    if pending in options:
        st.session_state[key] = pending
    elif param and key not in st.session_state:
        wanted = st.query_params.get(param, "")
        if wanted.isdigit() and int(wanted) in options:
            st.session_state[key] = int(wanted)
    chosen: int | None = st.selectbox(label_text, list(options), format_func=lambda i: f"#{i} · {options[i]}",
                                      index=None, placeholder=placeholder, key=key)
    if param:
        if chosen is not None:
            st.query_params[param] = str(chosen)
        elif param in st.query_params:
            del st.query_params[param]
    return chosen


def claims_section(person: Me, pilot_id: int, metric_names: list[str], *, may_record: bool) -> None:
    """A pilot's claims with their checks, and the form to record one (R12) if ``may_record``
    (``PilotDetail.may_record_claim``)."""
    from governance.queries.evaluate import claims_for_pilot
    from governance.services import record_claim

    st.caption("A claim is a non-binding statement of success or failure. It is recorded with the metrics it "
               "cites and checked against what was pre-registered and against the binding decision.")
    for c in cached(claims_for_pilot)(person.id, pilot_id):
        with st.container(border=True):
            st.markdown(f"{esc(c.made_by)}, {when(c.made_at)} · NON-BINDING · cites "
                        f"{esc(', '.join(c.cited))}")
            st.markdown(f"“{esc(c.statement)}”")
            for flag in c.flags_now:
                badge("fail", flag)
            if not c.flags_now:
                badge("pass", "no flags")
    if may_record:
        with st.form(f"claim-{pilot_id}", clear_on_submit=True):
            statement = st.text_area("Claim", placeholder="e.g. The pilot met its KPIs.")
            cited = st.multiselect("Metrics it rests on", metric_names, accept_new_options=True)
            success = st.radio("Does it claim success?", ["Yes", "No"], horizontal=True)
            if st.form_submit_button("Record claim"):
                act(record_claim, pilot_id, statement=statement, cited_metrics=cited,
                    asserts_success=success == "Yes", success="Claim recorded with its checks.")


def csv_download(label_text: str, records: list[dict[str, Any]], file_name: str, *, key: str) -> None:
    """A CSV download of ``records``: the one way a page offers a CSV. Every cell goes
    through ``governance.csvfiles.to_csv``, which neutralises spreadsheet formulas
    (a cell starting with =, +, -, @, tab or CR gets a leading apostrophe). The grid's
    own CSV export is switched off (``client.disableDataExport``), since it would not."""
    from governance.csvfiles import to_csv

    st.download_button(label_text, to_csv(records), file_name, "text/csv", key=key)


def value_text(value: Any) -> str:
    """One stored value as a person reads it: whole numbers without ".0", labels for
    vocabulary values, times like ``when``, lists joined, nothing as "—"."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(value_text(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{label(k)} {value_text(v)}" for k, v in value.items()) or "—"
    text = str(value)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T[\d:.]+Z?", text):
        return when_text(text.replace("Z", "+00:00"))
    return label(text) if re.fullmatch(r"[a-z]+(?:_[a-z]+)+", text) else text


def change_text(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> str:
    """A change of terms in words: ``target 99 → 95`` (one clause per changed term)."""
    before, after = dict(before or {}), dict(after or {})
    clauses = []
    for key in [*before, *[k for k in after if k not in before]]:
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        name = label(key)
        if key not in before:
            clauses.append(f"{name} {value_text(new)}")
        elif key not in after:
            clauses.append(f"{name} {value_text(old)} removed")
        else:
            clauses.append(f"{name} {value_text(old)} → {value_text(new)}")
    return "; ".join(clauses) or "no change"


#: Payload fields that are digests, keys or ids: an auditor reads them in the full payload.
_TECHNICAL = re.compile(r"(sha256|hash|commitment|_id$|^id$|key_id|mac)")


def payload_summary(payload: str) -> str:
    """An audit event's payload (canonical JSON) in words, for the event log's table; the
    full payload stays one click away, in the auditor's detail view."""
    import json

    try:
        data = json.loads(payload)
    except ValueError:
        return payload[:120]
    if not isinstance(data, dict):
        return value_text(data)
    before, after = data.get("before"), data.get("after")
    parts = []
    if isinstance(before, dict) or isinstance(after, dict):
        plain_before = {k: v for k, v in (before or {}).items() if not _TECHNICAL.search(k)}
        plain_after = {k: v for k, v in (after or {}).items() if not _TECHNICAL.search(k)}
        if plain_before or plain_after:
            parts.append(change_text(plain_before, plain_after))
    rest = {k: v for k, v in data.items() if k not in ("before", "after") and not _TECHNICAL.search(k)}
    if rest:
        parts.append(value_text(rest))
    text = "; ".join(p for p in parts if p) or "—"
    return text if len(text) <= 160 else text[:157] + "…"


def when_text(iso: str | None) -> str:
    """A time stored as ISO text (e.g. in a frozen basis), shown like ``when``."""
    if not iso:
        return "—"
    try:
        return when(datetime.fromisoformat(iso))
    except ValueError:
        return iso


def public_url(path: str) -> str:
    """``path`` on this site as a full address, for a link to print, text or email
    (``GOVERNANCE_PUBLIC_URL`` when set — behind a proxy — else the address this page was opened at)."""
    import os
    from urllib.parse import urlsplit

    base = os.environ.get("GOVERNANCE_PUBLIC_URL", "").strip().rstrip("/")
    if not base:
        try:
            parts = urlsplit(st.context.url or "")
            base = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
        except Exception:  # noqa: BLE001 - outside a browser session (AppTest): a relative link
            base = ""
    return base + path


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
        st.dataframe(rows, hide_index=True, width="stretch")
        csv_download("Download the links (CSV)", rows, f"personal-links-{key}.csv", key=f"download-{key}")
        if st.button("Done — forget these links", key=f"forget-{key}"):
            st.session_state.pop(state_key, None)
            st.rerun()
