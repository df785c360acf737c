"""Problems: the frontline panel defines the problem and its success criteria,
ratifies and locks them by vote, and proposes amendments."""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from governance import services as sv
from governance.queries import people as people_q, problems as problems_q
from governance.rules.permissions import Action, allowed
from governance.vocabulary import UNITS, Direction, ProblemState, label
from pages import common, views

me = common.page("problems", "Problems",
                 "Frontline panels write down the problem and define success before any solution exists.")
# A problem is drafted for one of my panels (R2).
my_panels = {p.id: p.name for p in me.panels}

# ------------------------------------------------------------ draft a new one
if allowed(me.roles, Action.DRAFT_PROBLEM) and my_panels:
    with (st.expander("Draft a new problem", icon=":material/edit_note:"),
          st.form("draft-problem", clear_on_submit=False)):
        panel_id = st.selectbox("Panel", list(my_panels), format_func=lambda i: my_panels[i])
        title = st.text_input("Title", max_chars=200,
                              help="A concrete, recurring friction, e.g. 'Re-keying referral letters'.")
        statement = st.text_area("What happens, how often, and who it affects", max_chars=4000)
        if st.form_submit_button("Save draft", type="primary"):
            common.act(sv.draft_problem, panel_id=panel_id, title=title, statement=statement,
                       success="Draft saved and opened below. Add the panel's success criteria next.",
                       then=lambda new_id: common.open_next("problem-chosen", new_id))

# ------------------------------------------------------------------ the list
panels = {p.id: p.name for p in common.cached(people_q.panels)(me.id)}
f1, f2, f3 = st.columns([2, 2, 3])
panel_filter = f1.selectbox("Panel", [None, *panels],
                            format_func=lambda i: "All panels" if i is None else panels[i], key="problem-panel")
state_filter = f2.selectbox("State", [None, *[s.value for s in ProblemState]],
                            format_func=lambda s: "Any state" if s is None else label(s), key="problem-state")
search = f3.text_input("Search titles", key="problem-search")
page_no = st.session_state.get("problem-page", 1)
listing = common.cached(problems_q.problems_page)(me.id, panel_id=panel_filter, state=state_filter,
                                                  search=search, page=page_no, per_page=15)
if listing.rows:
    table = pd.DataFrame([{"#": r.id, "Title": r.title, "Panel": r.panel, "State": label(r.state),
                           "Version": r.version, "Criteria": r.criteria,
                           "Locked": "Yes" if r.locked_at else "No", "Pilots": r.pilots}
                          for r in listing.rows])
    # Widths that fit beside the sidebar at 1400 px (the title takes what is left over).
    common.selectable(table, [r.id for r in listing.rows], chooser="problem-chosen",
                      column_config={"#": st.column_config.NumberColumn(width=50),
                                     "Title": st.column_config.TextColumn(width=290),
                                     "Panel": st.column_config.TextColumn(width=190),
                                     **{name: st.column_config.Column(width=70)
                                        for name in ("Version", "Criteria", "Locked", "Pilots")}})
else:
    st.info("No problems match these filters.")
common.pager("problem-page", listing.total, listing.per_page)

chosen = common.choose("Open a problem", {r.id: r.title for r in listing.rows}, key="problem-chosen",
                       param="problem")
if chosen is None:
    st.stop()

# ---------------------------------------------------------------- the detail
p = common.cached(problems_q.problem_detail)(me.id, chosen)
st.divider()
head, state_col = st.columns([5, 1])
head.subheader(f"{common.esc(p.title)}")
with state_col:
    common.badge(p.state)
st.caption(f"{common.esc(p.panel.name)} · version {p.version}")
st.markdown(common.esc(p.statement))

if p.lock:
    st.success(f"Criteria locked (pre-registered) on {common.when(p.lock.locked_at)}"
               f" by panel vote — SHA-256 `{p.lock.sha256}`")
