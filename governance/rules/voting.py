"""R8 tallies as pure logic (exact fractions, so ties are real ties).

Outcome votes
-------------
* Ballots are tallied within each voting group: an option's group share is
  its ballots over the ballots cast in that group (latest ballot per voter
  only — the caller passes current ballots).
* A group with no eligible voters takes no part; its weight is shared among
  the other groups in proportion to their own weights.
* Quorum: every group that takes part must have cast at least its quorum
  share of eligible voters. Without quorum there is no winner (no binding
  decision, R9).
* Combined share of an option = Σ effective weight × group share.
* Ranking, highest combined share first. **Ties** are broken, in order, by
  (1) the frontline group's share, (2) the vote's proposed outcome (e.g.
  "revisit problem" after a failed indispensability threshold, R10), and
  (3) caution: iterate, revisit problem, stop, adopt. "Adopt" can win a tie
  only at step 1 (the frontline preferred it); it never wins at step 3. The
  stored note names the step that decided.
* **Frontline veto** (charter): "adopt" cannot win without a frontline
  majority (more than half of frontline ballots) for adopt; the next-ranked
  option wins instead.
* "Adopt" cannot win when it is not available (indispensability threshold
  not met and no charter override).

Panel votes (ratify a problem, lock criteria, amend a criterion)
----------------------------------------------------------------
Only the frontline panel votes. The motion passes when the panel's quorum is
met and "approve" has more ballots than "reject" (a tie keeps the status quo).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from governance.rules.charter import group_quorums, group_weights
from governance.vocabulary import Outcome, PanelOption, VotingGroup, percent

CAUTION_ORDER: tuple[str, ...] = (Outcome.ITERATE, Outcome.REVISIT_PROBLEM, Outcome.STOP, Outcome.ADOPT)
OUTCOME_OPTIONS: tuple[str, ...] = (Outcome.ADOPT, Outcome.ITERATE, Outcome.REVISIT_PROBLEM, Outcome.STOP)
PANEL_OPTIONS: tuple[str, ...] = (PanelOption.APPROVE, PanelOption.REJECT)
GROUPS: tuple[str, ...] = (VotingGroup.FRONTLINE, VotingGroup.COMMISSIONING, VotingGroup.STEERING)


def exact(value: float | int | Fraction) -> Fraction:
    """A charter share as an exact fraction (0.6 → 3/5, not 0.59999…)."""
    return value if isinstance(value, Fraction) else Fraction(repr(float(value)))


@dataclass(frozen=True)
class GroupTally:
    group: str
    eligible: int
    cast: int
    counts: dict[str, int]
    quorum: Fraction
    weight: Fraction  # as the charter sets it
    effective_weight: Fraction  # after sharing out the weight of groups with nobody eligible

    @property
    def takes_part(self) -> bool:
        return self.eligible > 0

    @property
    def turnout(self) -> Fraction:
        return Fraction(self.cast, self.eligible) if self.eligible else Fraction(0)

    @property
    def quorum_met(self) -> bool:
        return not self.takes_part or self.turnout >= self.quorum

    def share(self, option: str) -> Fraction:
        return Fraction(self.counts.get(option, 0), self.cast) if self.cast else Fraction(0)


@dataclass(frozen=True)
class Tally:
    """The full result: per group, combined, and the winner (or why none)."""

    kind: str  # "outcome" | "panel"
    options: tuple[str, ...]
    groups: dict[str, GroupTally]
    combined: dict[str, Fraction]
    ranking: tuple[str, ...]
    quorum_met: bool
    winner: str | None
    vetoed: bool = False
    tie_break: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        """Panel votes: whether the motion passed."""
        return self.winner == PanelOption.APPROVE

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe form (shares as floats and as exact fractions)."""
        return {
            "kind": self.kind,
            "options": list(self.options),
            "groups": {
                g.group: {
                    "eligible": g.eligible, "cast": g.cast, "counts": dict(g.counts),
                    "shares": {o: float(g.share(o)) for o in self.options},
                    "turnout": float(g.turnout), "quorum": float(g.quorum),
                    "quorum_met": g.quorum_met, "takes_part": g.takes_part,
                    "weight": float(g.weight), "effective_weight": float(g.effective_weight),
                } for g in self.groups.values()
            },
            "combined": {o: float(s) for o, s in self.combined.items()},
            "combined_exact": {o: str(s) for o, s in self.combined.items()},
            "ranking": list(self.ranking),
            "quorum_met": self.quorum_met,
            "winner": self.winner,
            "vetoed": self.vetoed,
            "tie_break": self.tie_break,
            "notes": list(self.notes),
        }


def _group_tallies(ballots: Iterable[tuple[str, str]], eligible: Mapping[str, int],
                   weights: Mapping[str, float | Fraction], quorums: Mapping[str, float | Fraction],
                   options: tuple[str, ...]) -> dict[str, GroupTally]:
    counts: dict[str, Counter[str]] = {g: Counter() for g in weights}
    for group, option in ballots:
        if option not in options:
            raise ValueError(f"unknown option {option!r}")
        counts.setdefault(group, Counter())[option] += 1
    exact_weights = {g: exact(w) for g, w in weights.items()}
    present = {g: w for g, w in exact_weights.items() if eligible.get(g, 0) > 0}
    total_present = sum(present.values(), Fraction(0))
    tallies = {}
    for g, w in exact_weights.items():
        effective = (w / total_present) if (g in present and total_present > 0) else Fraction(0)
        cast = sum(counts[g].values())
        if cast > eligible.get(g, 0):
            raise ValueError(f"{cast} ballots in group {g} but only {eligible.get(g, 0)} eligible")
        tallies[g] = GroupTally(g, eligible.get(g, 0), cast, dict(counts[g]), exact(quorums[g]), w,
                                effective)
    return tallies


