"""Views more than one page shows: a vote's tally, and a decision with its frozen basis.

A tally is shown from its stored form (``Tally.as_dict()``: what a closed vote and a
decision's basis keep); a decision's basis is the frozen document itself."""
from __future__ import annotations

import json
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from governance.queries.people import Me
from governance.queries.votes import DecisionDetail, DecisionRow
from governance.rules.evidence import channels_text, in_words
from governance.vocabulary import label
from pages import common


def tally_view(result: dict[str, Any]) -> None:
    """Per-group and combined result, as a chart with the same data as a table."""
    rows = []
    for group, g in result["groups"].items():
        for option, share in g["shares"].items():
            rows.append({"Group": label(group), "Option": label(option), "Share": share,
                         "Ballots": g["counts"].get(option, 0)})
    for option, share in result["combined"].items():
        rows.append({"Group": "Combined (weighted)", "Option": label(option), "Share": share, "Ballots": None})
    # Whole numbers that may be missing (the combined rows have no count): shown as "—".
    frame = pd.DataFrame(rows).astype({"Ballots": "Int64"})
    chart = alt.Chart(frame).mark_bar(aria=False).encode(
        y=alt.Y("Group:N", title=None, axis=alt.Axis(labelLimit=260)),
        x=alt.X("Share:Q", stack="normalize", axis=alt.Axis(format="%")),
        color=alt.Color("Option:N", scale=alt.Scale(range=common.PALETTE)),
        tooltip=["Group", "Option", alt.Tooltip("Share:Q", format=".0%"), "Ballots"])
    # Chart above its table: side by side, the table's last column was cut off at 1400 px.
    st.altair_chart(chart.properties(description=(
        "The share of each option, group by group and combined with the "
        "charter's weights; the table below holds the numbers."
    )), width="stretch")
    shown, config = common.percent_columns(frame, "Share")
    st.dataframe(shown, placeholder=common.NOTHING, hide_index=True, width="stretch", column_config=config)
    groups = pd.DataFrame([{"Group": label(k), "Eligible": g["eligible"], "Voted": g["cast"],
                            "Turnout": g["turnout"], "Quorum": g["quorum"],
                            "Quorum met": "Yes" if g["quorum_met"] else "No",
                            "Weight": g["effective_weight"]} for k, g in result["groups"].items()])
    shown, config = common.percent_columns(groups, "Turnout", "Quorum", "Weight")
    st.dataframe(shown, placeholder=common.NOTHING, hide_index=True, width="stretch", column_config=config)
    for note in result["notes"]:
        st.caption(common.esc(note))


def published_lists(result: dict[str, Any]) -> None:
    """What a closed vote publishes (R17): the named ballots of the groups on the record, and for
    secret groups who took part and every counted (receipt, option) — never a name beside an option."""
    named = result.get("named_ballots") or []
    if named:
        st.markdown("**Ballots on the record by name**")
        st.dataframe(pd.DataFrame([{"Name": b["name"], "Group": label(b["group"]), "Ballot": label(b["option"]),
                                    "Reason": b.get("reason") or ""} for b in named]),
                     placeholder=common.NOTHING, hide_index=True, width="stretch")
    secret = result.get("secret_ballots")
    if secret:
        groups = ", ".join(label(g).lower() for g in secret["groups"])
        st.markdown(f"**Secret ballots** ({groups}): who took part, and every counted receipt with its option")
        left, right = st.columns(2)
        left.dataframe(pd.DataFrame([{"Took part": p["name"], "Group": label(p["group"])}
                                     for p in secret["participants"]]),
                       placeholder=common.NOTHING, hide_index=True, width="stretch")
        right.dataframe(pd.DataFrame([{"Receipt": r["receipt"], "Ballot": label(r["option"])}
                                      for r in secret["receipts"]]),
                        placeholder=common.NOTHING, hide_index=True, width="stretch")


def outcome_statement(statement: str | None) -> None:
    """The closer's outcome statement (or the schedule's), quoted as written."""
    if statement:
        st.markdown("**Outcome statement**")
        st.info(common.esc(statement))
    else:
        st.caption("No outcome statement: this vote closed before outcome statements were kept.")


def decisions_frame(rows: list[DecisionRow]) -> pd.DataFrame:
    return pd.DataFrame([{"#": r.id, "Pilot": r.pilot, "Outcome": label(r.outcome),
                          "Declared": common.when(r.declared_at), "Vote closed by": r.declared_by,
                          "Flag": "ADOPTED DESPITE FAILED THRESHOLD" if r.adopt_override else "",
                          "Basis SHA-256": r.basis_sha256} for r in rows])


