"""Page timings: every page, as the role that uses it, run by Streamlit's AppTest
against the benchmark database — the same script a browser session runs
(router, sidebar, the page and all its read models).

``cold``: Streamlit's data caches cleared before each run. ``warm``: kept.
Each figure is the median of ``runs`` runs after one warm-up run.
"""
from __future__ import annotations

import logging
import statistics
import time
from typing import Any

from governance.storage.db import Database

#: Each page and the role whose work it is.
PAGE_ROLES = {
    "home": "frontline",
    "problems": "frontline",
    "evaluate": "frontline",
    "votes": "frontline",
    "paper": "facilitator",
    "pilots": "commissioning",
    "compare": "steering",
    "audit": "auditor",
    "admin": "admin",
}


def _app(person_id: int) -> Any:
    from streamlit.testing.v1 import AppTest

    from governance.storage.db import PROJECT_ROOT

    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
    at.session_state["person_id"] = person_id
    return at


def _run_page(person_id: int, page: str, *, cold: bool) -> float:
    """Seconds for one script run of ``page`` (the router and the page)."""
    import streamlit as st

    at = _app(person_id)
    at.run()  # sign-in state and navigation, as a browser session has before it opens a page
    _fail_on_exception(at, "home")
    if cold:
        st.cache_data.clear()
    start = time.perf_counter()
    if page == "home":
        at.run()
    else:
        at.switch_page(f"pages/{page}.py").run()
    seconds = time.perf_counter() - start
    _fail_on_exception(at, page)
    return seconds


def _fail_on_exception(at: Any, page: str) -> None:
    if at.exception:
        raise RuntimeError(f"page {page} raised: {at.exception[0].value}")
    if at.error:
        raise RuntimeError(f"page {page} showed an error: {at.error[0].value}")


def measure(db: Database, *, accounts: dict[str, Any], runs: int = 5) -> dict[str, Any]:
    from pages import common

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    common.use_database(db)
    try:
        results: dict[str, Any] = {}
        for page, role in PAGE_ROLES.items():
            person = accounts[role]["person_id"]
            _run_page(person, page, cold=True)  # warm-up (imports, first connection)
            cold = [_run_page(person, page, cold=True) for _ in range(runs)]
            _run_page(person, page, cold=False)  # fill the caches
            warm = [_run_page(person, page, cold=False) for _ in range(runs)]
            results[page] = {"role": role, "person_id": person, "runs": runs,
                             "cold_ms": round(statistics.median(cold) * 1000, 1),
                             "warm_ms": round(statistics.median(warm) * 1000, 1),
                             "cold_all_ms": [round(x * 1000, 1) for x in cold],
                             "warm_all_ms": [round(x * 1000, 1) for x in warm]}
        return results
    finally:
        common.use_database(None)
