"""The measures (docs/measures.md) as pure functions: indispensability with its
Wilson interval (R7), the System Usability Scale, adoption, whether a value
meets its target, commissioning attainment, the Compare quadrant and the
compliance-adoption flag. The SQL that gathers their inputs is
``governance.storage.repository``; services, read models and the benchmark
all call these functions, so every view reports the same numbers."""
from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any, Literal

from governance.vocabulary import SurveyAnswer, percent


@functools.lru_cache(maxsize=16)
def _z(confidence: float) -> float:
    """The normal quantile for a two-sided ``confidence`` interval (1.95996… for 95 %)."""
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``successes / n``.

    Raises ``ValueError`` for n ≤ 0, successes outside [0, n], or a
    confidence outside (0, 1).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ValueError(f"n must be a positive whole number, not {n!r}")
    if isinstance(successes, bool) or not isinstance(successes, int) or not 0 <= successes <= n:
        raise ValueError(f"successes must be a whole number between 0 and n={n}, not {successes!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence!r}")
    z = _z(confidence)
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (low, high)


SUS_ITEMS = (
    "I think that I would like to use this system frequently.",
    "I found the system unnecessarily complex.",
    "I thought the system was easy to use.",
    "I think that I would need the support of a technical person to be able to use this system.",
    "I found the various functions in this system were well integrated.",
    "I thought there was too much inconsistency in this system.",
    "I would imagine that most people would learn to use this system very quickly.",
    "I found the system very cumbersome to use.",
    "I felt very confident using the system.",
    "I needed to learn a lot of things before I could get going with this system.",
)

#: The SUS answer scale, each point with its words (pages and the light path show both).
SUS_SCALE = {1: "Strongly disagree", 2: "Disagree", 3: "Neither", 4: "Agree", 5: "Strongly agree"}


def sus_unanswered(answers: Sequence[int | None]) -> list[int]:
    """The SUS items (1-based) left unanswered in a partly answered questionnaire; empty when
    all ten or none are answered (the SUS is optional, but only whole: a score needs all ten)."""
    given = list(answers) + [None] * (10 - len(answers))
    if all(v is None for v in given):
        return []
    return [position for position, v in enumerate(given[:10], start=1) if v is None]


def sus_score(answers: Sequence[int]) -> float:
    """System Usability Scale score (0–100) from the 10 answers, each 1–5.

    Odd items contribute (answer − 1), even items (5 − answer); the sum is
    multiplied by 2.5. Raises ``ValueError`` unless there are exactly ten
    whole-number answers between 1 and 5.
    """
    if isinstance(answers, (str, bytes)) or len(answers) != 10:
        raise ValueError("the SUS needs exactly 10 answers")
    total = 0
    for position, answer in enumerate(answers, start=1):
        if isinstance(answer, bool) or not isinstance(answer, int) or not 1 <= answer <= 5:
            raise ValueError(f"SUS item {position} must be a whole number from 1 to 5, not {answer!r}")
        total += (answer - 1) if position % 2 == 1 else (5 - answer)
    return total * 2.5


Status = Literal["pass", "fail", "insufficient", "none"]


@dataclass(frozen=True)
class Indispensability:
    """The share of respondents who would be very disappointed to lose the tool.

    Below the charter's minimum number of responses the status is
    "insufficient" and ``score`` and the interval are withheld, so no
    passing-looking number can be shown.
    """

    very_disappointed: int
    n: int
    threshold: float
    minimum_n: int
    score: float | None
    low: float | None
    high: float | None
    status: Status

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def text(self) -> str:
        if self.status == "none":
            return "no responses yet"
        if self.status == "insufficient":
            return f"insufficient evidence ({self.n} of {self.minimum_n} responses needed)"
        assert self.score is not None and self.low is not None and self.high is not None
        verdict = "meets" if self.passed else "below"
        return (f"{percent(self.score)} very disappointed (95 % CI {percent(self.low)}–{percent(self.high)}, "
                f"n={self.n}) — {verdict} the {percent(self.threshold)} threshold")

    @property
    def words(self) -> str:
        """``text`` with its interval explained in words, for the first place a page shows it:
        "40 % very disappointed — the true share is likely between 34 % and 66 % (the 95 %
        confidence interval), from 34 answers — meets the 40 % threshold"."""
        return in_words(self.as_dict())

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed, "text": self.text}


def in_words(evidence: dict[str, Any]) -> str:
    """Indispensability evidence (``Indispensability.as_dict()``, as a frozen basis keeps it) in
    plain words: the interval said as "likely between … and …", n as "from … answers"."""
    status, n = evidence.get("status"), evidence.get("n", 0)
    if status == "none" or not n:
        return "no responses yet"
    if status == "insufficient" or evidence.get("score") is None:
        return (f"insufficient evidence: {n} answers, and the charter needs at least {evidence['minimum_n']} "
                "before the share counts")
    verdict = "meets" if evidence.get("passed") else "is below"
    return (f"{percent(evidence['score'])} would be very disappointed to lose it — the true share is likely "
            f"between {percent(evidence['low'])} and {percent(evidence['high'])} (the 95 % confidence interval), "
            f"from {n} answers — {verdict} the {percent(evidence['threshold'])} threshold")


def indispensability(very_disappointed: int, n: int, threshold: float, minimum_n: int) -> Indispensability:
    """Score, Wilson 95 % interval and verdict against the threshold (R7, docs/measures.md)."""
    if n == 0:
        return Indispensability(0, 0, threshold, minimum_n, None, None, None, "none")
    if n < minimum_n:
        return Indispensability(very_disappointed, n, threshold, minimum_n, None, None, None,
                                "insufficient")
    low, high = wilson_interval(very_disappointed, n)
    score = very_disappointed / n
    status: Status = "pass" if score >= threshold else "fail"
    return Indispensability(very_disappointed, n, threshold, minimum_n, score, low, high, status)