elif p.state == ProblemState.RATIFIED:
    st.warning("Ratified, but the criteria are not locked yet: no pilot on this problem may start real "
               "use until they are.")

tab_criteria, tab_votes, tab_history, tab_comments = st.tabs(
    ["Success criteria", "Votes", "Versions and pilots", "Comments"], key="problem-tab", on_change="rerun")

with tab_criteria:
    # A static table whose cells wrap, so no column is cut off at any width: the target with its
    # direction in one short cell ("at least 40 %"), the long texts in full.
    views.plain_table([{"Criterion": c.name,
                        "Target": views.target_text(c.target, c.direction,
                                                    "share" if c.is_indispensability else c.unit),
                        "Unit": label(c.unit), "Minimum evidence": c.minimum_evidence,
                        "Definition": c.definition, "How measured": c.measurement_method} for c in p.criteria])
    if p.amendments:
        st.markdown("**Amendments** (the original values stay on record)")
        st.dataframe(pd.DataFrame([{
            "Criterion": a.criterion, "Status": label(a.status), "Before": str(a.before),
            "After": str(a.after), "Reason": a.reason, "By": a.proposed_by,
            "Flag": "AMENDED AFTER REAL USE BEGAN" if a.after_real_use else ""} for a in p.amendments]),
            placeholder=common.NOTHING, hide_index=True, width="stretch")
    if p.may_edit_criteria:
        with st.expander("Add a success criterion", icon=":material/add:"), st.form("add-criterion"):
            name = st.text_input("Name", max_chars=120)
            definition = st.text_area("Plain-language definition")
            method = st.text_area("How it is measured")
            c1, c2, c3, c4 = st.columns(4)
            unit = c1.selectbox("Unit", list(UNITS), format_func=lambda u: UNITS[u])
            direction = c2.selectbox("Direction", [d.value for d in Direction], format_func=label)
            target = c3.number_input("Target", value=0.0, step=1.0)
            minimum = c4.number_input("Minimum evidence", min_value=1, value=5, step=1)
            if st.form_submit_button("Add criterion", type="primary"):
                common.act(sv.add_criterion, chosen, name=name, definition=definition,
                           measurement_method=method, unit=unit, direction=direction, target=target,
                           minimum_evidence=int(minimum), success=f"Criterion '{name}' added.")
        threshold = next(c for c in p.criteria if c.is_indispensability)
        with st.expander("Indispensability threshold", icon=":material/tune:"), st.form("threshold"):
            value = st.slider("Share 'very disappointed' needed to pass", 0.05, 1.0,
                              float(threshold.target), 0.05)
            evidence = st.number_input("Minimum responses", min_value=5,
                                       value=int(threshold.minimum_evidence), step=1)
            if st.form_submit_button("Save threshold"):
                changes: dict[str, Any] = {}
                if value != threshold.target:
                    changes["target"] = value
                if evidence != threshold.minimum_evidence:
                    changes["minimum_evidence"] = int(evidence)
                common.act(sv.update_criterion, threshold.id, **changes, success="Threshold saved.")
        removable = {c.id: c.name for c in p.criteria if not c.is_indispensability}
        if removable:
            with st.expander("Remove a criterion", icon=":material/delete:"), st.form("remove-criterion"):
                rid = st.selectbox("Criterion", list(removable), format_func=lambda i: removable[i])
                if st.form_submit_button("Remove"):
                    common.act(sv.remove_criterion, rid, success="Criterion removed.")
    if p.may_propose_amendment:
        with st.expander("Propose an amendment to a locked criterion", icon=":material/gavel:"):
            st.caption("A locked criterion changes only by a passed panel vote, with a reason. The original "
                       "stays visible, and a change after real use began is flagged everywhere.")
            with st.form("amend"):
                names = {c.id: c.name for c in p.criteria}
                cid = st.selectbox("Criterion", list(names), format_func=lambda i: names[i])
                new_target = st.number_input("New target", value=0.0, step=0.05)
                reason = st.text_area("Reason for the amendment")
                if st.form_submit_button("Propose and open the panel vote", type="primary"):
                    common.act(sv.propose_amendment, cid, reason=reason, target=new_target,
                               success="Amendment proposed; the panel vote is open on the Votes page.")

