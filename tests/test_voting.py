"""R8 tallies as pure logic (``governance.rules.voting``).

Outcome votes: shares within each group, combined with the charter's weights
(exact fractions, so a tie is a real tie), quorum per group, the weight of a
group with nobody eligible shared out, the documented tie rule (frontline
share, then the proposed outcome, then caution: iterate, revisit problem,
stop, adopt), the frontline veto and "adopt not available". Panel votes:
approve must beat reject with the panel's quorum met; a tie keeps the status
quo. Property-based tests pin the invariants a voter relies on.
"""
from __future__ import annotations

import random
from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from governance.rules.voting import CAUTION_ORDER, OUTCOME_OPTIONS, exact, tally_outcome, tally_panel

F, C, S = "frontline", "commissioning", "steering"
ADOPT, ITERATE, REVISIT, STOP = "adopt", "iterate", "revisit_problem", "stop"
DEFAULT_WEIGHTS = {F: 0.6, C: 0.2, S: 0.2}
DEFAULT_QUORUMS = {F: 0.5, C: 0.5, S: 0.5}
PURE = settings(max_examples=120, deadline=None)


def ballots(**groups: list[str]) -> list[tuple[str, str]]:
    """ballots(frontline=[...], commissioning=[...], steering=[...])"""
    return [(g, o) for g, options in groups.items() for o in options]


def tally(bs, eligible=None, weights=None, quorums=None, **kw):
    return tally_outcome(bs, eligible=eligible or {F: 7, C: 1, S: 1},
                         weights=weights or DEFAULT_WEIGHTS, quorums=quorums or DEFAULT_QUORUMS, **kw)


# ------------------------------------------------------------------ weights
def test_group_shares_are_combined_with_the_charter_weights():
    result = tally(ballots(frontline=[REVISIT] * 5 + [ITERATE] * 2, commissioning=[ITERATE],
                           steering=[STOP]))
    assert result.groups[F].share(REVISIT) == Fraction(5, 7)
    assert result.combined[REVISIT] == Fraction(3, 5) * Fraction(5, 7)
    assert result.combined[ITERATE] == Fraction(3, 5) * Fraction(2, 7) + Fraction(1, 5)
    assert result.combined[STOP] == Fraction(1, 5)
    assert result.combined[ADOPT] == 0
    assert sum(result.combined.values()) == 1
    assert result.winner == REVISIT and result.quorum_met and result.tie_break is None


def test_the_frontline_outweighs_a_unanimous_commissioning_team_and_steering():
    result = tally(ballots(frontline=[STOP] * 7, commissioning=[ITERATE], steering=[ITERATE]))
    assert result.combined[STOP] == Fraction(3, 5) and result.combined[ITERATE] == Fraction(2, 5)
    assert result.winner == STOP


def test_charter_weights_are_taken_exactly():
    assert exact(0.6) == Fraction(3, 5) and exact(0.2) == Fraction(1, 5)
    assert exact(0.6) + exact(0.2) + exact(0.2) == 1  # 0.6 + 0.2 + 0.2 is not 1.0 in floats


def test_a_group_with_no_eligible_voters_takes_no_part_and_its_weight_is_shared_out():
    result = tally(ballots(frontline=[ITERATE] * 4, commissioning=[STOP]), eligible={F: 7, C: 1, S: 0})
    steering = result.groups[S]
    assert not steering.takes_part and steering.effective_weight == 0 and steering.quorum_met
    # 0.6 and 0.2 keep their proportion: 3/4 and 1/4.
    assert result.groups[F].effective_weight == Fraction(3, 4)
    assert result.groups[C].effective_weight == Fraction(1, 4)
    assert result.combined[ITERATE] == Fraction(3, 4) and result.combined[STOP] == Fraction(1, 4)
    assert result.winner == ITERATE and result.quorum_met


def test_nobody_eligible_anywhere_means_no_quorum_and_no_winner():
    result = tally([], eligible={F: 0, C: 0, S: 0})
    assert not result.quorum_met and result.winner is None
    assert "no group can vote" in result.notes[0]


# ------------------------------------------------------------------- quorum
def test_quorum_exactly_at_the_line_is_met():
    result = tally(ballots(frontline=[ITERATE] * 3, commissioning=[ITERATE], steering=[ITERATE]),
                   eligible={F: 6, C: 1, S: 1})
    assert result.groups[F].turnout == Fraction(1, 2)
    assert result.groups[F].quorum_met and result.quorum_met and result.winner == ITERATE


