"""The fast canonical form of criteria and metrics is byte for byte ``canonical_json``.

``prereg.canonical_criteria`` / ``canonical_metrics`` write these flat records directly (the
integrity check hashes every locked set). Every lock ever recorded was hashed by the general
encoder, so one differing byte would make every lock read as "altered" — or, worse, let two
different records share a hash. Each property below builds the reference exactly as the code
did before: ``canonical_json`` of ``criterion_record`` / ``metric_record`` dicts sorted by name.
"""
from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, strategies as st

from governance.record.chain import canonical_json, sha256_hex
from governance.rules.prereg import canonical_criteria, canonical_metrics, criterion_record, metric_record
from governance.vocabulary import Direction

TEXT = st.text(max_size=16)  # any characters: quotes, backslashes, controls, non-ASCII, surrogates
NAMES = st.sampled_from(["Accuracy", "Minutes", "Indispensability", "é", 'a"b', "a\\b", "\x00", ""]) | TEXT
NUMBER = st.floats(allow_nan=False, allow_infinity=False) | st.integers(-10**20, 10**20)


def _criterion(**kw: Any) -> dict[str, Any]:
    return kw


CRITERIA = st.builds(_criterion, name=NAMES, definition=TEXT, measurement_method=TEXT, unit=TEXT,
                     direction=st.sampled_from(["higher_is_better", "lower_is_better"]) | TEXT,
                     target=NUMBER, minimum_evidence=st.integers(0, 10**9) | st.none(),
                     is_indispensability=st.booleans() | st.integers(0, 2) | st.none())
METRICS = st.builds(_criterion, name=NAMES, definition=TEXT, unit=TEXT, direction=TEXT, target=NUMBER)


def reference_criteria(problem_id: Any, version: Any, criteria: list[Any]) -> str:
    return canonical_json({"problem_id": problem_id, "version": version,
                           "criteria": sorted((criterion_record(c) for c in criteria), key=lambda r: r["name"])})


def reference_metrics(pilot_id: Any, metrics: list[Any]) -> str:
    return canonical_json({"pilot_id": pilot_id,
                           "metrics": sorted((metric_record(m) for m in metrics), key=lambda r: r["name"])})


@given(st.integers(0, 10**12), st.integers(1, 99), st.lists(CRITERIA, max_size=8), st.booleans())
def test_criteria_bytes_are_canonical_json(problem_id: int, version: int, criteria: list[dict[str, Any]],
                                           as_rows: bool) -> None:
    items: list[Any] = [SimpleNamespace(**c) for c in criteria] if as_rows else criteria
    body, digest = canonical_criteria(problem_id, version, items)
    assert body == reference_criteria(problem_id, version, items)
    assert digest == sha256_hex(body)


@given(st.integers(0, 10**12), st.lists(METRICS, max_size=8), st.booleans())
def test_metric_bytes_are_canonical_json(pilot_id: int, metrics: list[dict[str, Any]], as_rows: bool) -> None:
    items: list[Any] = [SimpleNamespace(**m) for m in metrics] if as_rows else metrics
    body, digest = canonical_metrics(pilot_id, items)
    assert body == reference_metrics(pilot_id, items)
    assert digest == sha256_hex(body)


def test_ties_on_name_keep_their_order_as_before() -> None:
    same = [dict(name="Twin", definition=str(i), unit="share", direction="higher_is_better", target=0.5)
            for i in range(5)]
    assert canonical_metrics(1, same)[0] == reference_metrics(1, same)
    assert canonical_metrics(1, same[::-1])[0] == reference_metrics(1, same[::-1])


@pytest.mark.parametrize("odd", [Decimal("0.4"), Direction.HIGHER_IS_BETTER, 1e308 * 10, float("nan")])
def test_values_of_other_types_take_the_general_encoder(odd: Any) -> None:
    """An Enum, a Decimal: the same bytes as the general encoder; a non-finite number: its refusal."""
    metric = dict(name="M", definition="d", unit="share", direction="higher_is_better", target=0.5)
    for field in ("target", "direction"):
        items = [{**metric, field: odd}]
        try:
            expected: Any = reference_metrics(7, items)
        except ValueError as refused:
            with pytest.raises(ValueError, match=str(refused)[:20]):
                canonical_metrics(7, items)
        else:
            assert canonical_metrics(7, items)[0] == expected


def test_a_changed_target_changes_the_hash() -> None:
    metric = dict(name="M", definition="d", unit="share", direction="higher_is_better", target=0.5)
    assert canonical_metrics(7, [metric])[1] != canonical_metrics(7, [{**metric, "target": 0.05}])[1]
