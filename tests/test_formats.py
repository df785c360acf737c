"""Percentages written one way (issue 14): every share, threshold, quorum and weight reads
"40 %", never 0.4 in one place and 40% in another; and the confidence interval is said in
words where a person first meets it ("likely between 19 % and 81 % … from 6 answers")."""
from __future__ import annotations

import re
from collections.abc import Iterator
from fractions import Fraction

import pytest

from governance.rules.evidence import in_words, indispensability
from governance.rules.permissions import PAGE_ROLES
from governance.vocabulary import percent
from pages.present import pct
from tests.apptest_support import offers, ok, open_page, pages_pointed_at, shown_text
from tests.test_pages_render import Furnished, details, furnished
from tests.test_plain_language import everything_shown

__all__ = ["furnished"]

#: A percentage written without its space ("40%"), or a share written as a bare decimal beside
#: the words that name a share ("threshold 0.4").
OTHER_WAYS = re.compile(r"\d%|(?:threshold|quorum|weight)\D{0,3}0\.\d")


@pytest.mark.parametrize(("share", "text"), [(0.4, "40 %"), (0.0, "0 %"), (1, "100 %"), (0.666, "67 %"),
                                             (Fraction(1, 2), "50 %"), (None, "—")])
def test_one_formatter_for_every_share(share: float | None, text: str) -> None:
    assert percent(share) == text
    assert pct(share) == text  # the pages' name for it is the same function


def test_the_interval_in_words_names_its_ends_and_its_answers() -> None:
    result = indispensability(3, 6, threshold=0.4, minimum_n=5)
    assert result.text.startswith("50 % very disappointed (95 % CI 19 %–81 %, n=6)")
    assert result.words == ("50 % would be very disappointed to lose it — the true share is likely between "
                            "19 % and 81 % (the 95 % confidence interval), from 6 answers — meets the 40 % "
                            "threshold")
    # A frozen basis keeps the same fields: it is said the same way.
    assert in_words(result.as_dict()) == result.words
    thin = indispensability(3, 4, threshold=0.4, minimum_n=5)
    assert thin.words == ("insufficient evidence: 4 answers, and the charter needs at least 5 before the "
                          "share counts")
    assert indispensability(0, 0, threshold=0.4, minimum_n=5).words == "no responses yet"


@pytest.fixture
def shown(furnished: Furnished) -> Iterator[Furnished]:
    with pages_pointed_at(furnished.world.db):
        yield furnished


PAGES = ["compare", "evaluate", "pilots", "problems", "audit", "admin"]


@pytest.mark.parametrize("page", PAGES)
def test_no_page_writes_a_share_another_way(shown: Furnished, page: str) -> None:
    for role in sorted(PAGE_ROLES[page]):
        at = open_page(shown.person(role), page)
        seen = [part for part in everything_shown(at)]
        for key, record in details(shown)[page]:
            boxes = [b for b in at.selectbox if b.key == key]
            if boxes and offers(boxes[0], record):
                at = ok(boxes[0].set_value(record).run())
                seen += everything_shown(at)
        assert not [t for t in seen if OTHER_WAYS.search(t)], (page, role, [t for t in seen
                                                                            if OTHER_WAYS.search(t)][:5])


def test_the_charter_shows_its_shares_as_percentages(shown: Furnished) -> None:
    at = open_page(shown.world.admin, "admin")
    [versions] = [d.value for d in at.dataframe if "Indispensability threshold" in d.value.columns]
    assert set(versions["Indispensability threshold"]) == {"40 %"}
    assert set(versions["Frontline weight"]) == {"60 %"} and set(versions["Frontline quorum"]) == {"50 %"}


def test_compare_says_the_interval_in_words_where_it_first_shows_it(shown: Furnished) -> None:
    at = open_page(shown.world.steering, "compare")
    text = shown_text(at)
    assert "95 % confidence interval — the range the true share is likely in, given how many answered" in text
    assert "Dashed line: indispensability threshold (40 %)." in text
    at = ok(at.selectbox(key="compare-pilot").set_value(shown.decided).run())
    assert "the true share is likely between" in shown_text(at)
    assert re.search(r"confidence interval\\?\), from \d+ answers", shown_text(at))
    [listed] = [d.value for d in at.dataframe if "Likely between" in d.value.columns]
    # Still numbers (a header click sorts them), scaled to read as whole percentages.
    assert listed["Very disappointed"].max() == pytest.approx(100)
