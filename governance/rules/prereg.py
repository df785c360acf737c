"""Pre-registration (R3) and amendments (R4): the canonical form of a problem's
criteria set and of a pilot's commissioning metrics, their SHA-256, and the
checks a criterion or metric must pass.

Pure: it takes plain values (any object with the named attributes, or
mappings) and imports neither the ORM nor the services, so the use cases,
the read models, the integrity check and the benchmark all hash the same way.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from operator import attrgetter
from typing import Any

from governance.errors import InvalidInput
from governance.record.chain import canonical_encoder, canonical_json, sha256_hex
from governance.validation import NAME_MAX, TEXT_MAX, choice, number, one_of, text, whole
from governance.vocabulary import UNITS, Direction

INDISPENSABILITY_NAME = "Indispensability"
CRITERION_FIELDS = ("name", "definition", "measurement_method", "unit", "direction", "target",
                    "minimum_evidence")
#: Fields of the indispensability criterion a panel may change (the rest are fixed by the measure).
THRESHOLD_FIELDS = ("target", "minimum_evidence")
METRIC_FIELDS = ("name", "definition", "unit", "direction", "target")
#: Where a target may lie, by unit (None: unbounded on that side).
TARGET_BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "share": (0, 1), "percent": (0, 100), "rating_1_5": (1, 5), "score": (-1e9, 1e9)}
#: Any other unit (counts, minutes, currency…): from 0 to a billion.
DEFAULT_BOUNDS: tuple[float, float] = (0, 1e9)


def bounds(unit: str) -> tuple[float | None, float | None]:
    """Where a target or an observed value in ``unit`` may lie."""
    return TARGET_BOUNDS.get(unit, DEFAULT_BOUNDS)


def measured_value(value: Any, unit: str) -> float:
    """An observed value, within its unit's range (a percentage 0–100, a share 0–1 …)."""
    low, high = bounds(unit)
    return number(value, "Value", minimum=low, maximum=high)


def _get(item: Any, name: str) -> Any:
    return item[name] if isinstance(item, Mapping) else getattr(item, name)


def criterion_record(criterion: Any) -> dict[str, Any]:
    """The fields of a criterion that pre-registration freezes."""
    return {f: _get(criterion, f) for f in CRITERION_FIELDS} | {
        "is_indispensability": bool(_get(criterion, "is_indispensability"))}


def metric_record(metric: Any) -> dict[str, Any]:
    """The fields of a commissioning metric that lock at real use."""
    return {f: _get(metric, f) for f in METRIC_FIELDS}


def canonical_criteria(problem_id: int, version: int, criteria: Iterable[Any]) -> tuple[str, str]:
    """(canonical JSON, SHA-256) of a problem version's criteria set."""
    items = list(criteria)
    body = _fast_body(CRITERIA_KEYS, items, "criteria", {"problem_id": problem_id, "version": version})
    if body is None:  # a value of another type (an Enum, a Decimal…): the general encoder decides
        body = canonical_json({
            "problem_id": problem_id,
            "version": version,
            "criteria": sorted((criterion_record(c) for c in items), key=lambda r: r["name"]),
        })
    return body, sha256_hex(body)


def canonical_metrics(pilot_id: int, metrics: Iterable[Any]) -> tuple[str, str]:
    """(canonical JSON, SHA-256) of a pilot's commissioning metrics."""
    items = list(metrics)
    body = _fast_body(METRIC_KEYS, items, "metrics", {"pilot_id": pilot_id})
    if body is None:
        body = canonical_json({"pilot_id": pilot_id,
                               "metrics": sorted((metric_record(m) for m in items), key=lambda r: r["name"])})
    return body, sha256_hex(body)


# ------------------------------------------------ the canonical form, fast
# ``canonical_json`` walks every value through ``jsonable`` (in Python) before the C encoder
# writes it; for these flat records of plain values that walk changes nothing and cost most of
# the time the integrity check spent hashing. When every value is of an exact plain type the
# records go straight to the same encoder — the same bytes (tests/test_integrity_canonical.py
# holds it); anything else (an Enum, a Decimal, a non-finite number) takes the general path, so
# an unusual value can only cost time, never change a hash or escape a refusal.
#: The keys of a criterion's and a metric's record.
CRITERIA_KEYS = (*CRITERION_FIELDS, "is_indispensability")
METRIC_KEYS = METRIC_FIELDS
_PLAIN = frozenset({str, int, float, bool, type(None)})
_GET = {CRITERIA_KEYS: attrgetter(*CRITERIA_KEYS), METRIC_KEYS: attrgetter(*METRIC_KEYS)}


