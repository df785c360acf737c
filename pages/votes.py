"""Votes: binding ballots for me, results after close, decisions with their basis."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from governance import services as sv
from governance.queries import (
    participation as participation_q,
    people as people_q,
    pilots as pilots_q,
    votes as votes_q,
)
from governance.rules.ballots import REASON_MAX
from governance.rules.evidence import channels_text
from governance.rules.permissions import Action, allowed
from governance.rules.statements import STATEMENT_MAX
from governance.vocabulary import PilotState, VoteStatus, label
from pages import common, views

me = common.page("votes", "Votes",
                 "Binding votes: cast or change your ballot until the vote closes; see results and decisions.")
tab_open, tab_closed, tab_decisions, tab_mine = st.tabs(["Open votes", "Closed votes", "Decisions",
                                                         "My participation"], key="votes-tab", on_change="rerun")


def vote_panel(vote_id: int) -> None:
    v = common.cached(votes_q.vote_detail)(me.id, vote_id)
    st.markdown(f"## {common.esc(v.question)}")
    cols = st.columns([1, 1, 3])
    with cols[0]:
        common.badge(v.status)
    with cols[1]:
        common.badge("open", label(v.kind))
    cols[2].caption(f"Opened {common.when(v.opened_at)} · closes {common.when(v.deadline)} · "
                    f"{v.cast} of {v.eligible_total} eligible have voted")
    if v.evidence:
        st.info(f"Evidence fixed when the vote opened — indispensability: "
                f"{common.esc(v.evidence['indispensability']['text'])}")
    if v.proposed_outcome:
        st.warning(f"Proposed outcome: **{label(v.proposed_outcome)}** — the pilot did not meet its "
                   "pre-registered indispensability threshold, which is a design signal: the problem is revisited.")
    if v.status == VoteStatus.OPEN:
        ballot_form(v, vote_id)
        st.caption("Running tallies stay hidden from everyone until the vote closes; turnout shows.")
        turnout_table(v)
        close_control(v, vote_id)
    else:
        closed_view(v, vote_id)


def ballot_form(v: votes_q.VoteDetail, vote_id: int) -> None:
    """Cast or change my ballot, saying plainly whether it is secret (R17)."""
    if not v.may_cast:
        if v.my_group:
            st.caption("You were among this vote's eligible voters when it opened, but you no longer belong "
                       "to your group, so you cannot cast or change a ballot; one cast earlier still counts.")
        else:
            st.caption("You are not among this vote's eligible voters (they were fixed when it opened).")
        return
    st.markdown(f"You vote in the **{label(v.my_group)}** group.")
    st.info(v.ballot_privacy)
    current = v.current_ballot
    if current is not None:
        st.markdown(f"Your current ballot: **{label(current)}**. Choose again below to change it.")
    with st.form(f"ballot-{vote_id}"):
        # Nothing pre-selected, even when changing a ballot: in a radio group the arrow keys
        # select as they move, so a pre-selected group changes a ballot by accident. The
        # submit button is the next Tab stop after the group; the dialog then confirms.
        option = st.radio("Your ballot", v.options, format_func=label, index=None)
        reason = None
        if v.my_ballot_is_secret:
            # R17: words of one's own beside a secret ballot could tell whose it is; none is asked.
            st.caption("A secret ballot carries no reason: words of your own beside it could tell whose it is.")
        else:
            reason = st.text_area("Your reason (optional, shown beside your ballot after the close)",
                                  max_chars=REASON_MAX, placeholder="e.g. It saves me re-keying every referral.",
                                  value=next((h.reason or "" for h in v.my_history if h.is_current), ""))
        if st.form_submit_button("Cast my ballot" if current is None else "Change my ballot", type="primary"):
            if option is None:
                st.error("Choose an option first.")
            else:
                st.session_state[f"_ballot_choice-{vote_id}"] = (option, reason or None)
                common.ask_confirmation(f"ballot-{vote_id}")
    choice, why = st.session_state.get(f"_ballot_choice-{vote_id}") or (None, None)
    secret = ("It is secret: you get a receipt to check it by after the close." if v.my_ballot_is_secret
              else "It is on the record by name.")
    common.confirmation(
        f"ballot-{vote_id}", "Cast a binding ballot",
        f"Your ballot **{label(choice)}** is binding. {secret} You can change it until the vote closes; only "
        "the latest counts.", "Cast ballot",
        lambda: common.act(sv.cast_ballot, vote_id, choice, reason=why, success=cast_message(v)))
    if v.my_receipt:
        st.success(f"Your receipt: **{v.my_receipt}** — keep it: after the close, find it in the published "
                   "list with your option. A changed ballot gets a new receipt; the old one is not counted.")
    if v.my_history:
        st.caption("Your ballots: " + " → ".join(
            label(h.option) + (f" ({common.when(h.cast_at)})" if h.cast_at else "")
            + (f" — “{common.esc(h.reason)}”" if h.reason else "") for h in v.my_history))


def cast_message(v: votes_q.VoteDetail) -> str:
    if v.my_ballot_is_secret:
        return "Your secret ballot is recorded. Your receipt is shown with the vote."
    return "Your ballot is recorded."


def turnout_table(v: votes_q.VoteDetail) -> None:
    """Who has voted: counts for every group, names of those not yet voted in groups on the record.

    One stacked block per group, not a table: the names wrap on a phone instead of running off it."""
    if not v.turnout:
        return
    st.markdown("**Turnout**")
    if (v.channels or {}).get("paper"):
        st.caption(f"Ballots: {channels_text(v.channels)} (entered from attested paper sheets; they count "
                   "like online ones).")
    for t in v.turnout:
        with st.container(border=True):
            st.markdown(f"**{label(t.group)}** — {t.voted} of {t.eligible} have voted · "
                        + ("secret ballots" if t.secret else "ballots on the record by name"))
            if t.secret:
                st.caption("Secret group: counts only — nobody is named until the close.")
            elif t.not_voted:
                st.caption("Not voted yet: " + common.esc(", ".join(t.not_voted)))
            else:
                st.caption("Everyone in this group has voted.")


def close_control(v: votes_q.VoteDetail, vote_id: int) -> None:
    """R16: the vote closes at its deadline by itself; earlier only when everyone has voted."""
    if not v.is_closer:
        st.caption(f"The vote closes by itself at its deadline, {common.when(v.deadline)}.")
        return
    common.personal_links(f"vote-{vote_id}", sv.issue_vote_links, vote_id, "those who have not voted")
    if not v.may_close:
        st.button("Close this vote now", key=f"close-{vote_id}", disabled=True,
                  help="Available when every eligible voter has voted, or at the deadline.")
        st.caption(f"It closes by itself at its deadline, {common.when(v.deadline)}. It can close earlier only "
                   f"when every eligible voter has voted: {v.cast} of {v.eligible_total} have. "
                   "Nobody picks the moment.")
        return
    with st.form(f"close-form-{vote_id}"):
        statement = st.text_area("Outcome statement (required: what was decided and what happens next, in "
                                 "plain words; it is kept with the result)", max_chars=STATEMENT_MAX,
                                 placeholder="e.g. The panel chose to iterate: the team fixes the referral "
                                             "export and the panel reviews it in six weeks.")
        if st.form_submit_button("Close this vote now"):
            if not statement.strip():
                st.error("Write the outcome statement first: whoever closes a vote says what it decided.")
            else:
                st.session_state[f"_close_statement-{vote_id}"] = statement
                common.ask_confirmation(f"close-{vote_id}")
    words = st.session_state.get(f"_close_statement-{vote_id}", "")
    common.confirmation(
        f"close-{vote_id}", "Close the vote",
        f"Every eligible voter has voted ({v.cast} of {v.eligible_total}), or the deadline has passed. Closing "
        "is final: the result is computed from the latest ballots and published with your outcome statement, "
        "and for a pilot outcome the decision is declared with its basis frozen.", "Close the vote",
        lambda: common.act(sv.close_vote, vote_id, statement=words, success="Vote closed."))


def closed_view(v: votes_q.VoteDetail, vote_id: int) -> None:
    st.markdown(f"Closed {common.when(v.closed_at)} by {common.esc(v.closed_by)}.")
    views.outcome_statement(v.outcome_statement)
    if v.secret_groups is None:
        st.caption("Open ballot (before secret ballots existed): every ballot was on the record by name.")
    if v.result:
        winner = v.result["winner"]
        if winner:
            st.success(f"Result: **{label(winner)}**")
        else:
            st.error("No binding result: " + common.esc(" ".join(v.result["notes"])))
        views.tally_view(v.result)
        if v.my_receipt:
            counted = next((e["option"] for e in (v.result.get("secret_ballots") or {}).get("receipts", [])
                            if e["receipt"] == v.my_receipt), None)
            (st.success if counted == v.current_ballot else st.error)(
                f"Your receipt **{v.my_receipt}** is in the published list with the option "
                f"**{label(counted)}**" + (" — as you cast it." if counted == v.current_ballot
                                           else f", but you cast {label(v.current_ballot)}: tell an auditor."))
        views.published_lists(v.result)
        receipt_check(vote_id)
    if v.decision_id:
        st.markdown(f"Decision #{v.decision_id} — see the Decisions tab.")


def receipt_check(vote_id: int) -> None:
    """Anyone recounts the published lists; a voter finds their receipt (R17)."""
    left, right = st.columns(2)
    with left.form(f"receipt-{vote_id}"):
        receipt = st.text_input("Check a receipt", placeholder="e.g. 7KQ2M-9XD3R")
        if st.form_submit_button("Check"):
            found = common.read_or_error(votes_q.check_receipt, vote_id, receipt)
            if found is not None:
                if found.found:
                    st.success(f"Receipt {found.receipt} was counted, with the option {label(found.option)}.")
                else:
                    st.error(f"Receipt {found.receipt} is not among the counted ballots. Check how you typed "
                             "it; a receipt replaced by a later change of ballot is not counted.")
    if right.button("Recount the published lists", key=f"recount-{vote_id}"):
        again = common.read_or_error(votes_q.recount_vote, vote_id)
        if again is not None:
            (right.success if again.matches else right.error)(
                f"{again.detail} Recounted {again.counted} ballots: {label(again.recounted_winner)}.")


def vote_list(status: str, mine_only: bool, key: str, choose_label: str, empty: str,
              columns: Callable[[votes_q.VoteRow], dict[str, Any]]) -> None:
    """A paginated list of votes, and the chosen one's panel."""
    listing = common.cached(votes_q.votes_page)(me.id, status=status, mine_only=mine_only,
                                                page=st.session_state.get(f"{key}-page", 1))
    if not listing.rows:
        st.info(empty)
        return
    st.caption("Select a row to view the vote, or choose it below.")
    # What a person looks for first comes first: on a phone the grid shows its first columns.
    common.selectable(pd.DataFrame([{"On": r.subject, **columns(r), "Kind": label(r.kind), "#": r.id}
                                    for r in listing.rows]), [r.id for r in listing.rows], chooser=key)
    common.pager(f"{key}-page", listing.total, listing.per_page)
    chosen = common.choose(choose_label, {r.id: r.subject for r in listing.rows}, key=key, param=key)
    if chosen:
        vote_panel(chosen)


