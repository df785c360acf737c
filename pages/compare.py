"""Compare: the commissioning team's metrics beside the frontline's verdict."""
from __future__ import annotations

from typing import Any, Literal

import altair as alt
import pandas as pd
import streamlit as st

from governance.queries import compare as compare_q, pilots as pilots_q
from governance.vocabulary import label
from pages import common, views

me = common.page("compare", "Compare",
                 "Commissioning attainment against frontline indispensability: where the views diverge.")
rows = common.cached(compare_q.compare_pilots)(me.id)
if not rows:
    st.info("No pilot has reached real use yet.")
    st.stop()

frame = pd.DataFrame([{
    "Pilot": r.title, "id": r.pilot_id, "State": label(r.state), "Quadrant": r.quadrant_label,
    "Commissioning attainment": r.attainment, "Indispensability": r.indispensability,
    "Low (95%)": r.low, "High (95%)": r.high, "Respondents": r.respondents, "Threshold": r.threshold,
    "Likely between": "—" if r.low is None or r.high is None else f"{common.pct(r.low)} – {common.pct(r.high)}",
    "Evidence": {"pass": "meets threshold", "fail": "below threshold",
                 "insufficient": f"insufficient ({r.respondents} of {r.minimum_n} answers)",
                 "none": "no survey yet"}[r.status],
    "Adoption": r.adoption,
    "Flags": "; ".join(f for f in (("divergent" if r.divergent else ""),
                                   ("compliance adoption" if r.compliance_adoption else "")) if f),
} for r in rows]).round({"Commissioning attainment": 3, "Indispensability": 3, "Low (95%)": 3,
                         "High (95%)": 3, "Adoption": 3})
SHARES = ("Commissioning attainment", "Indispensability", "Adoption")

a, b, c, d = st.columns(4)
a.metric("Pilots in or after real use", len(rows))
b.metric("Looks brilliant from altitude", sum(r.quadrant == "brilliant_from_altitude" for r in rows))
c.metric("Compliance adoption", sum(r.compliance_adoption for r in rows))
d.metric("Awaiting evidence", sum(r.quadrant == "awaiting_evidence" for r in rows))

st.header("Quadrants")
st.caption("Across: the share of the commissioning team's own metrics on target. Up: the share of rostered users "
           "who would be very disappointed to lose the tool, with its 95 % confidence interval — the range the "
           "true share is likely in, given how many answered (the fewer the answers, the longer the bar). "
           "Pilots without enough evidence are listed in the table, not plotted as if they passed.")
plotted = frame.dropna(subset=["Commissioning attainment", "Indispensability"])
threshold = float(pd.Series([r.threshold for r in rows]).median())
quadrant_order = list(compare_q.QUADRANTS.values())
colour = alt.Color("Quadrant:N", scale=alt.Scale(domain=quadrant_order, range=common.PALETTE[:5]),
                   legend=alt.Legend(orient="bottom", columns=2, labelLimit=260))
shape = alt.Shape("Quadrant:N", scale=alt.Scale(domain=quadrant_order,
                                                range=["circle", "triangle-down", "diamond", "square", "cross"]))
