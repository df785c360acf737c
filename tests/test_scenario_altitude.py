"""The pilot that "looks brilliant from altitude".

Commissioning metrics all on target; weekly usage rising to 83 % of the
roster; yet only 12 of 40 rostered users would be very disappointed to lose
the tool (30 %, under the 40 % threshold). The commissioning team claims
success before the vote; the binding vote ends in a decision that is not
"adopt"; a success claim made after the decision is flagged as contradicting
it; and the Compare read model puts the pilot in the "looks brilliant from
altitude" quadrant (with the compliance-adoption flag).

Run with ``-s`` to see the decision, its basis and the claims' flags as the
product reports them.
"""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from governance import services as sv
from governance.errors import RuleViolation
from governance.queries.audit import ClaimRow
from governance.queries.evaluate import claims_for_pilot
from governance.queries.votes import DecisionDetail, decision_detail
from governance.storage.models import Claim, CommissioningMetric, Decision, Problem, ProblemReopening
from governance.vocabulary import SurveyAnswer, label

USAGE_EXAMPLE = Path(__file__).resolve().parent.parent / "data" / "usage_example.csv"
CLAIM = "The referral assistant met all its KPIs: 97% extraction accuracy and 4.6 minutes saved per letter."


def read(world, fn):
    with world.db.uow().reading() as s:
        out = fn(s)
        s.expunge_all()
    return out


def answers_of_forty() -> list[tuple[str, str]]:
    """12 very, 10 somewhat, 14 not disappointed, 4 no longer use it — with what they would use instead."""
    return ([(SurveyAnswer.VERY_DISAPPOINTED, "")] * 12
            + [(SurveyAnswer.SOMEWHAT_DISAPPOINTED, "Copy-paste between the two systems")] * 10
            + [(SurveyAnswer.NOT_DISAPPOINTED, "Manual re-keying; it is faster for short letters")] * 14
            + [(SurveyAnswer.NO_LONGER_USE, "I stopped after week two")] * 4)


def sus_for(i: int) -> list[int]:
    patterns = ([3] * 10, [4, 2, 3, 3, 3, 3, 4, 2, 3, 3], [2, 4, 3, 3, 2, 4, 3, 3, 2, 4])
    return patterns[i % 3]


def show(decision: DecisionDetail, claims: list[ClaimRow], comparison) -> str:
    b = decision.basis
    ind = b["indispensability"]
    t = b["tally"]
    lines = [
        "",
        "=" * 78,
        f"DECISION #{decision.id} on '{b['pilot']['title']}': {label(decision.outcome).upper()}",
        f"  declared {decision.declared_at:%d %b %Y %H:%M} UTC, closed by {b['closed_by']['name']}; "
        f"charter v{b['charter']['version']}",
        f"  basis SHA-256 {decision.basis_sha256}  (intact: {decision.basis_intact})",
        f"  audit chain head at close: #{b['audit_chain_head']['seq']} {b['audit_chain_head']['hash'][:16]}…",
        "BASIS",
        f"  locked criteria  {b['locked_criteria']['sha256'][:16]}… "
        f"({', '.join(c['name'] for c in b['locked_criteria']['criteria'])})",
        f"  indispensability {ind['text']}",
        f"                   Wilson 95% [{ind['low']:.4f}, {ind['high']:.4f}], n={ind['n']}, "
        f"status={ind['status']}",
        f"  SUS mean         {b['sus_mean']:.1f} (n={b['sus_n']})",
        f"  adoption         {b['adoption']['active_users']}/{b['adoption']['eligible_users']} active "
        f"in week of {b['adoption']['week_start']} ({b['adoption']['adoption']:.0%})",
        "  commissioning metrics (latest):",
        *[f"    - {m['name']}: {m['latest']['value']:g} {m['unit']} vs target {m['target']:g} "
          f"({m['direction'].replace('_', ' ')}) → {'ON TARGET' if m['on_target'] else 'off target'}"
          for m in b["commissioning_metrics"]["latest"]],
        f"  proposed outcome {label(b['proposed_outcome'])} (indispensability threshold not met: "
        f"adopt was not available)" if ind["status"] != "pass" else
        f"  proposed outcome {label(b['proposed_outcome'])}",
        "  tally per group:",
        *[f"    - {g}: {v['cast']}/{v['eligible']} voted, weight {v['effective_weight']:.2f}, "
          f"counts {v['counts']}" for g, v in t["groups"].items()],
        "  combined: " + ", ".join(f"{label(o)} {s:.3f}" for o, s in
                                   sorted(t["combined"].items(), key=lambda kv: -kv[1])),
        f"  winner: {label(t['winner'])}; quorum met: {t['quorum_met']}; vetoed: {t['vetoed']}; "
        f"tie-break: {t['tie_break']}",
        *[f"  note: {n}" for n in t["notes"]],
        f"  voters ({len(b['voters'])}): " + "; ".join(f"{v['name']} ({v['group']}) → {label(v['option'])}"
                                                      for v in b["voters"]),
        "CLAIMS",
    ]
    for c in claims:
        lines += [f"  claim #{c.id} by {c.made_by} at {c.made_at:%d %b %Y %H:%M}: "
                  f"\"{c.statement}\"",
                  f"    flags when made: {c.flags_at_claim or ['none']}",
                  f"    flags now:       {c.flags_now or ['none']}"]
    if comparison is not None:
        lines += ["COMPARE",
                  f"  quadrant: {comparison.quadrant_label}; divergent: {comparison.divergent}; "
                  f"compliance adoption: {comparison.compliance_adoption}",
                  f"  commissioning attainment {comparison.attainment:.0%} "
                  f"({comparison.metrics_on_target}/{comparison.metrics}) vs indispensability "
                  f"{comparison.indispensability:.0%} [{comparison.low:.0%}–{comparison.high:.0%}] "
                  f"n={comparison.respondents}; adoption {comparison.adoption:.0%}"]
    lines.append("=" * 78)
    return "\n".join(lines)