def _fast_body(keys: tuple[str, ...], items: list[Any], head: str, tail: dict[str, Any]) -> str | None:
    """``canonical_json({head: [records sorted by name], **tail})``, or None if a value is of a
    type only the general path writes."""
    get = _GET[keys]
    criteria = keys is CRITERIA_KEYS  # its last key, is_indispensability, is recorded as bool(...)
    plain = _PLAIN.issuperset
    records = []
    for item in items:
        values = tuple(item[k] for k in keys) if isinstance(item, Mapping) else get(item)
        if criteria:
            values = (*values[:-1], bool(values[-1]))
        if not plain(map(type, values)):
            return None
        records.append(dict(zip(keys, values)))  # noqa: B905 - both have len(keys) items
    if not _PLAIN.issuperset(map(type, tail.values())):
        return None
    try:
        records.sort(key=lambda r: r["name"])  # stable: ties keep their order, as ``sorted`` did
        return canonical_encoder().encode({head: records, **tail})
    except (ValueError, TypeError):  # a non-finite number, names that do not compare: the general path's word
        return None


def _target(value: Any, unit: str, indispensability: bool) -> float:
    if indispensability:
        return number(value, "Indispensability threshold", minimum=0, min_exclusive=True, maximum=1)
    low, high = bounds(unit)
    return number(value, "Target", minimum=low, maximum=high)


def validate_criterion(fields: Mapping[str, Any], *, indispensability: bool = False,
                       min_evidence_floor: int = 1) -> dict[str, Any]:
    """Cleaned criterion fields, or ``InvalidInput`` naming the bad one."""
    if not isinstance(fields, Mapping):
        raise InvalidInput("A criterion is a record of name, definition, unit, direction and target.")
    unit = one_of(fields.get("unit"), UNITS, "Unit")
    cleaned = {
        "name": text(fields.get("name"), "Criterion name", max_len=NAME_MAX),
        "definition": text(fields.get("definition"), "Definition", max_len=TEXT_MAX),
        "measurement_method": text(fields.get("measurement_method"), "How it is measured",
                                   max_len=TEXT_MAX),
        "unit": unit,
        "direction": str(choice(fields.get("direction"), Direction, "Direction")),
        "target": _target(fields.get("target"), unit, indispensability),
        "minimum_evidence": whole(fields.get("minimum_evidence"), "Minimum evidence",
                                  minimum=min_evidence_floor, maximum=1_000_000),
    }
    if indispensability and (unit != "share" or cleaned["direction"] != Direction.HIGHER_IS_BETTER):
        raise InvalidInput("The indispensability threshold is a share where higher is better.")
    return cleaned


def validate_metric(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Cleaned commissioning-metric fields, or ``InvalidInput`` naming the bad one."""
    if not isinstance(fields, Mapping):
        raise InvalidInput("Each commissioning metric is a record of name, definition, unit, direction "
                           "and target.")
    unit = one_of(fields.get("unit"), UNITS, "Unit")
    low, high = bounds(unit)
    return {
        "name": text(fields.get("name"), "Metric name", max_len=NAME_MAX),
        "definition": text(fields.get("definition"), "Metric definition", max_len=TEXT_MAX),
        "unit": unit,
        "direction": str(choice(fields.get("direction"), Direction, "Direction")),
        "target": number(fields.get("target"), "Target", minimum=low, maximum=high),
    }


def indispensability_spec(window_days: int, threshold: float, minimum_n: int) -> dict[str, Any]:
    """The indispensability criterion every problem starts with (the Sean Ellis measure)."""
    return {
        "name": INDISPENSABILITY_NAME,
        "definition": "Share of rostered users who would be very disappointed if they could no "
                      "longer use the tool (Sean Ellis question) after real use.",
        "measurement_method": f"Indispensability survey after {window_days} days of real use; share "
                              "answering 'very disappointed', with its Wilson 95 % interval.",
        "unit": "share", "direction": Direction.HIGHER_IS_BETTER.value,
        "target": float(threshold), "minimum_evidence": int(minimum_n),
    }