def adoption(active_users: int, eligible_users: int) -> float | None:
    """Weekly active ÷ eligible users; None when nobody is eligible."""
    return None if eligible_users <= 0 else active_users / eligible_users


def meets_target(value: float, target: float, direction: str) -> bool:
    """At or beyond target, in the metric's own direction."""
    return value >= target if direction == "higher_is_better" else value <= target


def survey_evidence(counts: dict[str, int] | None, *, threshold: float, minimum_n: int,
                    round_id: int | None = None, round_number: int | None = None, closed: bool = False,
                    sus_total: float = 0.0, sus_n: int = 0, paper_n: int = 0) -> SurveyEvidence:
    """The evidence of one survey round from its answer counts (None: no round yet); ``paper_n`` of
    its answers came from attested paper forms (the rest online)."""
    if counts is None:
        return SurveyEvidence(None, None, False, indispensability(0, 0, threshold, minimum_n), None, 0,
                              {a.value: 0 for a in SurveyAnswer}, {"online": 0, "paper": 0})
    answers = {a.value: int(counts.get(a.value, 0)) for a in SurveyAnswer}
    n = sum(answers.values())
    return SurveyEvidence(round_id, round_number, closed,
                          indispensability(answers[SurveyAnswer.VERY_DISAPPOINTED.value], n, threshold,
                                           minimum_n),
                          (sus_total / sus_n) if sus_n else None, sus_n, answers,
                          {"online": n - paper_n, "paper": paper_n})


@dataclass(frozen=True)
class SurveyEvidence:
    """Indispensability and SUS of one survey round (or of none yet)."""

    round_id: int | None
    round_number: int | None
    round_closed: bool
    indispensability: Indispensability
    sus_mean: float | None
    sus_n: int
    answers: dict[str, int]
    #: Where the answers came from: {"online": n, "paper": n} (paper: attested paper forms).
    channels: dict[str, int]

    @property
    def channels_text(self) -> str:
        """"12 online / 3 paper" — shown wherever the evidence is."""
        return channels_text(self.channels)

    def as_dict(self) -> dict[str, Any]:
        return {"round_id": self.round_id, "round_number": self.round_number,
                "round_closed": self.round_closed,
                "indispensability": self.indispensability.as_dict(),
                "sus_mean": self.sus_mean, "sus_n": self.sus_n, "answers": self.answers,
                "channels": self.channels}


def channels_text(channels: dict[str, int] | None) -> str:
    """How evidence says where its answers came from: "12 online / 3 paper" ("" when not recorded,
    as in a basis frozen before paper existed)."""
    if not channels:
        return ""
    return f"{channels.get('online', 0)} online / {channels.get('paper', 0)} paper"


def evidence_threshold(criterion: tuple[float, int] | None, charter_threshold: float,
                       charter_minimum: int) -> tuple[float, int]:
    """The pre-registered threshold and minimum responses that apply: the problem
    version's indispensability criterion (its target; the larger of its and the
    charter's minimum), else the charter's."""
    if criterion is None:
        return float(charter_threshold), int(charter_minimum)
    target, minimum = criterion
    return float(target), max(int(minimum), int(charter_minimum))


def status_row(subject: dict[str, Any], latest: dict[str, Any] | None, amended: bool) -> dict[str, Any]:
    """A metric or criterion with its latest measurement and whether it is on target."""
    return {**subject, "latest": latest,
            "on_target": None if latest is None else meets_target(latest["value"], subject["target"],
                                                                  subject["direction"]),
            "amended_after_real_use": amended}


def attainment(metrics: list[dict[str, Any]]) -> float | None:
    """Share of commissioning metrics at or beyond target (None if none is measured)."""
    measured = [m for m in metrics if m["on_target"] is not None]
    if not metrics or not measured:
        return None
    return sum(1 for m in metrics if m["on_target"]) / len(metrics)


#: "Commissioning high": at least this share of its metrics at or beyond target.
COMMISSIONING_HIGH = 2 / 3
#: "Compliance adoption": weekly adoption at least this high while indispensability fails.
HIGH_ADOPTION = 0.6

QUADRANTS = {
    "indispensable_on_target": "Indispensable & on target",
    "brilliant_from_altitude": "Looks brilliant from altitude",
    "valued_off_metric": "Valued but off-metric",
    "neither": "Neither",
    "awaiting_evidence": "Awaiting evidence",
}


def quadrant(attainment: float | None, status: str) -> str:
    """Where a pilot sits: commissioning attainment against frontline indispensability."""
    if status not in ("pass", "fail") or attainment is None:
        return "awaiting_evidence"
    commissioning_high = attainment >= COMMISSIONING_HIGH - 1e-9
    if commissioning_high and status == "pass":
        return "indispensable_on_target"
    if commissioning_high:
        return "brilliant_from_altitude"
    if status == "pass":
        return "valued_off_metric"
    return "neither"


def divergent(quadrant_key: str) -> bool:
    """Commissioning and frontline disagree about the pilot."""
    return quadrant_key in ("brilliant_from_altitude", "valued_off_metric")


def compliance_adoption(adoption_share: float | None, status: str) -> bool:
    """People use it (when watched), but would not miss it."""
    return adoption_share is not None and adoption_share >= HIGH_ADOPTION and status == "fail"
