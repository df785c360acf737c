"""The integrity check's fast digests are byte for byte the digests the closing events record.

``record.integrity`` rebuilds a closed vote's ballot digest from counts per (group, option) and a
round's response digest from string rows; both must equal ``chain.rows_digest`` of the same rows
(which the services record when a vote or round closes), or every check would cry "altered".
"""
from __future__ import annotations

from collections import Counter

from hypothesis import given, strategies as st

from governance.record.chain import rows_digest
from governance.record.integrity import _multiset_digest, _sorted_rows_digest

TEXT = st.text(min_size=0, max_size=12)  # any characters: quotes, backslashes, non-ASCII, controls


@given(st.lists(st.tuples(TEXT, TEXT), max_size=60))
def test_the_ballot_digest_from_counts_is_the_recorded_digest(pairs: list[tuple[str, str]]) -> None:
    assert _multiset_digest(dict(Counter(pairs))) == rows_digest(pairs)


@given(st.lists(st.tuples(st.integers(), st.integers(), TEXT, st.one_of(st.none(), st.floats(0, 100))),
                max_size=60))
def test_the_response_digest_from_string_rows_is_the_recorded_digest(rows: list[tuple]) -> None:
    assert _sorted_rows_digest([[str(v) for v in row] for row in rows]) == rows_digest(rows)


def test_one_changed_ballot_changes_the_digest() -> None:
    pairs = [("frontline", "adopt")] * 3 + [("steering", "iterate")]
    changed = [("frontline", "adopt")] * 2 + [("frontline", "stop"), ("steering", "iterate")]
    assert _multiset_digest(dict(Counter(changed))) != rows_digest(pairs)