with tab_votes:
    if p.votes:
        st.dataframe(pd.DataFrame([{"Vote": v.id, "Kind": label(v.kind), "Status": label(v.status),
                                    "Question": v.question, "Closes": common.when(v.deadline),
                                    "Passed": "—" if v.passed is None else ("Yes" if v.passed else "No")}
                                   for v in p.votes]), placeholder=common.NOTHING, hide_index=True, width="stretch")
    else:
        st.caption("No panel votes yet.")
    if p.may_open_panel_vote:
        open_kinds = {v.kind for v in p.votes if v.status == "open"}
        if (p.state in (ProblemState.DRAFT, ProblemState.REOPENED) and "ratify_problem" not in open_kinds
                and st.button("Propose ratification", key="ratify")):
            common.ask_confirmation("ratify")
        if (p.state == ProblemState.RATIFIED and not p.lock and "lock_criteria" not in open_kinds
                and st.button("Propose locking the criteria", key="lock")):
            common.ask_confirmation("lock")
        common.confirmation(
            "ratify", "Ratify the problem",
            f"This opens a binding panel vote to ratify **{common.esc(p.title)}**. Once ratified, pilots "
            "may be registered against it and its wording is fixed.", "Open the vote",
            lambda: common.act(sv.propose_ratification, chosen,
                               success="Ratification vote opened on the Votes page."))
        common.confirmation(
            "lock", "Lock criteria",
            "Lock criteria — after this, changes need a panel vote. This opens a binding panel vote to "
            "pre-register the criteria with a SHA-256 fingerprint, so nobody can move the goalposts.",
            "Open the vote",
            lambda: common.act(sv.propose_criteria_lock, chosen,
                               success="Lock vote opened on the Votes page."))

with tab_history:
    st.dataframe(pd.DataFrame([{"Version": v.version, "Title": v.title, "Created": common.when(v.created_at),
                                "Ratified": common.when(v.ratified_at)} for v in p.versions]),
                 placeholder=common.NOTHING, hide_index=True, width="stretch")
    for r in p.reopenings:
        st.warning(f"Version {r.version} reopened after '{common.esc(r.pilot or '—')}': "
                   f"{common.esc(r.reason)}")
    if p.pilots:
        st.dataframe(pd.DataFrame([{"Pilot": x.title, "State": label(x.state),
                                    "Outcome": label(x.outcome) if x.outcome else "—"} for x in p.pilots]),
                     placeholder=common.NOTHING, hide_index=True, width="stretch")
    if p.may_edit_text:
        with st.form("revise"):
            new_title = st.text_input("Title", value=p.title, max_chars=200)
            new_statement = st.text_area("Statement", value=p.statement)
            if st.form_submit_button("Save wording"):
                common.act(sv.revise_problem, chosen, title=new_title, statement=new_statement,
                           success="Wording saved.")
    if p.may_retire:
        with st.form("retire"):
            reason = st.text_input("Reason to retire this problem")
            if st.form_submit_button("Retire problem"):
                common.act(sv.retire_problem, chosen, reason=reason, success="Problem retired.")

with tab_comments:
    for c in p.comments:
        with st.container(border=True):
            st.caption(f"{common.esc(c.name)} · {common.when(c.created_at)}")
            st.markdown(common.esc(c.body))
    if not p.comments:
        st.caption("No comments yet.")
    if p.may_comment:
        # Kept on a refusal (too long, odd characters), to be corrected; emptied once posted.
        with st.form("comment", clear_on_submit=False):
            body = st.text_area("Add a comment", key=f"comment-{chosen}")
            if st.form_submit_button("Post comment"):
                common.act(sv.comment_on_problem, chosen, body, success="Comment posted.",
                           clear=(f"comment-{chosen}",))
