"""Evaluate: the 30-day indispensability survey, usability, and feedback.

Every list a record is picked from opens it with one click on its row, and each pick is
the page's deep link: ``?survey=`` a round to answer, ``?feedback=`` an item,
``?rounds=`` the pilot whose rounds are run, ``?claims=`` the pilot whose claims are read."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from governance import services as sv
from governance.queries import evaluate as evaluate_q, pilots as pilots_q
from governance.queries.people import Me
from governance.rules.evidence import SUS_ITEMS, SUS_SCALE
from governance.rules.permissions import Action, allowed
from governance.vocabulary import FeedbackKind, SurveyAnswer, label
from pages import common, views

TABS = ["Survey", "Feedback", "Run survey rounds", "Claims"]
#: A deep link to a record opens the tab it is on.
LINK_TABS = {"feedback": "Feedback", "rounds": "Run survey rounds", "claims": "Claims"}


def pilot_picker(label_text: str, pilots: list[evaluate_q.PilotChoice], key: str, param: str) -> int | None:
    """A table of pilots whose row opens one (and the chooser under it, the deep link ``?param=``)."""
    if len(pilots) > 1:
        common.selectable(pd.DataFrame([{"#": p.id, "Pilot": p.title, "State": label(p.state)} for p in pilots]),
                          [p.id for p in pilots], chooser=key,
                          column_config={"Pilot": st.column_config.TextColumn(width="large")})
    return common.choose(label_text, {p.id: p.title for p in pilots}, key=key, param=param)


def sus_items() -> list[int | None]:
    """The ten SUS items, each a row of five labelled choices, none chosen until answered
    ("not answered" is no choice at all, never a middle value)."""
    st.caption("Answer all ten or none. 1 = strongly disagree … 5 = strongly agree.")
    return [st.radio(f"{i}. {item}", list(SUS_SCALE), index=None, horizontal=True, key=f"sus-{i}",
                     format_func=lambda v: f"{v} {SUS_SCALE[v]}")
            for i, item in enumerate(SUS_ITEMS, start=1)]


def survey_tab(me: Me) -> None:
    """The survey rounds open to me; the chosen one's questions."""
    rounds = common.cached(evaluate_q.my_surveys)(me.id)
    if not rounds:
        st.info("No survey is open for a pilot you use. Surveys open after 30 days of real use.")
        return
    by_id = {r.round_id: r for r in rounds}
    if len(rounds) == 1 and "survey-round" not in st.session_state:
        common.open_next("survey-round", rounds[0].round_id)  # the only one: opened at once
    elif len(rounds) > 1:
        common.selectable(pd.DataFrame([{"Pilot": r.title, "Round": r.number,
                                         "Your answer": label(r.answer) if r.answer else "not answered yet"}
                                        for r in rounds]), list(by_id), chooser="survey-round")
    rid = common.choose("Survey", {i: f"{r.title} — round {r.number}" + (" (answered)" if r.answer else "")
                                   for i, r in by_id.items()}, key="survey-round", param="survey")
    if rid is None:
        return
    current = by_id[rid]
    if current.answer:
        st.info(f"Your current answer: {label(current.answer)} (given {common.when(current.submitted_at)}). "
                "You can change it until the round closes; both answers are kept.")
    # Kept on a refusal: every choice and text stays as given, with every problem listed.
    with st.form("survey"):
        answer = st.radio(f"How would you feel if you could no longer use {common.esc(current.title)}?",
                          [a.value for a in SurveyAnswer], format_func=label, index=None, key=f"answer-{rid}")
        with st.expander("Usability (optional — answer all ten or none)"):
            sus = sus_items()
        instead = st.text_area("What would you use instead?")
        benefit = st.text_area("What is the main benefit for you?")
        if st.form_submit_button("Submit my answer", type="primary"):
            given = sus if any(v is not None for v in sus) else None
            common.act(sv.submit_survey_response, rid, answer=answer, sus=given, use_instead=instead,
                       main_benefit=benefit, success="Thank you — your answer is recorded.")


def feedback_card(item: evaluate_q.FeedbackRow) -> None:
    """One feedback item, its due date or response, and the response form for its owner."""
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
                response = st.text_area("Your response (what you will do, or did)", key=f"response-{item.id}")
                if st.form_submit_button("Respond"):
                    common.act(sv.respond_to_feedback, item.id, response=response, success="Response recorded.",
                               clear=(f"response-{item.id}",))
        if st.query_params.get("feedback") != str(item.id):
            st.page_link("pages/evaluate.py", label="Link to this item", query_params={"feedback": str(item.id)},
                         icon=":material/link:")


