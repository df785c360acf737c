"""Pilot Evaluation Governance — the dashboard's entry point.

    streamlit run dashboard.py

Signs the person in (local password, or OpenID Connect when `.streamlit/
secrets.toml` has an [auth] section), then shows only the pages their roles
allow, grouped by audience. Roles always come from the database, never
from a choice made in the UI.
"""
from __future__ import annotations

import streamlit as st

from governance.errors import GovernanceError
from governance.rules.permissions import may_open
from governance.services import close_due_votes, sign_in, sign_in_by_email
from pages import common

st.set_page_config(page_title="Pilot Evaluation Governance", page_icon=":material/how_to_vote:",
                   layout="wide")

PAGES = {
    "home": ("pages/home.py", "Home", ":material/home:"),
    "problems": ("pages/problems.py", "Problems", ":material/report_problem:"),
    "evaluate": ("pages/evaluate.py", "Evaluate", ":material/rate_review:"),
    "votes": ("pages/votes.py", "Votes", ":material/how_to_vote:"),
    "pilots": ("pages/pilots.py", "Pilots", ":material/rocket_launch:"),
    "compare": ("pages/compare.py", "Compare", ":material/compare_arrows:"),
    "audit": ("pages/audit.py", "Audit", ":material/verified:"),
    "admin": ("pages/admin.py", "Admin", ":material/admin_panel_settings:"),
}
GROUPS = {
    "Everyone": ["home", "votes"],
    "Frontline": ["problems", "evaluate"],
    "Commissioning & steering": ["pilots", "compare"],
    "Oversight": ["audit", "admin"],
}


def sign_in_page() -> None:
    st.title("Pilot Evaluation Governance")
    st.caption("Frontline panels define the problem, pre-register success, and hold binding votes on "
               "whether a pilot succeeded. Sign in to continue.")
    if common.oidc_configured():
        try:
            user = st.user
            if user.is_logged_in and user.get("email"):
                try:
                    st.session_state[common.PERSON_KEY] = sign_in_by_email(
                        common.uow(), str(user.get("email")), provider="oidc")
                    st.rerun()
                except GovernanceError as exc:
                    st.error(str(exc))
            elif st.button("Sign in with your organisation account", type="primary"):
                st.login()
        except GovernanceError as exc:
            st.error(str(exc))
        st.divider()
    with st.form("sign-in"):
        email = st.text_input("Email", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            st.session_state[common.PERSON_KEY] = sign_in(common.uow(), email, password)
            common.clear_caches()
            st.rerun()
        except GovernanceError as exc:
            st.error(str(exc))
    people = demo_people()
    if people:
        from governance.demo import DEMO_PASSWORD

        st.info(f"This is the **demo organisation**. Every demo person's password is "
                f"`{DEMO_PASSWORD}`.")
        st.dataframe(people, hide_index=True, width="stretch",
                     column_config={"name": "Name", "email": "Email", "roles": "Roles"})


def demo_people() -> list[dict[str, str]]:
    from governance.demo import demo_people as read_demo_people

    people = read_demo_people(common.uow()) or []
    return [{"name": p["name"], "email": p["email"], "roles": ", ".join(p.get("roles", []))} for p in people]


def sidebar(person: common.Me) -> None:
    with st.sidebar:
        st.markdown(f"**{common.esc(person.name)}**")
        st.caption(common.esc(person.email))
        st.markdown("Roles: " + common.esc(common.roles_text(person)))
        if person.panels:
            st.markdown("Panels: " + common.esc(", ".join(f"{p.name} ({p.role})"
                                                          for p in person.panels)))
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


def main() -> None:
    common.database()
    person = common.me()
    if person is None:
        st.session_state.pop(common.PERSON_KEY, None)
        st.navigation([st.Page(sign_in_page, title="Sign in", icon=":material/login:")]).run()
        return
    close_overdue_votes()
    sidebar(person)
    groups: dict[str, list[st.Page]] = {}
    for group, keys in GROUPS.items():
        for key in keys:
            if may_open(person.roles, key):
                path, title, icon = PAGES[key]
                groups.setdefault(group, []).append(
                    st.Page(path, title=title, icon=icon, url_path=key, default=key == "home"))
    st.navigation(groups).run()


# Streamlit runs this file as __main__. The guard keeps other programs that load
# it by path (multiprocessing re-imports the main script in spawned processes
# as __mp_main__) from running the app.
if __name__ == "__main__":
    main()