def test_quorum_just_under_the_line_gives_no_winner_and_says_which_group_fell_short():
    result = tally(ballots(frontline=[ITERATE] * 2, commissioning=[ITERATE], steering=[ITERATE]),
                   eligible={F: 6, C: 1, S: 1})
    assert not result.groups[F].quorum_met
    assert not result.quorum_met and result.winner is None
    assert "frontline (2 of 6, needs 50 %)" in result.notes[0]


def test_quorum_is_compared_exactly_not_in_floating_point():
    # 7 of 10 against a 70 % quorum is exactly at the line.
    quorums = {F: 0.7, C: 0.5, S: 0.5}
    at = tally(ballots(frontline=[STOP] * 7, commissioning=[STOP], steering=[STOP]),
               eligible={F: 10, C: 1, S: 1}, quorums=quorums)
    under = tally(ballots(frontline=[STOP] * 6, commissioning=[STOP], steering=[STOP]),
                  eligible={F: 10, C: 1, S: 1}, quorums=quorums)
    assert at.quorum_met and at.winner == STOP
    assert not under.quorum_met and under.winner is None


def test_every_participating_group_must_reach_its_quorum():
    result = tally(ballots(frontline=[ITERATE] * 7, commissioning=[ITERATE]), eligible={F: 7, C: 1, S: 2})
    assert result.groups[F].quorum_met and result.groups[C].quorum_met
    assert not result.groups[S].quorum_met
    assert not result.quorum_met and result.winner is None


def test_no_ballots_gives_no_winner():
    result = tally([])
    assert result.winner is None and not result.quorum_met
    assert "No ballots were cast." in result.notes
    zero_quorum = tally([], quorums={F: 0, C: 0, S: 0})
    assert zero_quorum.quorum_met and zero_quorum.winner is None


# --------------------------------------------------------------------- ties
def test_tie_stage_1_the_frontline_share_decides():
    # iterate 3/5·2/3 = 2/5; stop 3/5·1/3 + 1/5 = 2/5: a real tie (0.39999… vs 0.4 in floats).
    result = tally(ballots(frontline=[ITERATE, ITERATE, STOP], commissioning=[STOP], steering=[REVISIT]),
                   eligible={F: 3, C: 1, S: 1})
    assert result.combined[ITERATE] == result.combined[STOP] == Fraction(2, 5)
    assert result.winner == ITERATE and result.tie_break == "frontline share"
    assert "broken by frontline share" in result.notes[-1]


def test_tie_stage_1_even_against_the_caution_order():
    # stop beats iterate on frontline share although caution would prefer iterate.
    result = tally(ballots(frontline=[STOP, STOP, ITERATE], commissioning=[ITERATE], steering=[REVISIT]),
                   eligible={F: 3, C: 1, S: 1})
    assert result.combined[ITERATE] == result.combined[STOP]
    assert result.winner == STOP and result.tie_break == "frontline share"


def test_tie_stage_2_the_proposed_outcome_decides():
    only_frontline = {F: 2, C: 0, S: 0}
    proposed = tally(ballots(frontline=[ITERATE, REVISIT]), eligible=only_frontline, proposed=REVISIT)
    assert proposed.winner == REVISIT and proposed.tie_break == "proposed outcome"
    # Without a proposal the caution order prefers iterate.
    plain = tally(ballots(frontline=[ITERATE, REVISIT]), eligible=only_frontline)
    assert plain.winner == ITERATE and plain.tie_break == "caution order"


def test_tie_stage_3_caution_adopt_never_wins_a_tie():
    only_frontline = {F: 2, C: 0, S: 0}
    assert CAUTION_ORDER == (ITERATE, REVISIT, STOP, ADOPT)
    for other in (ITERATE, REVISIT, STOP):
        result = tally(ballots(frontline=[ADOPT, other]), eligible=only_frontline, frontline_veto=False)
        assert result.winner == other and result.tie_break == "caution order"
    result = tally(ballots(frontline=[STOP, REVISIT]), eligible=only_frontline)
    assert result.winner == REVISIT and result.tie_break == "caution order"


def test_a_tie_of_all_four_options_is_resolved_the_same_whatever_the_order():
    options = [ADOPT, STOP, REVISIT, ITERATE]
    winners = set()
    for seed in range(10):
        random.Random(seed).shuffle(options)
        winners.add(tally(ballots(frontline=list(options)), eligible={F: 4, C: 0, S: 0}).winner)
    assert winners == {ITERATE}


