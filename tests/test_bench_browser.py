"""The browser benchmark (issue 16 item 2) at `smoke` scale, one run each: `python -m bench
--browser` generates the organisation, starts the dashboard, and times every page and act in
headless Chromium and the light path on the emulated slow link. Held here: the JSON's shape
(`browser` → {page or act: {"cold_ms", "warm_ms"}}, `browser.lite`), every figure a positive
number, and no traceback in the server's log. No timing targets are asserted (the machine
is shared); the benchmark's own `targets` say whether they were met.

    REQUIRE_BROWSER=1 python -m pytest tests/test_bench_browser.py
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.__main__ import run
from bench.browser import ACT_ROLES
from bench.pages import PAGE_ROLES
from tests.browser_support import browser_or_skip

# About a minute and a half on an idle machine; the bound leaves room for a shared, loaded one.
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def test_the_browser_benchmark_times_every_page_and_act_at_smoke_scale(tmp_path: Path) -> None:
    browser_or_skip()
    out = tmp_path / "smoke.json"
    run("smoke", str(out), url=f"sqlite:///{tmp_path / 'smoke.db'}", runs=1, tally_runs=1, quiet=True,
        browser=True)
    results = json.loads(out.read_text(encoding="utf-8"))
    felt = results["browser"]
    assert felt["server_tracebacks"] == 0, felt.get("first_traceback")
    for name, role in {**PAGE_ROLES, **ACT_ROLES}.items():
        figure = felt[name]
        assert figure["role"] == role, name
        assert _positive(figure["cold_ms"]) and _positive(figure["warm_ms"]), (name, figure)
        assert figure["runs"] == 1 and len(figure["cold_all_ms"]) == len(figure["warm_all_ms"]) == 1
    lite = felt["lite"]
    for key in ("sign_in_form_usable_ms", "survey_submitted_ms", "largest_response_bytes", "requests"):
        assert _positive(lite[key]), (key, lite)
    assert lite["sign_in_form_usable_ms"] < lite["survey_submitted_ms"]  # the survey comes after the sign-in
    targets = results["targets"]
    assert {"browser_page_ms_max", "browser_act_ms_max"} <= set(targets)
    assert all(isinstance(targets[k]["met"], bool) for k in ("browser_page_ms_max", "browser_act_ms_max"))
