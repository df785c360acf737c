"""Admin: people and their roles, panels, and the charter's versions."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from governance import services as sv
from governance.identity.passwords import MIN_LENGTH
from governance.queries import people as people_q
from governance.rules.charter import FIELD_LABELS, SHARE_TERMS, supported_countries
from governance.rules.permissions import Action, allowed
from governance.rules.times import known_zones
from governance.services.people_import import ImportPlan
from governance.storage.db import UnitOfWork
from governance.vocabulary import PanelRole, Role, label
from pages import common

IMPORT_KEY = "_people_import"


def people_import_section() -> None:
    """Admin → People: a CSV of people and panels, previewed by line, then imported at once."""
    with st.expander("Import people and panels from a CSV", icon=":material/upload_file:"):
        st.caption("Columns, exactly: `name,email,roles,panel,panel_role`. Roles separated by `;` "
                   "(frontline, facilitator, commissioning, steering, auditor, admin); `panel` optional "
                   "(created when new), `panel_role` member or facilitator; one line per panel a person "
                   "belongs to. Existing people (same email) are updated — roles and memberships are only "
                   "added, never removed. Nothing is written until you press Import, and then all or nothing.")
        upload = st.file_uploader("People file (CSV, UTF-8)", type=["csv"], key="people-upload")
        if upload is None:
            st.session_state.pop(IMPORT_KEY, None)
            return
        content = upload.getvalue()
        plan = common.cached(people_import_preview)(me.id, upload.name, content)
        st.session_state[IMPORT_KEY] = (upload.name, content)
        if plan.problems:
            st.error(common.esc(plan.summary()))
            st.dataframe(pd.DataFrame([{"Line": n or "—", "Problem": m} for n, m in plan.problems]),
                         placeholder=common.NOTHING, hide_index=True, width="stretch")
            return
        (st.success if plan.changes else st.info)(common.esc(plan.summary()))
        for title, rows in (("New people", plan.new_people), ("Renamed", plan.renamed),
                            ("More roles", plan.roles_added), ("Panel memberships", plan.memberships)):
            if rows:
                st.markdown(f"**{title}** ({len(rows):,})")
                st.dataframe(pd.DataFrame(rows[:200]), placeholder=common.NOTHING, hide_index=True, width="stretch")
        if plan.new_panels:
            st.markdown("**New panels:** " + common.esc(", ".join(plan.new_panels)))
        if plan.changes and st.button("Import", type="primary", key="people-import"):
            result = common.act(sv.import_people, filename=upload.name, content=content, rerun=False)
            if result is not None:
                st.session_state[common.FLASH_KEY] = ("success", result.summary())
                st.session_state.pop(IMPORT_KEY, None)
                st.rerun()


def people_import_preview(uow: UnitOfWork, actor_id: int, filename: str, content: bytes) -> ImportPlan:
    """The preview, as a cached read (``common.cached`` passes the unit of work)."""
    return sv.preview_people_import(uow, actor_id, filename=filename, content=content)


me = common.page("admin", "Admin", "People, roles, panels — and the charter the software enforces.")
# A link to a panel (?panel=) opens the Panels tab; one to a person (?person=) the People tab.
common.tab_for_link("admin-tab", {"panel": "Panels"})
tabs = st.tabs(["People", "Panels", "Charter"], key="admin-tab", on_change="rerun")

with tabs[0]:
    if not allowed(me.roles, Action.MANAGE_PEOPLE):
        st.caption("Only administrators manage people.")
    else:
        c1, c2 = st.columns(2)
        search = c1.text_input("Search people", key="people-search")
        role = c2.selectbox("Role", [None, *[r.value for r in Role]],
                            format_func=lambda r: "Any role" if r is None else label(r), key="people-role")
        listing = common.cached(people_q.people_page)(me.id, search=search, role=role,
                                                      page=st.session_state.get("people-page", 1))
        common.selectable(pd.DataFrame([{"#": p.id, "Name": p.name, "Email": p.email,
                                         "Roles": ", ".join(label(r) for r in p.roles),
                                         "Active": "Yes" if p.active else "No",
                                         "Password": ("temporary" if p.password_temporary else
                                                      "own" if p.has_password else "none")}
                                        for p in listing.rows]), [p.id for p in listing.rows], chooser="person-chosen")
        common.pager("people-page", listing.total, listing.per_page)
        for person in common.cached(people_q.role_conflicts)(me.id):
            st.warning(f"**{common.esc(person.name)}** holds {common.esc(', '.join(label(r) for r in person.roles))}: "
                       f"{common.esc(person.role_conflict)}")
        people_import_section()
        runs = common.cached(people_q.job_runs)(me.id)
        st.markdown("**Scheduled jobs** (`python -m governance.jobs run`, from cron every minute)")
        if not runs:
            st.warning("The scheduled job has never run: votes past their deadline close only when a page is "
                       "opened, and no daily checkpoint is signed. Add the cron line from the README.")
        else:
            last = runs[0]
            sent = ", ".join(f"{n} {label(k)}" for k, n in last.reminders_sent.items()) or "none"
            failed = sum(last.reminders_failed.values())
            st.caption(f"Last ran {common.when(last.started_at)}. Reminders sent: {common.esc(sent)}"
                       + (f"; **{failed} failed** (retried at the next runs)" if failed else "")
                       + (f"; not sent: {common.esc(last.reminders_skipped)}" if last.reminders_skipped else "")
                       + ".")
            st.dataframe(pd.DataFrame([{"Ran": common.when(r.started_at), "Where": r.holder,
                                        "Votes closed": r.closed_votes, "Could not close": r.refused_votes,
                                        "Checkpoint": f"#{r.checkpoint}" if r.checkpoint else "—",
                                        "Record altered": str(r.alterations or "no"),
                                        "Reminders sent": sum(r.reminders_sent.values()),
                                        "Reminders failed": sum(r.reminders_failed.values())}
                                       for r in runs[:5]]),
                         placeholder=common.NOTHING, hide_index=True, width="stretch")
        with (st.expander("Add a person", icon=":material/person_add:"),
              st.form("add-person", clear_on_submit=False)):
            # Kept on a refusal (every problem is reported at once); emptied after success.
            name = st.text_input("Name", key="new-person-name")
            email = st.text_input("Email", key="new-person-email")
            roles = st.multiselect("Roles", [r.value for r in Role], format_func=label, key="new-person-roles")
            password = st.text_input(f"Temporary password (optional; at least {MIN_LENGTH} characters; "
                                     "works once, then they choose their own)", type="password",
                                     key="new-person-password")
            if st.form_submit_button("Add person", type="primary"):
                common.act(sv.create_person, name=name, email=email, roles=roles,
                           password=password or None, success=f"{name} added.",
                           clear=("new-person-name", "new-person-email", "new-person-roles",
                                  "new-person-password"))
        chosen = common.choose("Change a person", {p.id: p.name for p in listing.rows}, key="person-chosen",
                               param="person")
        if chosen:
            person = next(p for p in listing.rows if p.id == chosen)
            with st.form("roles"):
                roles = st.multiselect("Roles", [r.value for r in Role], default=person.roles, format_func=label)
                if st.form_submit_button("Save roles"):
                    common.act(sv.set_roles, chosen, roles, success="Roles saved; they apply at once.")
            with st.form("password"):
                new_password = st.text_input("Temporary password (works once; they then choose their own)",
                                             type="password")
                if st.form_submit_button("Set temporary password"):
                    common.act(sv.set_password, chosen, new_password,
                               success="Temporary password set; their sessions were signed out.")
            if person.active:
                with st.form("deactivate"):
                    reason = st.text_input("Reason to deactivate")
                    if st.form_submit_button("Deactivate"):
                        common.act(sv.deactivate_person, chosen, reason=reason,
                                   success="Person deactivated; their records stay as they were.")
            else:
                with st.form("reactivate"):
                    reason = st.text_input("Reason to reactivate")
                    if st.form_submit_button("Reactivate"):
                        common.act(sv.reactivate_person, chosen, reason=reason, success="Person reactivated.")

with tabs[1]:
    panels = common.cached(people_q.panels)(me.id)
    panel_table = pd.DataFrame([{"#": p.id, "Panel": p.name, "Area": p.area, "Site": p.site,
                                 "Members": p.members, "Facilitators": ", ".join(p.facilitators)} for p in panels])
    if allowed(me.roles, Action.MANAGE_PANELS):  # a row opens the panel's members below
        common.selectable(panel_table, [p.id for p in panels], chooser="panel-chosen")
    else:
        st.dataframe(panel_table, placeholder=common.NOTHING, hide_index=True, width="stretch")
    if allowed(me.roles, Action.MANAGE_PANELS):
        with (st.expander("Create a panel", icon=":material/group_add:"),
              st.form("create-panel", clear_on_submit=False)):
            name = st.text_input("Panel name", key="new-panel-name")
            area = st.text_input("Area", key="new-panel-area")
            site = st.text_input("Site", key="new-panel-site")
            if st.form_submit_button("Create panel"):
                common.act(sv.create_panel, name=name, area=area, site=site, success=f"Panel '{name}' created.",
                           clear=("new-panel-name", "new-panel-area", "new-panel-site"))
        pid = common.choose("Manage a panel's members", {p.id: p.name for p in panels}, key="panel-chosen",
                            param="panel")
        if pid:
            members = common.cached(people_q.panel_members)(me.id, pid)
            st.dataframe(pd.DataFrame([{"Name": m.name, "Email": m.email, "Panel role": label(m.panel_role)}
                                       for m in members]), placeholder=common.NOTHING, hide_index=True, width="stretch")
            find = st.text_input("Find frontline people by name or email", key="member-find")
            candidates = {c.id: c.name for c in common.cached(people_q.people_options)(
                me.id, role="frontline", search=find, limit=200)}
            with st.form("add-member"):
                person_id = st.selectbox("Person", list(candidates), format_func=lambda i: candidates[i])
                role = st.selectbox("Panel role", [r.value for r in PanelRole], format_func=label)
                if st.form_submit_button("Add to panel"):
                    common.act(sv.add_panel_member, pid, person_id, role, success="Member added.")

with tabs[2]:
    charters = common.cached(people_q.charters)(me.id)
    current = charters[0]
    terms = current.terms
    st.markdown(f"**Charter version {current.version}** — adopted {common.when(current.adopted_at)} by "
                f"{common.esc(current.adopted_by_name)}: {common.esc(current.reason)}")
    st.dataframe(pd.DataFrame([{"Version": c.version, "Adopted": common.when(c.adopted_at),
                                "By": c.adopted_by_name, "Reason": c.reason,
                                **{FIELD_LABELS[k]: common.pct(v) if k in SHARE_TERMS else v
                                   for k, v in c.terms.as_dict().items()}} for c in charters]),
                 placeholder=common.NOTHING, hide_index=True, width="stretch")
    if allowed(me.roles, Action.ADOPT_CHARTER):
        with (st.expander("Adopt a new charter version (steering decision)", icon=":material/gavel:"),
              st.form("charter")):
            c1, c2, c3 = st.columns(3)
            wf = c1.number_input("Frontline weight", 0.0, 1.0, float(terms.weight_frontline), 0.05)
            wc = c2.number_input("Commissioning weight", 0.0, 1.0, float(terms.weight_commissioning), 0.05)
            ws = c3.number_input("Steering weight", 0.0, 1.0, float(terms.weight_steering), 0.05)
            qf = c1.number_input("Frontline quorum", 0.0, 1.0, float(terms.quorum_frontline), 0.05)
            qc = c2.number_input("Commissioning quorum", 0.0, 1.0, float(terms.quorum_commissioning), 0.05)
            qs = c3.number_input("Steering quorum", 0.0, 1.0, float(terms.quorum_steering), 0.05)
            window = c1.number_input("Evaluation window (days)", 1, 365, int(terms.evaluation_window_days))
            minimum = c2.number_input("Minimum survey responses", 5, 100000, int(terms.min_survey_responses))
            threshold = c3.number_input("Indispensability threshold", 0.01, 1.0,
                                        float(terms.indispensability_threshold), 0.05)
            response_days = c1.number_input("Feedback response time (working days)", 1, 120,
                                            int(terms.feedback_response_working_days))
            shortest = c2.number_input("Shortest vote (days)", 1, 60, int(terms.vote_min_days))
            longest = c3.number_input("Longest vote (days)", 1, 120, int(terms.vote_max_days))
            secret = c1.multiselect("Groups whose ballots are secret", ["frontline", "commissioning", "steering"],
                                    default=list(terms.secret_groups), format_func=str.capitalize)
            countries = {"": "No country: Monday–Friday only", **supported_countries()}
            country = c2.selectbox("Country (public holidays are not working days)", list(countries),
                                   index=list(countries).index(terms.country) if terms.country in countries else 0,
                                   format_func=lambda c: f"{c} — {countries[c]}" if c else countries[c])
            zones = known_zones()
            zone = c3.selectbox("Time zone (dates and times on pages; exports and the audit log stay UTC)", zones,
                                index=zones.index(terms.time_zone) if terms.time_zone in zones else None,
                                placeholder="e.g. Europe/London")
            veto = c2.checkbox("Frontline veto on adopt", value=bool(terms.frontline_veto))
            override = c3.checkbox("Allow adopt to override a failed threshold (flagged)",
                                   value=bool(terms.allow_adopt_override))
            reason = st.text_area("Reason for the change")
            if st.form_submit_button("Adopt new charter", type="primary"):
                common.act(sv.adopt_charter, reason=reason, weight_frontline=wf, weight_commissioning=wc,
                           weight_steering=ws, quorum_frontline=qf, quorum_commissioning=qc,
                           quorum_steering=qs, evaluation_window_days=int(window),
                           min_survey_responses=int(minimum), indispensability_threshold=threshold,
                           feedback_response_working_days=int(response_days), vote_min_days=int(shortest),
                           vote_max_days=int(longest), secret_groups=secret, country=country, time_zone=zone,
                           frontline_veto=veto,
                           allow_adopt_override=override, success="New charter version adopted.")