# -------------------------------------------------------------------- veto
def test_frontline_veto_adopt_leads_the_combined_result_without_a_frontline_majority():
    bs = ballots(frontline=[ADOPT, ADOPT, ITERATE, ITERATE], commissioning=[ADOPT], steering=[ADOPT])
    result = tally(bs, eligible={F: 4, C: 1, S: 1})
    assert result.combined[ADOPT] == Fraction(7, 10) and result.ranking[0] == ADOPT
    assert result.groups[F].share(ADOPT) == Fraction(1, 2)  # exactly half is not a majority
    assert result.vetoed and result.winner == ITERATE
    assert any("Frontline veto" in n for n in result.notes)


def test_without_the_veto_the_same_ballots_adopt():
    bs = ballots(frontline=[ADOPT, ADOPT, ITERATE, ITERATE], commissioning=[ADOPT], steering=[ADOPT])
    result = tally(bs, eligible={F: 4, C: 1, S: 1}, frontline_veto=False)
    assert not result.vetoed and result.winner == ADOPT


def test_a_frontline_majority_for_adopt_is_not_vetoed():
    bs = ballots(frontline=[ADOPT, ADOPT, ADOPT, ITERATE], commissioning=[STOP], steering=[STOP])
    result = tally(bs, eligible={F: 4, C: 1, S: 1})
    assert not result.vetoed and result.winner == ADOPT


def test_adopt_not_available_hands_the_win_to_the_next_option():
    bs = ballots(frontline=[ADOPT] * 5 + [REVISIT] * 2, commissioning=[ADOPT], steering=[ADOPT])
    result = tally(bs, adopt_available=False, proposed=REVISIT)
    assert result.ranking[0] == ADOPT
    assert result.winner == REVISIT and not result.vetoed
    assert any("Adopt was not available" in n for n in result.notes)


def test_impossible_ballots_are_refused():
    with pytest.raises(ValueError, match="unknown option"):
        tally(ballots(frontline=["approve"]))
    with pytest.raises(ValueError, match="only 1 eligible"):
        tally(ballots(commissioning=[STOP, STOP]))


# --------------------------------------------------------------- panel votes
def test_panel_vote_passes_when_approve_beats_reject_with_quorum():
    result = tally_panel(["approve"] * 4 + ["reject"] * 3, eligible=7, quorum=0.5)
    assert result.quorum_met and result.passed and result.winner == "approve"


def test_panel_vote_fails_when_reject_wins():
    result = tally_panel(["approve"] * 2 + ["reject"] * 3, eligible=7, quorum=0.5)
    assert result.quorum_met and not result.passed and result.winner == "reject"


def test_panel_vote_tie_keeps_the_status_quo():
    result = tally_panel(["approve"] * 2 + ["reject"] * 2, eligible=7, quorum=0.5)
    assert result.quorum_met and not result.passed
    assert result.tie_break == "status quo"
    assert "Tie: the motion fails" in result.notes[0]


def test_panel_vote_without_quorum_decides_nothing():
    result = tally_panel(["approve"] * 3, eligible=7, quorum=0.5)
    assert not result.quorum_met and result.winner is None and not result.passed
    assert "3 of 7 panel members voted, 50 % needed" in result.notes[0]
    assert tally_panel(["approve"] * 4, eligible=7, quorum=0.5).passed  # 4 of 7 is over the line


def test_panel_vote_with_nobody_eligible_decides_nothing():
    result = tally_panel([], eligible=0, quorum=0.5)
    assert not result.quorum_met and not result.passed


# ---------------------------------------------------- property-based checks
WEIGHT_SETS = [DEFAULT_WEIGHTS, {F: 0.5, C: 0.25, S: 0.25}, {F: 1.0, C: 0.0, S: 0.0},
               {F: 0.4, C: 0.3, S: 0.3}, {F: 0.7, C: 0.1, S: 0.2}]
options = st.sampled_from(OUTCOME_OPTIONS)


@st.composite
def elections(draw, spare: bool = False):
    """Eligible counts, current ballots within them, and the charter's terms."""
    eligible = {g: draw(st.integers(min_value=0, max_value=6)) for g in (F, C, S)}
    if spare:  # leave room for one more ballot somewhere
        g = draw(st.sampled_from((F, C, S)))
        eligible[g] += 1
    bs = []
    for g, n in eligible.items():
        cast = draw(st.integers(min_value=0, max_value=n - 1 if spare and n else n))
        bs += [(g, draw(options)) for _ in range(cast)]
    terms = dict(weights=draw(st.sampled_from(WEIGHT_SETS)),
                 quorums={g: draw(st.sampled_from([0, 0.25, 0.5, 1])) for g in (F, C, S)},
                 frontline_veto=draw(st.booleans()), adopt_available=draw(st.booleans()),
                 proposed=draw(st.sampled_from([None, REVISIT])))
    return eligible, bs, terms