def plain_table(rows: list[dict[str, Any]]) -> None:
    """A short table whose cells wrap (``st.table``), so no column is cut off in a half-width
    column; every cell is escaped, since a static table renders markdown."""
    if rows:
        st.table(pd.DataFrame([{k: common.esc(v) for k, v in row.items()} for row in rows]), hide_index=True)
    else:
        st.caption("Nothing declared yet.")


def value_in_unit(value: float | None, unit: str) -> str:
    """A measured value or target in its unit's words: a share as a percentage ("40 %"), a
    percentage with its sign, anything else as the number."""
    if value is None:
        return "—"
    if unit == "share":
        return common.pct(value)
    return f"{value:g} %" if unit == "percent" else f"{value:g}"


def target_text(target: float, direction: str, unit: str) -> str:
    """A target with its direction in words, one short column instead of two that get cut off:
    "at least 40 %", "at most 3"."""
    return f"{'at most' if direction == 'lower_is_better' else 'at least'} {value_in_unit(target, unit)}"


def _flag(amended: bool) -> str:
    return "AMENDED AFTER REAL USE BEGAN" if amended else ""


def _voters_text(basis: dict[str, Any]) -> str:
    """How many voted: those on the record by name and, apart, those who voted in secret."""
    named = len(basis.get("voters") or [])
    secret = len((basis.get("secret_ballots") or {}).get("participants") or [])
    if not secret:
        return f"{named} voters"
    return f"{named + secret} voters ({named} on the record by name, {secret} in secret)"


def decision_view(dd: DecisionDetail) -> None:
    """Who declared what, when, and on what basis — read from the frozen basis.

    Long on purpose: the sections of one declaration, top to bottom, as an auditor reads them.
    """
    basis = dd.basis
    st.markdown(f"## {common.esc(basis['pilot']['title'])}: {label(dd.outcome)}")
    if dd.basis_intact:
        st.success("The stored basis matches its SHA-256: it is exactly what was frozen at the declaration.")
    else:
        st.error("The stored basis does NOT match its SHA-256: it was altered after the declaration.")
    if dd.adopt_override:
        st.warning("Adopted although the indispensability threshold was not met (the charter allowed an "
                   "override).")
    outcome_statement(dd.outcome_statement)
    ind = basis["indispensability"]
    a, b, c, e = st.columns(4)
    a.metric("Indispensability", common.pct(ind["score"]) if ind and ind["score"] is not None else "—",
             help=ind["text"] if ind else None)
    b.metric("Respondents (n)", ind["n"] if ind else 0, help=channels_text(basis.get("survey_channels")) or None)
    c.metric("SUS mean", f"{basis['sus_mean']:.0f}" if basis["sus_mean"] is not None else "—")
    adoption = basis["adoption"]
    e.metric("Adoption (latest week)", common.pct(adoption["adoption"]) if adoption else "—")
    if ind:  # the interval in words; the frozen text (with "95 % CI") is in the metric's help
        split = channels_text(basis.get("survey_channels"))
        st.markdown("Indispensability: " + common.esc(in_words(ind) if "status" in ind else ind["text"])
                    + (f" ({split})" if split else ""))
    st.caption(f"Declared {common.when(dd.declared_at)} · vote closed by "
               f"{common.esc(basis['closed_by']['name'])} · {_voters_text(basis)} · charter "
               f"v{basis['charter']['version']} · audit chain head #{dd.chain_head_seq} "
               f"`{dd.chain_head_hash[:16]}…`")
    lock = basis["locked_criteria"]
    st.markdown(f"**Pre-registered criteria** — locked {common.when_text(lock['locked_at'])}, "
                f"SHA-256 `{lock['sha256']}`")
    status = {c["name"]: c for c in basis["frontline_criteria_latest"]}

    def latest(name: str, unit: str) -> str:
        row = status.get(name)
        return value_in_unit(row["latest"]["value"] if row and row["latest"] else None, unit)

    st.dataframe(pd.DataFrame([{
        "Criterion": c["name"], "Target": target_text(c["target"], c["direction"], c.get("unit", "")),
        "Latest": latest(c["name"], c.get("unit", "")),
        "Flag": _flag(bool(status.get(c["name"], {}).get("amended_after_real_use")))}
        for c in lock["criteria"]]), placeholder=common.NOTHING, hide_index=True, width="stretch")
    st.markdown(f"**Commissioning metrics** — locked at real use, SHA-256 "
                f"`{basis['commissioning_metrics']['sha256_at_real_use']}`")
    st.dataframe(pd.DataFrame([{
        "Metric": m["name"], "Target": target_text(m["target"], m["direction"], m.get("unit", "")),
        "Latest": value_in_unit(m["latest"]["value"] if m["latest"] else None, m.get("unit", "")),
        "On target": "—" if m["on_target"] is None else ("Yes" if m["on_target"] else "No"),
        "Flag": _flag(m["amended_after_real_use"])} for m in basis["commissioning_metrics"]["latest"]]),
        placeholder=common.NOTHING, hide_index=True, width="stretch")
    if basis["amendments"]:
        st.markdown("**Amendments on record**")
        st.dataframe(pd.DataFrame([{"Change": common.change_text(a["before"], a["after"]),
                                    "Reason": a["reason"], "Flag": _flag(a["after_real_use"])}
                                   for a in basis["amendments"]]),
                     placeholder=common.NOTHING, hide_index=True, width="stretch")
    st.markdown("**The binding vote**")
    tally_view(basis["tally"])
    if basis.get("secret_ballots") is None:
        st.caption("Open ballot (before secret ballots existed): every voter is listed with their ballot.")
    st.markdown("**Voters on the record by name** (their last ballot)")
    st.dataframe(pd.DataFrame([{"Name": v["name"], "Group": label(v["group"]), "Ballot": label(v["option"]),
                                "Reason": v.get("reason") or "", "Cast": common.when_text(v["cast_at"])}
                               for v in basis["voters"]]),
                 placeholder=common.NOTHING, hide_index=True, width="stretch")
    secret = basis.get("secret_ballots")
    if secret:
        published_lists({"secret_ballots": secret})
    changes = basis.get("roster_changes_after_real_use")
    if changes and (changes["added"] or changes["removed"]):
        st.warning(f"Roster changed after real use: +{changes['added']} −{changes['removed']}. "
                   + " ".join(f"Removed: {common.esc(r['reason'])}." for r in changes["removals"]))
    with st.expander("The full frozen basis (JSON)"):
        st.code(json.dumps(basis, indent=2, ensure_ascii=False), language="json")