with tab_open:
    if allowed(me.roles, Action.OPEN_OUTCOME_VOTE):
        with st.expander("Start an outcome vote on a pilot", icon=":material/how_to_vote:"):
            in_use = common.cached(pilots_q.pilots_page)(
                me.id, states=(PilotState.IN_USE, PilotState.EVALUATING), per_page=200).rows
            # Offered only once its evaluation window has passed (the rule's date, from the read model).
            candidates = {p.id: p.title for p in in_use if p.window_open}
            waiting = [p for p in in_use if not p.window_open and p.window_opens_at is not None]
            if waiting:
                st.caption("Not yet open to an outcome vote (the evaluation window of real use has not passed): "
                           + "; ".join(f"{common.esc(p.title)} — from {common.when(p.window_opens_at)}"
                                       for p in waiting))
            with st.form("open-outcome"):
                pid = st.selectbox("Pilot", list(candidates), format_func=lambda i: candidates[i])
                terms = common.cached(people_q.charter_in_force)(me.id)
                days = st.number_input(f"Days the vote stays open (the charter allows {terms.vote_min_days} to "
                                       f"{terms.vote_max_days})", min_value=terms.vote_min_days,
                                       max_value=terms.vote_max_days,
                                       value=max(terms.vote_min_days, min(7, terms.vote_max_days)))
                if st.form_submit_button("Start the vote", type="primary"):
                    if pid is None:
                        st.error("Choose a pilot in real use.")
                    else:
                        common.act(sv.open_outcome_vote, pid, days=int(days), success="Outcome vote opened.")
    # Whoever oversees every vote (may read running tallies) sees them all by default.
    mine_only = st.toggle("Only votes I can vote in", value=not allowed(me.roles, Action.READ_RUNNING_TALLY),
                          key="votes-mine")
    vote_list("open", mine_only, "open-vote", "View an open vote", "No open votes here.",
              lambda r: {"My ballot": label(r.my_ballot) if r.my_ballot else
                         ("not cast" if r.my_group else "not eligible"),
                         "Closes": common.when(r.deadline)})

