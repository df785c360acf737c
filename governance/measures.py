"""DESIGN §4 measures as pure functions: indispensability, SUS, adoption."""
from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any, Literal


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
        return (f"{self.score:.0%} very disappointed (95% CI {self.low:.0%}–{self.high:.0%}, "
                f"n={self.n}) — {verdict} the {self.threshold:.0%} threshold")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed, "text": self.text}


def indispensability(very_disappointed: int, n: int, threshold: float, minimum_n: int) -> Indispensability:
    """Score, Wilson 95 % interval and verdict against the threshold (§4, R7)."""
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
