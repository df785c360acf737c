"""Evaluate: the 30-day indispensability survey, usability, and feedback."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from governance import services as sv
from governance.queries import evaluate as evaluate_q, pilots as pilots_q
from governance.rules.evidence import SUS_ITEMS
from governance.rules.permissions import Action, allowed
from governance.vocabulary import FeedbackKind, SurveyAnswer, label
from pages import common

me = common.page("evaluate", "Evaluate",
                 "After real use: would you miss the tool? Flag what is wrong, and see what was done about it.")
tab_survey, tab_feedback, tab_rounds, tab_claims = st.tabs(
    ["Survey", "Feedback", "Run survey rounds", "Claims"], key="evaluate-tab", on_change="rerun")

with tab_survey:
    rounds = common.cached(evaluate_q.my_surveys)(me.id)
    if not rounds:
        st.info("No survey is open for a pilot you use. Surveys open after 30 days of real use.")
    else:
        by_id = {r.round_id: r for r in rounds}
        rid = st.selectbox("Survey", list(by_id), key="survey-round",
                           format_func=lambda i: f"{by_id[i].title} — round {by_id[i].number}"
                           + (" (answered)" if by_id[i].answer else ""))
        current = by_id[rid]
        if current.answer:
            st.info(f"Your current answer: {label(current.answer)} (given {common.when(current.submitted_at)}). "
                    "You can change it until the round closes; both answers are kept.")
        with st.form("survey"):
            answer = st.radio(f"How would you feel if you could no longer use {common.esc(current.title)}?",
                              [a.value for a in SurveyAnswer], format_func=label, index=None)
            with st.expander("Usability (optional — answer all ten or none)"):
                sus = [st.select_slider(f"{i}. {item}", options=[None, 1, 2, 3, 4, 5], value=None,
                                        format_func=lambda v: "—" if v is None else
                                        {1: "1 strongly disagree", 5: "5 strongly agree"}.get(v, str(v)),
                                        key=f"sus-{i}")
                       for i, item in enumerate(SUS_ITEMS, start=1)]
            instead = st.text_area("What would you use instead?")
            benefit = st.text_area("What is the main benefit for you?")
            if st.form_submit_button("Submit my answer", type="primary"):
                if answer is None:
                    st.error("Choose an answer to the main question first.")
                else:
                    given = sus if any(v is not None for v in sus) else None
                    common.act(sv.submit_survey_response, rid, answer=answer, sus=given, use_instead=instead,
                               main_benefit=benefit, success="Thank you — your answer is recorded.")

with tab_feedback:
    # The pilots I may raise feedback on: rostered on them, or on the owning panel.
    raisable = {p.id: p.title for p in common.cached(evaluate_q.my_rostered_pilots)(me.id)}
    if allowed(me.roles, Action.RAISE_FEEDBACK) and raisable:
        with (st.expander("Flag something about a pilot", icon=":material/flag:"),
              st.form("feedback", clear_on_submit=False)):
            pilot_id = st.selectbox("Pilot", list(raisable), format_func=lambda i: raisable[i])
            kind = st.selectbox("What kind", [k.value for k in FeedbackKind], format_func=label)
            body = st.text_area("What happened", key="feedback-body")
            if st.form_submit_button("Send to the pilot's owner", type="primary"):
                common.act(sv.raise_feedback, pilot_id, kind=kind, body=body,
                           success="Sent. The owner must respond by the due date.", clear=("feedback-body",))
    f1, f2 = st.columns(2)
    status = f1.selectbox("Show", [None, "open", "overdue", "answered"], key="feedback-status",
                          format_func=lambda s: {"open": "Awaiting response", "overdue": "Overdue",
                                                 "answered": "Answered", None: "All"}[s])
    awaiting = f2.toggle("Only items awaiting my response", value=allowed(me.roles, Action.RESPOND_TO_FEEDBACK),
                         key="feedback-mine")
    items = common.cached(evaluate_q.feedback_page)(me.id, status=status, awaiting_me=awaiting,
                                                  page=st.session_state.get("feedback-page", 1))
    for item in items.rows:
        with st.container(border=True):
            top = st.columns([4, 1])
            top[0].markdown(f"**{common.esc(item.pilot)}** · {label(item.kind)} · raised by "
                            f"{common.esc(item.raised_by)} {common.when(item.raised_at)}")
            with top[1]:
                if item.responded_at:
                    common.badge("answered", "Answered late" if item.answered_late else "Answered")
                elif item.overdue:
                    common.badge("overdue", f"Overdue (due {common.when(item.due_on)})")
                else:
                    common.badge("open", f"Due {common.when(item.due_on)}")
            st.markdown(common.esc(item.body))
            if item.response:
                st.markdown(f"*Response:* {common.esc(item.response)}")
            elif item.may_respond:
                with st.form(f"respond-{item.id}"):
                    response = st.text_area("Your response (what you will do, or did)")
                    if st.form_submit_button("Respond"):
                        common.act(sv.respond_to_feedback, item.id, response=response,
                                   success="Response recorded.")
    if not items.rows:
        st.caption("No feedback items match.")
    common.pager("feedback-page", items.total, items.per_page)

with tab_rounds:
    if not allowed(me.roles, Action.RUN_SURVEY):
        st.caption("Survey rounds are run by the pilot's commissioning team or the panel's facilitators.")
    else:
        # Pilots in real use whose rounds I may run (my team's, or my panels' as facilitator).
        candidates = common.cached(evaluate_q.my_survey_pilots)(me.id)
        pid = common.choose("Pilot in real use", {p.id: p.title for p in candidates}, key="rounds-pilot")
        if not candidates:
            st.caption("No pilot in real use is yours to run a survey for: rounds are run by the pilot's "
                       "commissioning team or the owning panel's facilitators.")
        if pid is not None:
            d = common.cached(pilots_q.pilot_detail)(me.id, pid)
            st.caption(f"Evaluation window: the survey may open from {common.when(d.window_opens_at)}. "
                       f"Minimum responses: {d.charter.min_responses}.")
            if d.rounds:
                st.dataframe(pd.DataFrame([{"Round": r.number, "Opened": common.when(r.opened_at),
                                            "Closed": common.when(r.closed_at),
                                            "Responses": "—" if r.n is None else r.n}
                                           for r in d.rounds]), hide_index=True, width="stretch")
            open_round = next((r for r in d.rounds if r.closed_at is None), None)
            if open_round is None and not d.window_open:
                st.button("Open a survey round", key="open-round", disabled=True,
                          help=f"Available from {common.when(d.window_opens_at)}.")
            elif open_round is None:
                if st.button("Open a survey round", key="open-round"):
                    common.act(sv.open_survey_round, pid, success="Survey round opened for the rostered users.")
            elif st.button(f"Close round {open_round.number}", key="close-round"):
                common.ask_confirmation("close-round")
            if open_round is not None:
                round_id = open_round.id
                common.personal_links(f"round-{round_id}", sv.issue_survey_links, round_id,
                                      f"round {open_round.number}")
                common.confirmation(
                    "close-round", "Close the survey round",
                    f"Close round {open_round.number} with {open_round.n} responses? Answers can no longer "
                    "be given or changed, and this round becomes the evidence for the outcome vote.",
                    "Close the round",
                    lambda: common.act(sv.close_survey_round, round_id, success="Round closed."))

with tab_claims:
    known = common.cached(evaluate_q.my_rostered_pilots)(me.id)
    pid = common.choose("Pilot", {p.id: p.title for p in known}, key="claims-pilot")
    if pid is not None:
        d = common.cached(pilots_q.pilot_detail)(me.id, pid)
        common.claims_section(me, pid, [m.name for m in d.metrics] + [c.name for c in d.criteria],
                              may_record=d.may_record_claim)