def feedback_tab(me: Me) -> None:
    """Raise feedback; the items newest first, all or mine (raised by me or on my pilots)."""
    # The pilots I may raise feedback on: rostered on them, or on the owning panel.
    raisable = {p.id: p.title for p in common.cached(evaluate_q.my_rostered_pilots)(me.id)}
    if allowed(me.roles, Action.RAISE_FEEDBACK) and raisable:
        with (st.expander("Flag something about a pilot", icon=":material/flag:"),
              st.form("feedback", clear_on_submit=False)):
            pilot_id = st.selectbox("Pilot", list(raisable), format_func=lambda i: raisable[i], key="feedback-pilot")
            kind = st.selectbox("What kind", [k.value for k in FeedbackKind], format_func=label, key="feedback-kind")
            body = st.text_area("What happened", key="feedback-body")
            if st.form_submit_button("Send to the pilot's owner", type="primary"):
                common.act(sv.raise_feedback, pilot_id, kind=kind, body=body,
                           success="Sent. The owner must respond by the due date.", clear=("feedback-body",))
    linked = st.query_params.get("feedback", "")
    if linked.isdigit():
        items = common.cached(evaluate_q.feedback_page)(me.id, item_id=int(linked))
        if items.rows:
            feedback_card(items.rows[0])
            if st.button("Show all feedback", key="feedback-all"):
                del st.query_params["feedback"]
                st.rerun()
            return
        del st.query_params["feedback"]  # a link to an item that is not there: the whole list
    f1, f2 = st.columns(2)
    status = f1.selectbox("Show", [None, "open", "overdue", "answered"], key="feedback-status",
                          format_func=lambda s: {"open": "Awaiting response", "overdue": "Overdue",
                                                 "answered": "Answered", None: "All"}[s])
    mine = f2.toggle("Mine: raised by me or on my pilots", value=allowed(me.roles, Action.RESPOND_TO_FEEDBACK),
                     key="feedback-mine")
    st.caption("Newest first.")
    items = common.cached(evaluate_q.feedback_page)(me.id, status=status, mine=mine,
                                                  page=st.session_state.get("feedback-page", 1))
    for item in items.rows:
        feedback_card(item)
    if not items.rows:
        st.caption("No feedback items match.")
    common.pager("feedback-page", items.total, items.per_page)


def rounds_tab(me: Me) -> None:
    """Open, close and issue links for survey rounds of the pilots I may run them for."""
    if not allowed(me.roles, Action.RUN_SURVEY):
        st.caption("Survey rounds are run by the pilot's commissioning team or the panel's facilitators.")
        return
    # Pilots in real use whose rounds I may run (my team's, or my panels' as facilitator).
    candidates = common.cached(evaluate_q.my_survey_pilots)(me.id)
    if not candidates:
        st.caption("No pilot in real use is yours to run a survey for: rounds are run by the pilot's "
                   "commissioning team or the owning panel's facilitators.")
    pid = pilot_picker("Pilot in real use", candidates, "rounds-pilot", "rounds")
    if pid is None:
        return
    d = common.cached(pilots_q.pilot_detail)(me.id, pid)
    st.caption(f"Evaluation window: the survey may open from {common.when(d.window_opens_at)}. "
               f"Minimum responses: {d.charter.min_responses}.")
    if d.rounds:
        st.dataframe(pd.DataFrame([{"Round": r.number, "Opened": common.when(r.opened_at),
                                    "Closed": common.when(r.closed_at), "Responses": "—" if r.n is None else r.n}
                                   for r in d.rounds]), placeholder=common.NOTHING, hide_index=True, width="stretch")
    open_round = next((r for r in d.rounds if r.closed_at is None), None)
    if open_round is None:
        if not d.window_open:
            st.button("Open a survey round", key="open-round", disabled=True,
                      help=f"Available from {common.when(d.window_opens_at)}.")
        elif st.button("Open a survey round", key="open-round"):
            common.act(sv.open_survey_round, pid, success="Survey round opened for the rostered users.")
        return
    if open_round.close_notice:  # said before anyone presses Close, and again in the confirmation
        st.warning(common.esc(open_round.close_notice))
    if st.button(f"Close round {open_round.number}", key="close-round"):
        common.ask_confirmation("close-round")
    round_id = open_round.id
    common.personal_links(f"round-{round_id}", sv.issue_survey_links, round_id, f"round {open_round.number}")
    common.confirmation(
        "close-round", "Close the survey round",
        (f"**{common.esc(open_round.close_notice)}**\n\n" if open_round.close_notice else "")
        + f"Close round {open_round.number} with {open_round.n} responses? Answers can no longer be given or "
        "changed, and this round becomes the evidence for the outcome vote.",
        "Close the round", lambda: common.act(sv.close_survey_round, round_id, success="Round closed."))


def claims_tab(me: Me) -> None:
    """The claims on a pilot I know, with their checks."""
    known = common.cached(evaluate_q.my_rostered_pilots)(me.id)
    pid = pilot_picker("Pilot", known, "claims-pilot", "claims")
    if pid is not None:
        d = common.cached(pilots_q.pilot_detail)(me.id, pid)
        views.claims_section(me, pid, [m.name for m in d.metrics] + [c.name for c in d.criteria],
                             may_record=d.may_record_claim)


me = common.page("evaluate", "Evaluate",
                 "After real use: would you miss the tool? Flag what is wrong, and see what was done about it.")
common.tab_for_link("evaluate-tab", LINK_TABS)
tab_survey, tab_feedback, tab_rounds, tab_claims = st.tabs(TABS, key="evaluate-tab", on_change="rerun")
with tab_survey:
    survey_tab(me)
with tab_feedback:
    feedback_tab(me)
with tab_rounds:
    rounds_tab(me)
with tab_claims:
    claims_tab(me)
