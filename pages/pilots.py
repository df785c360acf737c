"""Pilots: register a candidate solution against a ratified problem, declare
metrics, roster and readiness, start real use, record evidence."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from governance import services as sv
from governance.queries import (
    measurements as measurements_q,
    people as people_q,
    pilots as pilots_q,
    problems as problems_q,
)
from governance.rules.permissions import Action, allowed
from governance.vocabulary import UNITS, Direction, PilotState, ReadinessItem, label
from pages import common, views

me = common.page("pilots", "Pilots",
                 "Register pilots against ratified problems, get them ready, and record the evidence.")

# --------------------------------------------------------------- registration
if allowed(me.roles, Action.REGISTER_PILOT):
    with st.expander("Register a pilot", icon=":material/add_circle:"):
        problems = {p.id: f"{p.title} ({p.panel})" for p in common.cached(problems_q.ratified_problems)(me.id)}
        if not problems:
            st.info("No problem is ratified yet: a pilot can only be registered against a problem its panel "
                    "has ratified.")
        else:
            owners = {o.id: o.name for o in common.cached(people_q.people_options)(me.id, role="commissioning")}
            with st.form("register-pilot"):
                problem_id = st.selectbox("Ratified problem", list(problems), format_func=lambda i: problems[i])
                title = st.text_input("Pilot title", max_chars=200)
                description = st.text_area("What the tool does")
                owner = st.selectbox("Owner (accountable for the last mile)", list(owners),
                                     format_func=lambda i: owners[i],
                                     index=next((k for k, o in enumerate(owners) if o == me.id), 0))
                st.markdown("**Commissioning metrics** (locked when real use starts)")
                # The grid shows labels ("higher is better"); the use case takes the stored values.
                directions = {label(d.value): d.value for d in Direction}
                units = {label(u): u for u in UNITS}
                metrics_frame = st.data_editor(
                    pd.DataFrame([{"name": "", "definition": "", "unit": label("percent"),
                                   "direction": label(Direction.HIGHER_IS_BETTER), "target": 0.0}]),
                    num_rows="dynamic", width="stretch", key="metrics-editor",
                    column_config={
                        "name": st.column_config.TextColumn("Name"),
                        "definition": st.column_config.TextColumn("Definition"),
                        "unit": st.column_config.SelectboxColumn("Unit", options=list(units)),
                        "direction": st.column_config.SelectboxColumn("Direction", options=list(directions)),
                        "target": st.column_config.NumberColumn("Target")})
                if st.form_submit_button("Register pilot", type="primary"):
                    metrics = [{**m, "unit": units.get(m.get("unit"), m.get("unit")),
                                "direction": directions.get(m.get("direction"), m.get("direction"))}
                               for m in metrics_frame.to_dict("records") if str(m.get("name") or "").strip()]
                    common.act(sv.register_pilot, problem_id=problem_id, title=title, description=description,
                               owner_id=owner, metrics=metrics, success=f"Pilot '{title}' registered.")

# ------------------------------------------------------------------- listing
f1, f2, f3 = st.columns([2, 1, 3])
state = f1.selectbox("State", [None, *[s.value for s in PilotState]],
                     format_func=lambda s: "Any state" if s is None else label(s), key="pilot-state")
# Those who manage pilots see their own team's first.
mine = f2.toggle("Only my pilots", value=allowed(me.roles, Action.MANAGE_PILOT), key="pilot-mine")
search = f3.text_input("Search titles", key="pilot-search")
listing = common.cached(pilots_q.pilots_page)(me.id, state=state, mine=mine, search=search,
                                              page=st.session_state.get("pilot-page", 1), per_page=15)
if listing.rows:
    common.selectable(pd.DataFrame([{"#": r.id, "Pilot": r.title, "State": label(r.state),
                                     "Outcome": label(r.outcome) if r.outcome else "—", "Problem": r.problem,
                                     "Owner": r.owner,
                                     # The day is what matters here (the hour is on the pilot's own page).
                                     "Real use since": common.when(r.real_use_started_at.date()
                                                                   if r.real_use_started_at else None)}
                                    for r in listing.rows]), [r.id for r in listing.rows], chooser="pilot-chosen",
                      column_config={"#": st.column_config.NumberColumn(width="small"),
                                     "Pilot": st.column_config.TextColumn(width="large"),
                                     "Problem": st.column_config.TextColumn(width="medium"),
                                     "Real use since": st.column_config.TextColumn(width="medium")})
else:
    st.info("No pilots match these filters.")
common.pager("pilot-page", listing.total, listing.per_page)
chosen = common.choose("Open a pilot", {r.id: r.title for r in listing.rows}, key="pilot-chosen",
                       param="pilot")
if chosen is None:
    st.stop()

d = common.cached(pilots_q.pilot_detail)(me.id, chosen)
st.divider()
head, badge_col = st.columns([5, 1])
head.subheader(common.esc(d.title))
with badge_col:
    common.badge(d.state)
    if d.outcome:
        common.badge(d.outcome)
st.caption(f"Problem: {common.esc(d.problem.title)} (v{d.problem.version}, "
           f"{common.esc(d.problem.panel)}) · Owner: {common.esc(d.owner.name)} · Team: "
           f"{common.esc(', '.join(t.name for t in d.team))}")
if d.invited:
    st.caption("Invited to the team, not answered yet: " + common.esc(", ".join(p.name for p in d.invited)))
st.markdown(common.esc(d.description))
for alteration in d.alterations:
    st.error(f"**Record altered.** {common.esc(alteration)}")
if d.roster_changes and d.roster_changes.any:
    st.warning(common.esc(d.roster_changes.text.capitalize()) + "."
               + "".join(f" Removed: {common.esc(r)}." for r in d.roster_changes.removals if r))
m1, m2, m3, m4 = st.columns(4)
m1.metric("Rostered users", len(d.roster))
m2.metric("Real use since", common.when(d.real_use_started_at))
ind = d.evidence.indispensability
m3.metric("Indispensability (latest closed round)", common.pct(ind.score) if ind.score is not None else "—",
          help=f"{ind.words} ({d.evidence.channels_text})")
usage = d.latest_usage
m4.metric("Adoption (latest week)", common.pct(usage.adoption) if usage else "—")

tabs = st.tabs(["Metrics and criteria", "Readiness", "Roster", "Evidence", "Usage", "Claims"],
               key="pilot-tab", on_change="rerun")

with tabs[0]:
    st.markdown("**Commissioning metrics**")
    if d.metrics_sha256:
        st.caption(f"Locked at real use — SHA-256 `{d.metrics_sha256}`")
    st.dataframe(pd.DataFrame([{
        "Metric": m.name, "Target": views.target_text(m.target, m.direction, m.unit),
        "Latest": views.value_in_unit(m.latest.value if m.latest else None, m.unit),
        "On target": "—" if m.on_target is None else ("Yes" if m.on_target else "No"),
        "Flag": "AMENDED AFTER REAL USE BEGAN" if m.amended_after_real_use else ""} for m in d.metrics]),
        placeholder=common.NOTHING, hide_index=True, width="stretch")
    st.markdown("**Frontline criteria** (pre-registered by the panel)")
    st.dataframe(pd.DataFrame([{
        "Criterion": c.name, "Target": views.target_text(c.target, c.direction, c.unit),
        "Latest": views.value_in_unit(c.latest.value if c.latest else None, c.unit),
        "On target": "—" if c.on_target is None else ("Yes" if c.on_target else "No"),
        "Flag": "AMENDED AFTER REAL USE BEGAN" if c.amended_after_real_use else ""} for c in d.criteria]),
        placeholder=common.NOTHING, hide_index=True, width="stretch")
    for a in d.metric_amendments:
        st.warning(f"Metric '{common.esc(a.metric)}' amended {common.when(a.at)} by {common.esc(a.by)} "
                   f"after real use began: {common.esc(a.before)} → {common.esc(a.after)}. Reason: "
                   f"{common.esc(a.reason)}")
    if d.may_manage and not d.real_use_started_at:
        with st.form("add-metric"):
            st.markdown("Add a commissioning metric")
            c1, c2, c3, c4 = st.columns(4)
            name = c1.text_input("Name")
            unit = c2.selectbox("Unit", list(UNITS), format_func=lambda u: UNITS[u])
            direction = c3.selectbox("Direction", [x.value for x in Direction], format_func=label)
            target = c4.number_input("Target", value=0.0)
            definition = st.text_input("Definition")
            if st.form_submit_button("Add metric"):
                common.act(sv.add_metric, chosen, name=name, definition=definition, unit=unit,
                           direction=direction, target=target, success="Metric added.")
    if d.may_amend_metric and d.real_use_started_at and d.metrics:
        with st.form("amend-metric"):
            st.markdown("Amend a locked metric (flagged as after real use began)")
            metric_names = {m.id: m.name for m in d.metrics}
            mid = st.selectbox("Metric", list(metric_names), format_func=lambda i: metric_names[i])
            new_target = st.number_input("New target", value=0.0)
            reason = st.text_area("Reason")
            if st.form_submit_button("Amend metric"):
                common.act(sv.amend_metric, mid, reason=reason, target=new_target,
                           success="Metric amended; the amendment is flagged in every view.")

with tabs[1]:
    for row in d.readiness:
        cols = st.columns([1, 3, 4])
        with cols[0]:
            common.badge("answered" if row.done else "open", "Done" if row.done else "To do")
        cols[1].markdown(f"**{label(row.item)}**")
        cols[2].markdown(common.esc(row.detail) + (f" ({common.when(row.on_date)})" if row.on_date else ""))
    if d.waiver:
        st.warning(f"Readiness waived by steering ({common.esc(d.waiver.by)}, "
                   f"{common.when(d.waiver.at)}): {common.esc(d.waiver.reason)}")
    if d.may_manage and not d.real_use_started_at:
        # Kept as typed on a refusal (a missing date must not wipe the evidence); emptied after success.
        with st.form("readiness", clear_on_submit=False):
            item = st.selectbox("Item", [i.value for i in ReadinessItem if i != ReadinessItem.OWNER],
                                format_func=label, key="readiness-item")
            detail = st.text_area("Evidence (what was done)", key="readiness-detail")
            on_date = st.date_input("Date (for the retirement of the old process)", value=None,
                                    key="readiness-date")
            if st.form_submit_button("Record"):
                common.act(sv.record_readiness, chosen, item, detail=detail,
                           on_date=on_date if item == ReadinessItem.OLD_PROCESS_RETIREMENT else None,
                           success="Readiness recorded.", clear=("readiness-detail", "readiness-date"))
    if d.may_waive_readiness and not d.real_use_started_at and not d.waiver:
        with st.form("waive"):
            reason = st.text_area("Steering decision: reason to waive the readiness checklist")
            if st.form_submit_button("Waive readiness"):
                common.act(sv.waive_readiness, chosen, reason=reason, success="Readiness waived.")
    if d.may_manage and not d.real_use_started_at and d.start_blockers:
        # Offered only when it can be done: the same rule the use case applies says why not yet.
        st.button("Start real use", type="primary", key="start-real-use", disabled=True,
                  help="Not yet: " + " ".join(d.start_blockers))
        st.markdown("**Before real use can start:**\n" + "\n".join(f"- {common.esc(b)}" for b in d.start_blockers))
    elif d.may_manage and d.state == PilotState.READY:
        if st.button("Start real use", type="primary", key="start-real-use"):
            common.ask_confirmation("start")
        common.confirmation(
            "start", "Start real use",
            "Real use begins now. The commissioning metrics lock (changes afterwards are flagged "
            "amendments), and the evaluation window starts counting.", "Start real use",
            lambda: common.act(sv.start_real_use, chosen, success="Real use started; metrics locked."))

def team_controls(d: pilots_q.PilotDetail) -> None:
    """The commissioning team: invite (before real use; they must accept), remove with a reason (R15)."""
    st.markdown("**Commissioning team**")
    if d.real_use_started_at is None:
        options = {p.id: p.name for p in common.cached(people_q.people_options)(me.id, role="commissioning")
                   if p.id not in {t.id for t in d.team} | {p.id for p in d.invited}}
        with st.form("team-invite"):
            who = st.selectbox("Invite to the team (they accept or decline themselves)", list(options),
                               format_func=lambda i: options[i], index=None)
            if st.form_submit_button("Invite"):
                common.act(sv.add_team_member, chosen, who, success="Invitation sent.")
    else:
        st.caption(f"The team froze when real use started ({common.when(d.real_use_started_at)}): nobody joins now.")
    removable = {t.id: t.name for t in d.team if t.id != d.owner.id}
    if removable:
        with st.form("team-remove"):
            who = st.selectbox("Take off the team", list(removable), format_func=lambda i: removable[i], index=None)
            why = st.text_input("Reason (kept on the record)")
            if st.form_submit_button("Take off the team"):
                common.act(sv.remove_team_member, chosen, who, reason=why, success="Taken off the team.")


with tabs[2]:
    st.dataframe(pd.DataFrame([{"#": r.id, "Name": r.name} for r in d.roster]) if d.roster
                 else pd.DataFrame(), placeholder=common.NOTHING, hide_index=True, width="stretch")
    if d.may_manage and d.state != PilotState.DECIDED:
        find = st.text_input("Find frontline people by name or email", key="roster-find")
        frontline = common.cached(people_q.people_options)(me.id, role="frontline", search=find, limit=200)
        rostered = {r.id for r in d.roster}
        candidates = {p.id: p.name for p in frontline if p.id not in rostered}
        open_round = next((r for r in d.rounds if r.closed_at is None), None)
        if open_round is not None:
            st.info(f"Round {open_round.number} of the survey is open: the roster cannot change until it closes, so "
                    "the people answering stay the people who use the tool.")
        else:
            if d.real_use_started_at:
                st.caption("Real use has begun: someone added now answers only survey rounds that open at least "
                           f"{d.charter.window_days} days after today, and every change shows beside the evidence.")
            with st.form("roster"):
                add = st.multiselect("Add frontline users", list(candidates), format_func=lambda i: candidates[i])
                if st.form_submit_button("Add to roster"):
                    common.act(sv.add_to_roster, chosen, add, success="Roster updated.")
            if d.roster:
                names = {r.id: r.name for r in d.roster}
                with st.form("roster-remove"):
                    who = st.selectbox("Remove from the roster", list(names), format_func=lambda i: names[i],
                                       index=None)
                    why = st.text_input("Reason" + (" (needed after real use began)" if d.real_use_started_at else ""))
                    if st.form_submit_button("Remove"):
                        common.act(sv.remove_from_roster, chosen, who, reason=why or None,
                                   success="Removed from the roster.")
    if d.may_manage:
        team_controls(d)

with tabs[3]:
    page_no = st.session_state.get("measure-page", 1)
    measures = common.cached(measurements_q.measurements_page)(me.id, chosen, page=page_no)
    if measures.rows:
        st.dataframe(pd.DataFrame([{"Measure": r.measure, "Value": r.value, "Observed": r.observed_on,
                                    "Source": label(r.source), "File": r.filename or "",
                                    "File SHA-256": r.sha256 or "", "Recorded by": r.recorded_by}
                                   for r in measures.rows]),
                     placeholder=common.NOTHING, hide_index=True, width="stretch")
    common.pager("measure-page", measures.total, measures.per_page)
    if d.may_record_measurement:
        subjects = [("metric", m.id, m.name) for m in d.metrics] + [
            ("criterion", c.id, c.name) for c in d.criteria if not c.is_indispensability]
        with st.form("measurement"):
            which = st.selectbox("Measure", list(range(len(subjects))),
                                 format_func=lambda k: f"{subjects[k][2]} ({subjects[k][0]})")
            value = st.number_input("Value", value=0.0)
            observed = st.date_input("Observed on")
            if st.form_submit_button("Record measurement"):
                kind, sid, _ = subjects[which]
                common.act(sv.record_measurement, chosen, value=value, observed_on=observed,
                           metric_id=sid if kind == "metric" else None,
                           criterion_id=sid if kind == "criterion" else None, success="Measurement recorded.")
        upload = st.file_uploader("Import measurements (CSV: measure,observed_on,value)", type=["csv"],
                                  key="measure-upload")
        if upload is not None and st.button("Import this file", key="import-measures"):
            common.act(sv.import_measurements, chosen, filename=upload.name, content=upload.getvalue(),
                       success="Measurements imported.")

with tabs[4]:
    if d.usage:
        frame = pd.DataFrame([{"Week": r.week_start, "Active users": r.active_users,
                               "Eligible users": r.eligible_users,
                               "Adoption": r.active_users / r.eligible_users if r.eligible_users else None,
                               "File": r.filename} for r in d.usage])
        chart_col, table_col = st.columns([3, 2])
        chart = alt.Chart(frame).mark_line(point=True, color=common.PALETTE[0], aria=False).encode(
            x=alt.X("Week:T"), y=alt.Y("Adoption:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            tooltip=["Week:T", "Active users:Q", "Eligible users:Q", alt.Tooltip("Adoption:Q", format=".0%")])
        chart_col.altair_chart(chart.properties(description=(
            "Weekly adoption: active users as a share of eligible users; the table "
            "beside it holds the numbers."
        )), width="stretch")
        table_col.dataframe(frame, placeholder=common.NOTHING, hide_index=True, width="stretch")
    else:
        st.caption("No usage imported yet.")
    if d.may_import_usage and d.real_use_started_at:
        upload = st.file_uploader("Import weekly usage (CSV: week_start,active_users,eligible_users)",
                                  type=["csv"], key="usage-upload")
        if upload is not None and st.button("Import usage", key="import-usage"):
            common.act(sv.import_usage, chosen, filename=upload.name, content=upload.getvalue(),
                       success="Usage imported.")
        if d.usage_sample:
            # Every week since real use began that has no usage yet, the roster as eligible users:
            # it imports as it is, or serves as a template.
            common.csv_download("Download a sample usage file for this pilot", d.usage_sample,
                                f"usage-sample-pilot-{chosen}.csv", key="usage-sample")

with tabs[5]:
    views.claims_section(me, chosen, [m.name for m in d.metrics] + [c.name for c in d.criteria],
                          may_record=d.may_record_claim)
