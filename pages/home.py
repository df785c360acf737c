"""Home: where the organisation stands, and what needs me now."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from governance import services as sv
from governance.queries import compare, evaluate as evaluate_q, home
from governance.vocabulary import PilotState, ProblemState, label
from pages import common

me = common.page("home", "Home", "Where the organisation stands, and what needs you now.")
pipeline = common.cached(home.pipeline)(me.id)
agenda = common.cached(home.my_agenda)(me.id)

st.header("Needs you now")
if agenda.alterations:
    st.error("**Record altered.** The last integrity check"
             + (f" ({common.when(agenda.integrity_checked_at)})" if agenda.integrity_checked_at else "")
             + " found frozen evidence that no longer matches the record — see the Audit page:\n\n"
             + "\n".join(f"- {common.esc(a)}" for a in agenda.alterations[:10]))
for invitation in agenda.invitations:
    with st.container(border=True):
        st.markdown(f"**{common.esc(invitation.invited_by)}** invites you to join the commissioning team of "
                    f"**{common.esc(invitation.pilot)}** ({common.when(invitation.invited_at)}). On the team you "
                    "vote as commissioning on it, never as frontline.")
        yes, no = st.columns(2)
        if yes.button("Accept", key=f"accept-{invitation.id}", type="primary"):
            common.act(sv.accept_team_invitation, invitation.id, success="You joined the team.")
        if no.button("Decline", key=f"decline-{invitation.id}"):
            common.act(sv.decline_team_invitation, invitation.id, success="You declined the invitation.")
left, middle, right = st.columns(3)
with left:
    st.markdown("**Votes open to you**")
    if not agenda.votes:
        st.caption("No open votes for you.")
    for v in agenda.votes:
        with st.container(border=True):
            common.badge("answered" if v.voted else "open", "You voted" if v.voted else "Not voted yet")
            st.markdown(common.esc(v.question))
            st.caption(f"{label(v.kind)} · closes {common.when(v.deadline)}")
    if agenda.votes:
        st.page_link("pages/votes.py", label="Go to Votes", icon=":material/how_to_vote:")
with middle:
    st.markdown("**Surveys awaiting your answer**")
    if not agenda.surveys:
        st.caption("No survey is waiting for you.")
    for s in agenda.surveys:
        with st.container(border=True):
            st.markdown(f"{common.esc(s.title)} — round {s.number}")
    if agenda.surveys:
        st.page_link("pages/evaluate.py", label="Answer on Evaluate", icon=":material/rate_review:")
with right:
    st.markdown("**Feedback awaiting your response**")
    if not agenda.feedback:
        st.caption("Nothing is waiting for your response.")
    for f in agenda.feedback:
        with st.container(border=True):
            common.badge("overdue" if f.overdue else "open",
                         f"Overdue since {common.when(f.due_on)}" if f.overdue else f"Due {common.when(f.due_on)}")
            st.markdown(f"**{common.esc(f.pilot)}**: {common.esc(f.body)}")
    if agenda.feedback:
        st.page_link("pages/evaluate.py", label="Respond on Evaluate", icon=":material/rate_review:")

st.header("Pipeline")
cols = st.columns(len(ProblemState))
for col, state in zip(cols, ProblemState, strict=True):
    col.metric(f"Problems · {label(state)}", pipeline.problems[state.value])
cols = st.columns(len(PilotState))
for col, pilot_state in zip(cols, PilotState, strict=True):
    col.metric(f"Pilots · {label(pilot_state)}", pipeline.pilots[pilot_state.value])

st.header("Trust ledger")
st.caption("Across pilots that reached real use: were they found indispensable by the people who use them?")
rows = common.cached(compare.compare_pilots)(me.id)
headline = compare.ledger_headline(rows)
a, b, c, d = st.columns(4)
a.metric("Reached real use", headline.reached_real_use)
b.metric("Found indispensable", headline.indispensable)
c.metric("Not indispensable", headline.not_indispensable)
d.metric("Awaiting evidence", headline.awaiting_evidence)
if agenda.may_oversee_feedback:
    overdue = common.cached(evaluate_q.feedback_page)(me.id, status="overdue", per_page=10,
                                                    page=st.session_state.get("overdue-page", 1))
    st.header("Feedback past its response date")
    if not overdue.rows:
        st.caption("Every feedback item was answered in time.")
    else:
        st.warning(f"{overdue.total} feedback item(s) are past their response date without an answer from "
                   "the pilot's owner.")
        st.dataframe(pd.DataFrame([{"Pilot": f.pilot, "Raised by": f.raised_by, "Kind": label(f.kind),
                                    "Feedback": f.body, "Due": common.when(f.due_on)}
                                   for f in overdue.rows]),
                     placeholder=common.NOTHING, hide_index=True, width="stretch")
        common.pager("overdue-page", overdue.total, overdue.per_page)