def test_a_pilot_that_looks_brilliant_from_altitude_is_not_adopted(world):
    # --- Forty frontline users really use the tool (real use starts Monday 2 March 2026).
    nurses = world.rostered_users(40, prefix="Nurse")
    problem, pilot = world.pilot_in_use(roster=nurses)

    # --- Five weeks in, every commissioning metric is on target, and the team claims success.
    world.pass_window(days=35)
    metrics = dict(read(world, lambda s: s.execute(select(CommissioningMetric.name, CommissioningMetric.id)
                                                   .where(CommissioningMetric.pilot_id == pilot)).all()))
    sv.record_measurement(world.uow, world.commissioner, pilot, metric_id=metrics["Extraction accuracy"],
                          value=97.2, observed_on=world.today())
    sv.record_measurement(world.uow, world.commissioner, pilot,
                          metric_id=metrics["Minutes saved per letter"], value=4.6, observed_on=world.today())
    early_claim = sv.record_claim(world.uow, world.commissioner, pilot, statement=CLAIM,
                                  cited_metrics=["Extraction accuracy", "Minutes saved per letter"])

    # --- The survey after the 30-day window: 12 of 40 would be very disappointed to lose it.
    rnd = sv.open_survey_round(world.uow, world.commissioner, pilot)
    for i, (nurse, (answer, instead)) in enumerate(zip(nurses, answers_of_forty(), strict=True)):
        sv.submit_survey_response(world.uow, nurse, rnd, answer=answer, sus=sus_for(i), use_instead=instead)
    world.clock.advance(days=14)
    sv.close_survey_round(world.uow, world.commissioner, rnd)

    # --- Eight weeks of usage, rising to 33 of 40 a week: thin "compliance adoption"?
    world.clock.advance(days=7)
    assert sv.import_usage(world.uow, world.commissioner, pilot, filename="usage_example.csv",
                           content=USAGE_EXAMPLE.read_bytes()) == 8

    # --- The binding vote: adopt is not even on the table.
    vote = sv.open_outcome_vote(world.uow, world.facilitator, pilot)
    with world.refuses(RuleViolation, match="Adopt is not available on this vote"):
        sv.cast_ballot(world.uow, world.commissioner, vote, "adopt")
    for voter in world.panel_voters[:6]:
        sv.cast_ballot(world.uow, voter, vote, "revisit_problem")
    sv.cast_ballot(world.uow, world.panel_voters[6], vote, "iterate")
    sv.cast_ballot(world.uow, world.commissioner, vote, "iterate")
    sv.cast_ballot(world.uow, world.steering, vote, "revisit_problem")
    world.clock.advance(days=3)
    decision_id = world.close_at_deadline(vote, world.facilitator)

    # --- A week later the commissioning team repeats its success claim.
    world.clock.advance(days=7)
    late_claim = sv.record_claim(world.uow, world.commissioner, pilot, statement=CLAIM,
                                 cited_metrics=["Extraction accuracy", "Minutes saved per letter"])

    # --- The decision is not "adopt", and its basis shows why.
    decision = decision_detail(world.uow, world.auditor, decision_id)
    basis = decision.basis
    assert decision.outcome == "revisit_problem" and decision.outcome != "adopt"
    assert decision.basis_intact and not decision.adopt_override
    ind = basis["indispensability"]
    assert (ind["very_disappointed"], ind["n"], ind["status"]) == (12, 40, "fail")
    assert (round(ind["low"], 4), round(ind["high"], 4)) == (0.1807, 0.4543)
    assert all(m["on_target"] for m in basis["commissioning_metrics"]["latest"])
    assert basis["adoption"]["adoption"] == 33 / 40
    assert basis["proposed_outcome"] == "revisit_problem"
    assert basis["tally"]["winner"] == "revisit_problem"
    assert basis["closed_by"]["name"] == "Fiona Facilitator"

    # R10: the failed threshold is read as a design signal.
    assert read(world, lambda s: s.get(Problem, problem).state) == "reopened"
    assert read(world, lambda s: s.scalar(select(ProblemReopening.pilot_id))) == pilot

    # --- The claims are checked against the decision.
    claims = {c.id: c for c in claims_for_pilot(world.uow, world.auditor, pilot)}
    assert claims[early_claim].flags_at_claim == ["made before any binding decision"]
    assert claims[early_claim].flags_now == ["made before any binding decision",
            "contradicted by the decision that followed (revisit the problem)"]
    assert claims[late_claim].flags_at_claim == ["contradicts the binding decision (revisit the problem)"]
    stored = read(world, lambda s: s.scalar(select(Decision.id).where(Decision.pilot_id == pilot)))
    assert json.loads(read(world, lambda s: s.get(Claim, late_claim).checks_json))["decision_id"] == stored

    # --- Compare: the quadrant flag is set.
    comparison = None
    try:
        from governance.queries.compare import compare_pilots
    except ImportError:  # the read model is optional for this scenario
        compare_pilots = None
    if compare_pilots is not None:
        (comparison,) = [c for c in compare_pilots(world.uow, world.steering) if c.pilot_id == pilot]
        assert comparison.quadrant == "brilliant_from_altitude"
        assert comparison.quadrant_label == "Looks brilliant from altitude"
        assert comparison.divergent and comparison.compliance_adoption
        assert comparison.attainment == 1.0 and comparison.status == "fail"

    print(show(decision, sorted(claims.values(), key=lambda c: c.id), comparison))
