"""Pilot Evaluation Governance — the dashboard's entry point.

    streamlit run dashboard.py

Signs the person in (local password, or OpenID Connect when `.streamlit/
secrets.toml` has an [auth] section), then shows only the pages their roles
allow, grouped by audience. Roles always come from the database, never
from a choice made in the UI.

The same file is the server's ASGI app: ``streamlit run`` finds ``app`` below
(``st.App``) and serves, beside the dashboard, the two routes that set and clear
the signed session cookie (``governance.identity.web``), so a reload or a
bookmarked link keeps the person signed in, and the light path ``/lite/``
(``governance.lite``): plain HTML forms for slow connections.

Without DATABASE_URL this is the demo organisation (its own SQLite file, a
banner on every page). With DATABASE_URL set, an unmigrated or uninitialised
database shows how to set it up instead of the sign-in.
"""
from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from governance.errors import GovernanceError
from governance.identity.passwords import MIN_LENGTH
from governance.identity.web import routes
from governance.lite.app import routes as lite_routes
from governance.rules.permissions import may_open
from governance.services import change_own_password, close_due_votes, sign_in, sign_in_by_email
from pages import common, views
from pages.menu import ORDER, PAGES


def sign_in_page() -> None:
    common.set_tab_title("Sign in")
    st.title("Pilot Evaluation Governance")
    st.caption("Frontline panels define the problem, pre-register success, and hold binding votes on "
               "whether a pilot succeeded. Sign in to continue.")
    if common.oidc_configured():
        try:
            user = st.user
            if user.is_logged_in and user.get("email"):
                try:
                    opened = sign_in_by_email(common.uow(), str(user.get("email")), provider="oidc",
                                              email_verified=user.get("email_verified"),
                                              browser=common.browser_binding())
                    common.begin_session(opened)
                    st.rerun()
                except GovernanceError as exc:
                    st.error(str(exc))
            elif st.button("Sign in with your organisation account", type="primary"):
                st.login()
        except GovernanceError as exc:
            st.error(str(exc))
        st.divider()
    st.markdown("On a slow connection? [Use the light version](/lite/) — plain pages of a few kilobytes, "
                "no JavaScript needed.")
    with st.form("sign-in"):
        email = st.text_input("Email", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            opened = sign_in(common.uow(), email, password, address=common.client_address(),
                             browser=common.browser_binding())
        except GovernanceError as exc:
            st.error(str(exc))
        else:
            common.begin_session(opened)
            st.rerun()
    people = demo_people()
    if people:
        from governance.demo import DEMO_PASSWORD

        st.info(f"This is the **demo organisation**. Every demo person's password is "
                f"`{DEMO_PASSWORD}`.")
        st.dataframe(people, placeholder=common.NOTHING, hide_index=True, width="stretch",
                     column_config={"name": "Name", "email": "Email", "roles": "Roles"})


def choose_password_page() -> None:
    """A temporary password opened this session: the one thing to do is choose one's own."""
    session = common.current_session()
    common.set_tab_title("Choose your password")
    st.title("Choose your password")
    st.caption("You signed in with a temporary password. It has now been used and cannot be used again: "
               f"choose your own password to continue (at least {MIN_LENGTH} characters; a few unrelated "
               "words make a good one).")
    new_password_form(session, ask_current=False)
    if st.button("Sign out", key="sign-out-first"):
        common.sign_out()
        st.rerun()


def new_password_form(session: object, *, ask_current: bool) -> None:
    with st.form("new-password", clear_on_submit=True):
        current = st.text_input("Current password", type="password",
                                autocomplete="current-password") if ask_current else None
        new = st.text_input("New password", type="password", autocomplete="new-password")
        again = st.text_input("New password again", type="password", autocomplete="new-password")
        submitted = st.form_submit_button("Save my password", type="primary")
    if not submitted:
        return
    if new != again:
        st.error("The two new passwords differ; type the same one twice.")
        return
    person_id = getattr(session, "person_id", None)
    session_id = getattr(session, "session_id", None)
    if person_id is None or session_id is None:
        st.error("Your session has ended; sign in again to change your password.")
        return
    try:
        opened = change_own_password(common.uow(), person_id, session_id, current_password=current,
                                     new_password=new)
    except GovernanceError as exc:
        st.error(str(exc))
        return
    st.session_state[common.FLASH_KEY] = ("success", common.NOTICES["password"])
    common.begin_session(opened, notice="password")
    st.rerun()


def account_page() -> None:
    person = common.page("home", "Your account", "Your password and your sessions.")
    st.markdown(f"Signed in as **{common.esc(person.name)}** ({common.esc(person.email)}).")
    views.reminders_setting(person.id)
    session = common.current_session()
    if session is None:
        st.info("This session was not opened with a password, so there is no password to change here.")
        return
    if session.method != "password":
        st.info("You sign in through your organisation's identity provider; your password is managed there.")
        return
    st.header("Change your password")
    st.caption(f"At least {MIN_LENGTH} characters. Changing it signs you out everywhere else.")
    new_password_form(session, ask_current=True)


def setup_page(state: object) -> None:
    common.set_tab_title("Set-up")
    st.title("Pilot Evaluation Governance — set-up")
    step = getattr(state, "step", "")
    shown = common.database().engine.url.render_as_string(hide_password=True)
    if step == "unreachable":
        st.error(f"The database at `{shown}` cannot be reached. Check DATABASE_URL and that the database "
                 "server is running, then reload this page.")
        return
    st.info(f"This deployment's database (`{shown}`) holds no organisation yet. The demo organisation is "
            "never built into a real deployment's database. Set it up from a shell where DATABASE_URL is set:")
    commands = []
    if step == "migrate":
        commands.append("python -m governance.migrate")
    commands.append('python -m governance init --organisation "Your organisation" '
                    "--admin-email you@your.org --country JM")
    st.code("\n".join(commands), language="bash")
    st.markdown("`init` creates the organisation, charter version 1 and the first administrator, and prints "
                "a one-time password (or, with OpenID Connect configured, says to sign in through it). Then "
                "reload this page, sign in, choose your own password, and import your people and panels "
                "from a CSV in **Admin → People**.")


def demo_people() -> list[dict[str, str]]:
    from governance.demo import demo_people as read_demo_people

    people = common.cached(read_demo_people)() or []
    return [{"name": p["name"], "email": p["email"], "roles": ", ".join(p.get("roles", []))} for p in people]


def demo_banner() -> None:
    st.warning("**Demo organisation** — invented people and pilots, a shared public password. Nothing here "
               "is real; a real organisation runs on its own database (see the README's deployment guide).",
               icon=":material/theater_comedy:")


def sidebar(person: common.Me) -> None:
    with st.sidebar:
        st.markdown(f"**{common.esc(person.name)}**")
        st.caption(common.esc(person.email))
        st.markdown("Roles: " + common.esc(common.roles_text(person)))
        if person.panels:
            st.markdown("Panels: " + common.esc(", ".join(f"{p.name} ({p.role})"
                                                          for p in person.panels)))
        st.markdown("On a slow connection? [The light version](/lite/)")
        if st.button("Sign out", key="sign-out"):
            common.sign_out()
            st.rerun()


def close_overdue_votes() -> None:
    """Votes close at their deadline even if nobody presses the button."""
    from governance.queries.votes import due_vote_count

    if due_vote_count(common.uow()):
        try:
            if close_due_votes(common.uow()):
                common.clear_caches()
        except GovernanceError as exc:
            st.warning(f"A vote past its deadline could not be closed automatically: {exc}")


def only(page_fn: Callable[[], None], title: str, icon: str) -> None:
    """Run one page whatever path the browser asked for: a bookmark such as /votes,
    reached signed out, shows this page (not "page not found") and is opened after."""
    pages = [st.Page(page_fn, title=title, icon=icon, default=True)]
    pages += [st.Page(page_fn, title=title, icon=icon, url_path=key) for key in [*PAGES, "account"]]
    st.navigation(pages, position="hidden").run()


def main() -> None:
    # The tab's title is set by each page (common.set_tab_title), after this.
    st.set_page_config(page_icon=":material/how_to_vote:", layout="wide")
    common.database()
    common.send_pending_redirect()
    common.show_notice()
    common.wanted_path()
    session = common.current_session()
    if session is not None and session.must_change_password:
        only(choose_password_page, "Choose your password", ":material/key:")
        return
    person = common.me()
    if person is None:
        from governance.queries.people import setup_state

        st.session_state.pop(common.PERSON_KEY, None)
        state = setup_state(common.uow())
        if not state.ready:
            only(lambda: setup_page(state), "Set-up", ":material/build:")
            return
        if demo_people():
            demo_banner()
        only(sign_in_page, "Sign in", ":material/login:")
        return
    if demo_people():
        demo_banner()
    close_overdue_votes()
    sidebar(person)
    # One flat list in menu order: Streamlit's sectioned navigation puts each section's
    # <li> items inside a <div> in the <ul>, which screen readers cannot read as a list
    # (axe: list, listitem); nobody sees more than nine pages, so sections add little.
    pages: list[st.Page] = []
    for key in ORDER:
        if may_open(person.roles, key):
            path, title, icon = PAGES[key]
            pages.append(st.Page(path, title=title, icon=icon, url_path=key, default=key == "home"))
    pages.append(st.Page(account_page, title="Your account", icon=":material/key:", url_path="account"))
    st.navigation(pages).run()


# Streamlit runs this file as __main__ for every session. Imported as a module
# (``streamlit run`` hands the import string "dashboard:app" to its ASGI server),
# it is the server: Streamlit's routes plus the session-cookie routes. The guard
# also keeps other programs that load it by path (multiprocessing re-imports the
# main script in spawned processes as __mp_main__) from running the app.
if __name__ == "__main__":
    main()
else:
    app = st.App(__file__, routes=[*routes(), *lite_routes()])