with tab_closed:
    vote_list("closed", False, "closed-vote", "View a closed vote", "No closed votes yet.",
              lambda r: {"Closed": common.when(r.closed_at),
                         "Result": label(r.outcome) if r.outcome else
                         ("passed" if r.passed else "not passed")})

with tab_decisions:
    decisions = common.cached(votes_q.decisions_page)(me.id, page=st.session_state.get("decisions-page", 1))
    if decisions.rows:
        common.selectable(views.decisions_frame(decisions.rows), [r.id for r in decisions.rows], chooser="decision")
        common.pager("decisions-page", decisions.total, decisions.per_page)
        chosen = common.choose("View a decision", {r.id: r.pilot for r in decisions.rows}, key="decision",
                               param="decision")
        if chosen:
            views.decision_view(common.cached(votes_q.decision_detail)(me.id, chosen))
    else:
        st.info("No binding decisions yet.")

with tab_mine:
    st.caption("Every vote you were eligible for, open and closed: whether you voted, your ballot (or, in a "
               "secret group, your receipt), your reason, and the result once the vote closed.")
    mine = common.cached(participation_q.my_participation)(me.id, page=st.session_state.get("mine-page", 1))
    if not mine.rows:
        st.info("You have not been eligible for any vote yet.")
    for p in mine.rows:
        with st.container(border=True):
            st.markdown(f"**{common.esc(p.subject)}** · {label(p.kind)} · vote #{p.vote_id}")
            when = (f"Open — closes {common.when(p.deadline)}" if p.is_open
                    else f"Closed {common.when(p.closed_at)}")
            st.caption(f"{when} · you vote in the {label(p.group).lower()} group"
                       + (" (secret ballot)" if p.secret else " (on the record by name)"))
            if not p.voted:
                st.markdown("You have **not voted**" + (" yet." if p.is_open else "."))
            elif p.secret:
                st.markdown(f"You voted. Your receipt: **{p.receipt or '—'}**" + (
                    " — find it in the published list." if not p.is_open else " — keep it to check after the close."))
            else:
                st.markdown(f"Your ballot: **{label(p.ballot)}**"
                            + (f" — your reason: “{common.esc(p.reason)}”" if p.reason else " — no reason given."))
            if not p.is_open:
                st.markdown("Result: " + (f"**{label(p.result)}**" if p.result else
                                          "no binding result" + ("" if p.quorum_met else " (quorum not met)")))
    common.pager("mine-page", mine.total, mine.per_page)