@PURE
@given(elections(), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_ballot_order(election, rnd):
    eligible, bs, terms = election
    shuffled = list(bs)
    rnd.shuffle(shuffled)
    first = tally_outcome(bs, eligible=eligible, **terms)
    second = tally_outcome(shuffled, eligible=eligible, **terms)
    assert first.as_dict() == second.as_dict()


def reference_combined(bs, eligible, weights):
    """An independent recomputation of the combined shares."""
    present = {g: Fraction(str(w)) for g, w in weights.items() if eligible[g] > 0}
    total = sum(present.values())
    counts = {g: Counter(o for gg, o in bs if gg == g) for g in weights}
    out = {}
    for o in OUTCOME_OPTIONS:
        share = Fraction(0)
        for g, w in present.items():
            cast = sum(counts[g].values())
            if cast and total:
                share += w / total * Fraction(counts[g][o], cast)
        out[o] = share
    return out


@st.composite
def histories(draw):
    """Voters with their group, and a history of ballots (voter, option) in time order."""
    eligible = {g: draw(st.integers(min_value=0, max_value=5)) for g in (F, C, S)}
    voters = [(f"{g}-{i}", g) for g, n in eligible.items() for i in range(n)]
    casting = draw(st.lists(st.sampled_from(voters), unique=True)) if voters else []
    history = []
    for voter in casting:
        history += [voter] * draw(st.integers(min_value=1, max_value=4))
    history = draw(st.permutations(history)) if history else []
    events = [(who, group, draw(options)) for who, group in history]
    terms = dict(weights=draw(st.sampled_from(WEIGHT_SETS)),
                 quorums={g: draw(st.sampled_from([0, 0.5])) for g in (F, C, S)},
                 frontline_veto=draw(st.booleans()), adopt_available=draw(st.booleans()))
    return eligible, events, terms


def latest_per_voter(events):
    latest = {}
    for who, group, option in events:  # later events overwrite earlier ones
        latest[who] = (group, option)
    return list(latest.values())


@PURE
@given(histories(), st.data())
def test_only_each_voters_latest_ballot_counts(case, data):
    eligible, events, terms = case
    current = latest_per_voter(events)
    result = tally_outcome(current, eligible=eligible, **terms)
    # The tally equals an independent recomputation from the latest ballots…
    assert result.combined == reference_combined(current, eligible, terms["weights"])
    for g in (F, C, S):
        assert result.groups[g].counts == dict(Counter(o for gg, o in current if gg == g))
    # …and rewriting any superseded ballot changes nothing.
    last_index = {who: i for i, (who, _, _) in enumerate(events)}
    rewritten = [(who, g, o if last_index[who] == i else data.draw(options))
                 for i, (who, g, o) in enumerate(events)]
    again = tally_outcome(latest_per_voter(rewritten), eligible=eligible, **terms)
    assert again.as_dict() == result.as_dict()


@PURE
@given(elections(spare=True), st.data())
def test_adding_a_ballot_for_an_option_never_lowers_that_options_share(election, data):
    eligible, bs, terms = election
    before = tally_outcome(bs, eligible=eligible, **terms)
    room = [g for g in (F, C, S) if before.groups[g].cast < eligible[g]]
    group = data.draw(st.sampled_from(room))
    option = data.draw(options)
    after = tally_outcome([*bs, (group, option)], eligible=eligible, **terms)
    assert after.groups[group].share(option) >= before.groups[group].share(option)
    assert after.combined[option] >= before.combined[option]
    for g in (F, C, S):
        if g != group:
            assert after.groups[g].counts == before.groups[g].counts


@PURE
@given(elections())
def test_a_winner_needs_quorum_and_adopt_wins_only_when_available_and_not_vetoed(election):
    eligible, bs, terms = election
    result = tally_outcome(bs, eligible=eligible, **terms)
    if result.winner is not None:
        assert result.quorum_met and bs
        # The winner has the highest combined share among the options still allowed.
        assert result.combined[result.winner] == max(
            v for o, v in result.combined.items()
            if o != ADOPT or (terms["adopt_available"] and not result.vetoed))
    if result.winner == ADOPT:
        assert terms["adopt_available"]
        if terms["frontline_veto"] and eligible[F] > 0:
            assert result.groups[F].share(ADOPT) > Fraction(1, 2)