base = alt.Chart(plotted)
points = base.mark_point(filled=True, size=140, opacity=0.9, aria=False).encode(
    x=alt.X("Commissioning attainment:Q", title="Commissioning metrics on target",
            scale=alt.Scale(domain=[-0.05, 1.05], nice=False),
            axis=alt.Axis(format="%", values=[0, 0.25, 0.5, 0.75, 1])),
    y=alt.Y("Indispensability:Q", title="Very disappointed without it (95 % interval)",
            scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
    color=colour, shape=shape,
    tooltip=["Pilot", "State", "Quadrant", alt.Tooltip("Commissioning attainment:Q", format=".0%"),
             alt.Tooltip("Indispensability:Q", format=".0%"), alt.Tooltip("Low (95%):Q", format=".0%"),
             alt.Tooltip("High (95%):Q", format=".0%"), "Respondents", alt.Tooltip("Adoption:Q", format=".0%"),
             "Flags"])
bars = base.mark_rule(strokeWidth=2, opacity=0.6, aria=False).encode(
    x="Commissioning attainment:Q", y="Low (95%):Q", y2="High (95%):Q", color=colour)
# The marks stay out of the accessibility tree (aria=False): the chart's description says what it shows
# and the table beside it holds every value, which a screen reader reads far better than marks.
rule_y = alt.Chart(pd.DataFrame({"y": [threshold]})).mark_rule(
    strokeDash=[6, 4], color="#444", aria=False).encode(y="y:Q")
rule_x = alt.Chart(pd.DataFrame({"x": [compare_q.COMMISSIONING_HIGH]})).mark_rule(
    strokeDash=[2, 4], color="#888", aria=False).encode(x="x:Q")
def quadrant_labels(align: Literal["left", "right"], rows: list[dict[str, Any]]) -> alt.Chart:
    return alt.Chart(pd.DataFrame(rows)).mark_text(
        fontSize=12, fontWeight="bold", color="#555", align=align, baseline="middle", aria=False).encode(
        x="x:Q", y="y:Q", text="text:N")


labels = quadrant_labels("right", [{"x": 1.04, "y": 0.97, "text": "Indispensable & on target"},
                                   {"x": 1.04, "y": 0.03, "text": "Looks brilliant from altitude"}]) + \
    quadrant_labels("left", [{"x": -0.04, "y": 0.97, "text": "Valued but off-metric"},
                             {"x": -0.04, "y": 0.03, "text": "Neither"}])
# The chart, then its table under it at the full width: beside a half-width chart the table's key
# columns were cut off at 1400 px.
st.altair_chart((rule_y + rule_x + bars + points + labels).properties(
    height=460, description=(
        "Each pilot by commissioning metrics on target (across) and the share "
        "of users very disappointed without it (up), with its 95 % interval; "
        "the table under it lists the same pilots."
    )),
    width="stretch")
# The chart's values, a row per pilot (the ends of the interval said as "likely between"), in widths
# that fit beside the sidebar at 1400 px; a row opens the pilot side by side below.
PLOTTED = {"Commissioning attainment": "On target", "Indispensability": "Very disappointed"}
listed, _ = common.percent_columns(
    frame[["Pilot", "Quadrant", "Commissioning attainment", "Indispensability", "Likely between", "Respondents"]]
    .rename(columns={"Respondents": "Answers"}), *SHARES)
common.selectable(listed.rename(columns=PLOTTED), [r.pilot_id for r in rows], chooser="compare-pilot",
                  column_config={"Pilot": st.column_config.TextColumn(width=250),
                                 "Quadrant": st.column_config.TextColumn(width=180),
                                 "On target": common.percent_column(85),
                                 "Very disappointed": common.percent_column(130),
                                 "Likely between": st.column_config.TextColumn(width=120),
                                 "Answers": st.column_config.NumberColumn(width=75)})
st.caption("Select a row to see that pilot side by side below.")
st.caption(f"Dashed line: indispensability threshold ({common.pct(threshold)}). Dotted line: commissioning "
           f"'on target' ({common.pct(compare_q.COMMISSIONING_HIGH)} of metrics).")

flagged = frame[frame["Flags"] != ""]
st.header("Divergence and compliance-adoption flags")
if flagged.empty:
    st.caption("No pilot is flagged.")
else:
    shown, config = common.percent_columns(flagged[["Pilot", "Quadrant", "Commissioning attainment",
                                                     "Indispensability", "Adoption", "Flags"]], *SHARES)
    st.dataframe(shown.rename(columns=PLOTTED), placeholder=common.NOTHING, hide_index=True, width="stretch",
                 column_config={"Pilot": st.column_config.TextColumn(width=210),
                                "Quadrant": st.column_config.TextColumn(width=170),
                                "On target": common.percent_column(85),
                                "Very disappointed": common.percent_column(125),
                                "Adoption": common.percent_column(80),
                                "Flags": st.column_config.TextColumn(width=200)})

st.header("Side by side")
chosen = common.choose("Pilot", {r.pilot_id: r.title for r in rows}, key="compare-pilot", param="pilot")
if chosen:
    detail = common.cached(pilots_q.pilot_detail)(me.id, chosen)
    left, right = st.columns(2)
    with left:
        st.markdown("**Commissioning metrics against target**")
        views.plain_table([{"Metric": m.name, "Target": views.target_text(m.target, m.direction, m.unit),
                            "Latest": views.value_in_unit(m.latest.value if m.latest else None, m.unit),
                            "On target": "—" if m.on_target is None else ("Yes" if m.on_target else "No"),
                            "Flag": "amended after real use" if m.amended_after_real_use else ""}
                           for m in detail.metrics])
    with right:
        st.markdown("**Frontline criteria and indispensability**")
        ev = detail.evidence.indispensability
        st.metric("Indispensability", common.pct(ev.score) if ev.score is not None else "—", help=ev.text)
        st.caption(common.esc(ev.words) + f" ({detail.evidence.channels_text})")
        usage = detail.latest_usage
        st.metric("Adoption (latest week)", common.pct(usage.adoption) if usage else "—")
        views.plain_table([{"Criterion": c.name, "Target": views.target_text(c.target, c.direction, c.unit),
                            "Latest": views.value_in_unit(c.latest.value if c.latest else None, c.unit),
                            "Flag": "amended after real use" if c.amended_after_real_use else ""}
                           for c in detail.criteria])

st.header("Trust ledger over time")
ledger = pd.DataFrame([{"month": m.month, "indispensable": m.indispensable,
                        "not_indispensable": m.not_indispensable,
                        "cumulative_indispensable": m.cumulative_indispensable,
                        "cumulative_not_indispensable": m.cumulative_not_indispensable}
                       for m in compare_q.trust_ledger(rows)])
if ledger.empty:
    st.caption("No pilot has been evaluated yet.")
else:
    long = ledger.melt(id_vars=["month"], value_vars=["indispensable", "not_indispensable"],
                       var_name="Verdict", value_name="Pilots")
    long["Verdict"] = long["Verdict"].map({"indispensable": "Found indispensable",
                                           "not_indispensable": "Not indispensable"})
    chart = alt.Chart(long).mark_bar(aria=False).encode(
        x=alt.X("month:O", title="Month evaluated"), y=alt.Y("Pilots:Q", stack=True),
        color=alt.Color("Verdict:N", scale=alt.Scale(range=[common.PALETTE[2], common.PALETTE[3]])),
        tooltip=["month", "Verdict", "Pilots"])
    st.altair_chart(chart.properties(description=(
        "Pilots found indispensable or not, month by month; the table under it "
        "holds the numbers."
    )), width="stretch")
    st.dataframe(ledger.rename(columns={"month": "Month", "indispensable": "Indispensable",
                                        "not_indispensable": "Not indispensable",
                                        "cumulative_indispensable": "Running total: indispensable",
                                        "cumulative_not_indispensable": "Running total: not"}),
                 placeholder=common.NOTHING, hide_index=True, width="stretch",
                 column_config={"Month": st.column_config.TextColumn(width=110),
                                **{name: st.column_config.NumberColumn(width=180) for name in (
                                    "Indispensable", "Not indispensable", "Running total: indispensable",
                                    "Running total: not")}})