def _deciding_step(tied: list[str], frontline: GroupTally | None, proposed: str | None) -> str:
    """Which step of the tie rule decided among ``tied`` (options equal on combined share).

    The steps run in order, each keeping only the options it cannot separate:
    (1) the frontline group's share, (2) the vote's proposed outcome, (3) the
    caution order. The note names the step that left one option standing,
    even when an earlier step already eliminated some of the tied options.
    """
    if frontline is not None:
        best = max(frontline.share(o) for o in tied)
        tied = [o for o in tied if frontline.share(o) == best]
        if len(tied) == 1:
            return "frontline share"
    if proposed in tied:
        return "proposed outcome"
    return "caution order"


def tally_outcome(ballots: Iterable[tuple[str, str]], *, eligible: Mapping[str, int],
                  weights: Mapping[str, float | Fraction], quorums: Mapping[str, float | Fraction],
                  frontline_veto: bool = True, adopt_available: bool = True,
                  proposed: str | None = None) -> Tally:
    """Tally an outcome vote from current ballots ``(group, option)``."""
    groups = _group_tallies(ballots, eligible, weights, quorums, OUTCOME_OPTIONS)
    combined = {o: sum((g.effective_weight * g.share(o) for g in groups.values()), Fraction(0))
                for o in OUTCOME_OPTIONS}
    frontline = groups.get(VotingGroup.FRONTLINE)

    def key(option: str) -> tuple[Fraction, Fraction, int, int]:
        return (-combined[option], -(frontline.share(option) if frontline else Fraction(0)),
                0 if option == proposed else 1, CAUTION_ORDER.index(option))

    ranking = tuple(sorted(OUTCOME_OPTIONS, key=key))
    participating = [g for g in groups.values() if g.takes_part and g.effective_weight > 0]
    quorum_met = bool(participating) and all(g.quorum_met for g in participating)
    notes: list[str] = []
    total_cast = sum(g.cast for g in groups.values())
    if not quorum_met:
        short = [f"{g.group} ({g.cast} of {g.eligible}, needs {percent(g.quorum)})"
                 for g in participating if not g.quorum_met]
        notes.append("Quorum not met: " + (", ".join(short) or "no group can vote") + ".")
    if total_cast == 0:
        notes.append("No ballots were cast.")
    winner: str | None = None
    vetoed = False
    tie_break: str | None = None
    if quorum_met and total_cast > 0:
        candidates = list(ranking)
        if not adopt_available and Outcome.ADOPT in candidates:
            candidates.remove(Outcome.ADOPT)
            notes.append("Adopt was not available: the indispensability threshold was not met.")
        if candidates and candidates[0] == Outcome.ADOPT and frontline_veto and frontline is not None \
                and frontline.takes_part and frontline.share(Outcome.ADOPT) <= Fraction(1, 2):
            candidates.remove(Outcome.ADOPT)
            vetoed = True
            notes.append("Frontline veto: adopt led the combined result without a frontline "
                         "majority for adopt.")
        winner = candidates[0] if candidates else None
        if winner is not None:
            tied = [o for o in candidates if combined[o] == combined[winner]]
            if len(tied) > 1:
                tie_break = _deciding_step(tied, frontline, proposed)
                notes.append(f"Tie between {', '.join(tied)} broken by {tie_break}.")
    return Tally("outcome", OUTCOME_OPTIONS, groups, combined, ranking, quorum_met, winner, vetoed,
                 tie_break, tuple(notes))


def tally_panel(ballots: Iterable[str], *, eligible: int, quorum: float | Fraction) -> Tally:
    """Tally a panel vote from current ballots (options only)."""
    group = VotingGroup.FRONTLINE
    groups = _group_tallies(((group, b) for b in ballots), {group: eligible}, {group: Fraction(1)},
                            {group: quorum}, PANEL_OPTIONS)
    g = groups[group]
    combined = {o: g.share(o) for o in PANEL_OPTIONS}
    quorum_met = g.takes_part and g.quorum_met
    approve, reject = g.counts.get(PanelOption.APPROVE, 0), g.counts.get(PanelOption.REJECT, 0)
    notes = []
    if not quorum_met:
        notes.append(f"Quorum not met: {g.cast} of {g.eligible} panel members voted, "
                     f"{percent(g.quorum)} needed.")
    elif approve == reject:
        notes.append("Tie: the motion fails and nothing changes.")
    winner = None
    if quorum_met and g.cast > 0:
        winner = PanelOption.APPROVE if approve > reject else PanelOption.REJECT
    ranking = (PanelOption.APPROVE, PanelOption.REJECT) if approve > reject else \
        (PanelOption.REJECT, PanelOption.APPROVE)
    return Tally("panel", PANEL_OPTIONS, groups, combined, ranking, quorum_met, winner,
                 notes=tuple(notes), tie_break="status quo" if approve == reject and g.cast else None)


def tally_vote(kind: str, ballots: Iterable[tuple[str, str]], *, eligible: Mapping[str, int],
               terms: Any, adopt_available: bool = True, proposed: str | None = None) -> Tally:
    """The tally of any vote from its current ballots ``(group, option)``, under
    the charter ``terms`` it opened with (``rules.charter.CharterTerms``)."""
    if kind == "outcome":
        return tally_outcome(ballots, eligible=eligible, weights=group_weights(terms),
                             quorums=group_quorums(terms), frontline_veto=terms.frontline_veto,
                             adopt_available=adopt_available, proposed=proposed)
    return tally_panel((option for _, option in ballots), eligible=eligible.get(VotingGroup.FRONTLINE, 0),
                       quorum=terms.quorum_frontline)
