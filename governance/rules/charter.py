"""The charter: the organisation's decision rules (R8), their defaults, their
validation, and what each voting group weighs. Pure."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from governance.errors import InvalidInput
from governance.rules.times import time_zone_problem


@dataclass(frozen=True)
class CharterTerms:
    """Decision rules the organisation and its panels agreed (defaults: docs/rules.md)."""

    weight_frontline: float = 0.60
    weight_commissioning: float = 0.20
    weight_steering: float = 0.20
    quorum_frontline: float = 0.50
    quorum_commissioning: float = 0.50
    quorum_steering: float = 0.50
    frontline_veto: bool = True
    evaluation_window_days: int = 30
    min_survey_responses: int = 30
    indispensability_threshold: float = 0.40
    allow_adopt_override: bool = False
    feedback_response_working_days: int = 10
    #: R16: a vote's deadline lies between these many days after it opens.
    vote_min_days: int = 3
    vote_max_days: int = 30
    #: R17: the voting groups whose ballots are secret (panel votes follow "frontline").
    secret_groups: tuple[str, ...] = ("frontline",)
    #: ISO 3166 alpha-2 code whose public holidays are not working days ("" = Monday–Friday only).
    country: str = ""
    #: IANA name of the zone in which pages show dates and times (exports and the audit log: UTC).
    time_zone: str = "UTC"

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["secret_groups"] = list(self.secret_groups)
        return out

    def row_values(self) -> dict[str, Any]:
        """The terms as the charter table stores them."""
        return {**self.as_dict(), "secret_groups": json.dumps(sorted(self.secret_groups))}


FIELD_LABELS = {
    "weight_frontline": "Frontline weight",
    "weight_commissioning": "Commissioning weight",
    "weight_steering": "Steering weight",
    "quorum_frontline": "Frontline quorum",
    "quorum_commissioning": "Commissioning quorum",
    "quorum_steering": "Steering quorum",
    "frontline_veto": "Frontline veto",
    "evaluation_window_days": "Evaluation window (days)",
    "min_survey_responses": "Minimum survey responses",
    "indispensability_threshold": "Indispensability threshold",
    "allow_adopt_override": "Allow adopt to override a failed threshold",
    "feedback_response_working_days": "Feedback response time (working days)",
    "vote_min_days": "Shortest vote (days)",
    "vote_max_days": "Longest vote (days)",
    "secret_groups": "Groups whose ballots are secret",
    "country": "Country (public holidays)",
    "time_zone": "Time zone",
}
VOTING_GROUPS = ("frontline", "commissioning", "steering")
#: The terms that are shares (0–1): every page shows them as percentages ("40 %").
SHARE_TERMS = frozenset({"weight_frontline", "weight_commissioning", "weight_steering", "quorum_frontline",
                         "quorum_commissioning", "quorum_steering", "indispensability_threshold"})
FIELDS = tuple(f.name for f in fields(CharterTerms))


def _share(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) and 0.0 <= value <= 1.0 else None


def validate_charter(**given: Any) -> CharterTerms:
    """Terms from ``given`` (missing fields take the defaults).

    Raises ``InvalidInput`` whose ``problems`` has one message per bad field. Long on purpose:
    one check per charter term, all collected so a person sees every problem at once.
    """
    unknown = set(given) - set(FIELDS)
    if unknown:
        raise InvalidInput(f"Unknown charter terms: {', '.join(sorted(unknown))}.")
    values = {**CharterTerms().as_dict(), **given}
    problems: dict[str, str] = {}
    for name in ("weight_frontline", "weight_commissioning", "weight_steering",
                 "quorum_frontline", "quorum_commissioning", "quorum_steering"):
        share = _share(values[name])
        if share is None:
            problems[name] = f"{FIELD_LABELS[name]} must be a number from 0 to 1 (e.g. 0.6 for 60 %)."
        else:
            values[name] = share
    weights = [values[n] for n in ("weight_frontline", "weight_commissioning", "weight_steering")]
    if not any(n in problems for n in ("weight_frontline", "weight_commissioning", "weight_steering")):
        if not math.isclose(sum(weights), 1.0, abs_tol=1e-9):
            problems["weights"] = (f"The three group weights must add up to 1 (100 %); "
                                   f"they add up to {sum(weights):g}.")
        elif values["weight_frontline"] <= 0:
            problems["weight_frontline"] = "Frontline weight must be above 0: the frontline holds real authority."
    for name in ("frontline_veto", "allow_adopt_override"):
        if not isinstance(values[name], bool):
            problems[name] = f"{FIELD_LABELS[name]} must be yes or no."
    for name, low, high in (("evaluation_window_days", 1, 365), ("min_survey_responses", 5, 100_000),
                            ("feedback_response_working_days", 1, 120), ("vote_min_days", 1, 60),
                            ("vote_max_days", 1, 120)):
        v = values[name]
        if isinstance(v, float) and v.is_integer():
            v = values[name] = int(v)
        if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
            problems[name] = f"{FIELD_LABELS[name]} must be a whole number from {low} to {high}."
    if "vote_min_days" not in problems and "vote_max_days" not in problems \
            and values["vote_max_days"] < values["vote_min_days"]:
        problems["vote_max_days"] = "The longest vote cannot be shorter than the shortest vote."
    groups = values["secret_groups"]
    if isinstance(groups, str):
        groups = json.loads(groups) if groups.startswith("[") else [g for g in groups.split(",") if g.strip()]
    if not isinstance(groups, (list, tuple, set, frozenset)) or any(g not in VOTING_GROUPS for g in groups):
        problems["secret_groups"] = ("Secret groups must be chosen from frontline, commissioning and "
                                     "steering (or none).")
    else:
        values["secret_groups"] = tuple(sorted({str(g).strip() for g in groups}))
    country = values["country"]
    if country is None:
        country = values["country"] = ""
    if not isinstance(country, str) or (country.strip() and country_problem(country)):
        problems["country"] = country_problem(country) or "Country must be a two-letter code."
    else:
        values["country"] = country.strip().upper()
    zone_problem = time_zone_problem(values["time_zone"])
    if zone_problem:
        problems["time_zone"] = zone_problem
    else:
        values["time_zone"] = str(values["time_zone"]).strip()
    threshold = _share(values["indispensability_threshold"])
    if threshold is None or threshold <= 0:
        problems["indispensability_threshold"] = (
            "Indispensability threshold must be above 0 and at most 1 (e.g. 0.4 for 40 %).")
    if problems:
        listed = " ".join(problems.values())
        raise InvalidInput(f"The charter was not adopted: {listed}", problems=problems)
    return CharterTerms(**values)


def supported_countries() -> dict[str, str]:
    """Country code → name, for every country whose public holidays are known."""
    import holidays

    return {code: _country_name(code) for code in sorted(holidays.list_supported_countries())
            if len(code) == 2}


def _country_name(code: str) -> str:
    import holidays

    cls = holidays.country_holidays(code).__class__
    return str(getattr(cls, "country_name", None) or cls.__name__.replace("_", " ").strip())


def country_problem(value: object) -> str | None:
    """Why ``value`` is not a country the charter can name (None: it can; "" names none)."""
    if not isinstance(value, str):
        return "Country must be a two-letter code such as JM or GB."
    code = value.strip().upper()
    if not code:
        return None
    import holidays

    if len(code) != 2 or code not in holidays.list_supported_countries():
        return (f"Country '{value.strip()[:10]}' is not a two-letter country code whose public holidays are "
                "known (e.g. JM for Jamaica, TT for Trinidad and Tobago, GB for the United Kingdom).")
    return None


def terms_of(charter: Any) -> CharterTerms:
    """The terms of a stored charter (any object with the term attributes)."""
    values = {name: getattr(charter, name) for name in FIELDS}
    groups = values["secret_groups"]
    values["secret_groups"] = tuple(json.loads(groups)) if isinstance(groups, str) else tuple(groups)
    return CharterTerms(**values)


def group_weights(terms: CharterTerms) -> dict[str, float]:
    """Voting group → the weight the charter gives it (R8)."""
    return {"frontline": terms.weight_frontline, "commissioning": terms.weight_commissioning,
            "steering": terms.weight_steering}


def group_quorums(terms: CharterTerms) -> dict[str, float]:
    """Voting group → the share of its eligible voters that must vote (R8)."""
    return {"frontline": terms.quorum_frontline, "commissioning": terms.quorum_commissioning,
            "steering": terms.quorum_steering}