def claim_card(claim: Any, heading: str) -> None:
    """One claim in a bordered card: ``heading`` (markdown, already escaped), its statement, and
    the checks against it now (the Audit page's list and a pilot's claims show the same card)."""
    with st.container(border=True):
        st.markdown(heading)
        st.markdown(f"“{common.esc(claim.statement)}”")
        for flag in claim.flags_now:
            common.badge("fail", flag)
        if not claim.flags_now:
            common.badge("pass", "no flags")


def claims_section(person: Me, pilot_id: int, metric_names: list[str], *, may_record: bool) -> None:
    """A pilot's claims with their checks, and the form to record one (R12) if ``may_record``
    (``PilotDetail.may_record_claim``). A refused claim keeps everything typed, with every
    problem listed; a recorded one empties the form."""
    from governance.queries.evaluate import claims_for_pilot
    from governance.services import record_claim

    st.caption("A claim is a non-binding statement of success or failure. It is recorded with the metrics it "
               "cites and checked against what was pre-registered and against the binding decision.")
    for c in common.cached(claims_for_pilot)(person.id, pilot_id):
        claim_card(c, f"{common.esc(c.made_by)}, {common.when(c.made_at)} · NON-BINDING · cites "
                      f"{common.esc(', '.join(c.cited))}")
    if may_record:
        keys = tuple(f"claim-{pilot_id}-{part}" for part in ("statement", "cited", "success"))
        with st.form(f"claim-{pilot_id}", clear_on_submit=False):
            statement = st.text_area("Claim", placeholder="e.g. The pilot met its KPIs.", key=keys[0])
            cited = st.multiselect("Metrics it rests on", metric_names, accept_new_options=True, key=keys[1])
            success = st.radio("Does it claim success?", ["Yes", "No"], horizontal=True, key=keys[2])
            if st.form_submit_button("Record claim"):
                common.act(record_claim, pilot_id, statement=statement, cited_metrics=cited,
                           asserts_success=success == "Yes", success="Claim recorded with its checks.",
                           clear=keys)


def reminders_setting(person_id: int) -> None:
    """Everyone can turn their own email reminders off (and on again), on "Your account"."""
    from governance.queries.people import reminders_off
    from governance.services.reminders import set_my_reminders

    st.subheader("Reminders")
    off = common.cached(reminders_off)(person_id)
    wanted = st.toggle("Email me reminders (votes closing, surveys open, feedback due)", value=not off,
                       key="reminders-on")
    if wanted == off:
        common.act(set_my_reminders, off=not wanted,
                   success="Reminders turned on." if wanted else "Reminders turned off.")
