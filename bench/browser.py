"""Browser-felt timings (issue 16 item 2): the dashboard as a person feels it, in headless
Chromium against ``streamlit run dashboard.py`` over the benchmark's database.

Every page as the role that uses it, and the main acts (open a pilot, cast a ballot, close a
vote, verify the chain), timed from the navigation or click to the *settled* page
(``bench.chromium.Settle``: the script run finished, no delta still arriving, no status widget,
the expected content shown). Each figure is the median of ``runs``:

* ``cold_ms`` — a new browser context (empty cache; signed in by its session cookie), its
  first visit: for a page, the navigation to its address (the page and its scripts loaded,
  a new WebSocket session, the script run); for an act, the first time it is done there;
* ``warm_ms`` — the same context, a second visit: the page opened again by its sidebar link
  after another one, the act done again.

``measure`` also times the light path on the emulated slow link (``bench.lite``) under ``lite``.
The acts write, as a person would: ballots are changed, prepared votes are closed and the
chain-verification reads everything; the benchmark's organisation is a throwaway one.
"""
from __future__ import annotations

import os
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench import lite
from bench.chromium import Settle, StreamlitServer, launch, missing_browser, sign_in, wait_idle
from bench.pages import PAGE_ROLES
from bench.plan import ACCOUNT_PASSWORD
from governance.identity.keys import BALLOT_KEY_ENV, SIGNING_KEY_ENV
from governance.storage.db import Database
from pages.menu import TITLES

#: The title (sidebar link and heading) of each page.
PAGE_TITLES = TITLES  # from the router's own table
#: Each act and the role that does it.
ACT_ROLES = {"open a pilot": "commissioning", "cast a ballot": "frontline", "close a vote": "facilitator",
             "verify the chain": "auditor", "verify since the checkpoint": "auditor"}
#: Issue 16's targets for what a person feels.
PAGE_TARGET_MS, ACT_TARGET_MS = 1000.0, 1500.0
HEADING_JS = ("(text) => [...document.querySelectorAll('h1, h2, h3')].some("
              "h => h.offsetParent !== null && h.textContent.includes(text))")
TEXT_JS = "(text) => document.body.innerText.includes(text)"
METHOD = ("headless Chromium (system /usr/bin/chromium, Playwright) at 1400 x 1000 against `streamlit run "
          "dashboard.py` on loopback; median of runs; cold: a new browser context (empty cache, signed in by its "
          "session cookie), first visit (a page by navigation); warm: the same context, second visit (a page by "
          "its sidebar link); until the script run finished, no delta pending for 250 ms (not counted), no "
          "status widget and the content shown")
VIEWPORT = {"width": 1400, "height": 1000}
CAST_BUTTON = re.compile(r"^(Cast|Change) my ballot$")
STATEMENT = "Closed for the benchmark: everyone eligible has voted; the facilitator tells the panel."


class Browser:
    """The server and Chromium for one benchmark run."""

    def __init__(self, base_url: str, chromium: Any, accounts: dict[str, Any]) -> None:
        self.base_url = base_url
        self.chromium = chromium
        self.accounts = accounts
        self.states: dict[str, Any] = {}

    def signed_in(self, role: str) -> tuple[Any, Any, Settle]:
        """A new browser context (empty cache, a new session) already signed in as ``role`` —
        it carries the session cookie of one sign-in per role, as a returning person's browser
        does — and nothing opened yet: (context, page, settle)."""
        if role not in self.states:
            context = self.chromium.new_context(viewport=VIEWPORT)
            page = context.new_page()
            page.set_default_timeout(60_000)
            sign_in(page, self.base_url, self.accounts[role]["email"], ACCOUNT_PASSWORD)
            page.get_by_role("heading", name="Home").first.wait_for()
            self.states[role] = context.storage_state()
            context.close()
        context = self.chromium.new_context(viewport=VIEWPORT, storage_state=self.states[role])
        page = context.new_page()
        page.set_default_timeout(60_000)
        return context, page, Settle(page)

    def goto(self, page: Any, settle: Settle, path: str, heading: str) -> float:
        """Seconds from navigating to ``path`` to the settled page showing ``heading``."""
        started = time.perf_counter()
        page.goto(f"{self.base_url}{path}", wait_until="commit")
        return settle.wait(started, HEADING_JS, heading)

    @staticmethod
    def click_link(page: Any, settle: Settle, title: str) -> float:
        """Seconds from a click on the sidebar link ``title`` to its settled page."""
        link = page.get_by_role("link", name=title, exact=True).first
        started = time.perf_counter()
        link.click()
        return settle.wait(started, HEADING_JS, title)


def _ms(samples: list[float]) -> dict[str, Any]:
    return {"ms": round(statistics.median(samples) * 1000, 1), "all_ms": [round(s * 1000, 1) for s in samples]}


def _figure(role: str, cold: list[float], warm: list[float], target_ms: float, **extra: Any) -> dict[str, Any]:
    c, w = _ms(cold), _ms(warm)
    return {"role": role, "cold_ms": c["ms"], "warm_ms": w["ms"], "runs": len(cold),
            "cold_all_ms": c["all_ms"], "warm_all_ms": w["all_ms"], "target_ms": target_ms,
            "met": max(c["ms"], w["ms"]) <= target_ms, **extra}


# -------------------------------------------------------------------- pages
def measure_page(b: Browser, key: str, role: str, runs: int) -> dict[str, Any]:
    """One page: cold by navigation in a new context, warm by its sidebar link in the same one."""
    title = PAGE_TITLES[key]
    other = "Problems" if key == "home" else "Home"
    cold, warm = [], []
    for _ in range(runs):
        context, page, settle = b.signed_in(role)
        try:
            cold.append(b.goto(page, settle, "/" if key == "home" else f"/{key}", title))
            b.click_link(page, settle, other)
            warm.append(b.click_link(page, settle, title))
        finally:
            context.close()
    return _figure(role, cold, warm, PAGE_TARGET_MS)


# --------------------------------------------------------------------- acts
def _pick(page: Any, settle: Settle, label: str, option: str, ready: str, arg: str) -> float:
    """Open the selectbox ``label``, then time the click on ``option`` to the settled page."""
    page.get_by_label(label, exact=True).first.click()
    choice = page.get_by_role("option").filter(has_text=option).first
    choice.wait_for()
    started = time.perf_counter()
    choice.click()
    return settle.wait(started, ready, arg)


def _cold_and_warm(b: Browser, role: str, runs: int, once: Callable[[Any, Settle], float]
                   ) -> tuple[list[float], list[float]]:
    """``once`` timed ``runs`` times in a new signed-in context (cold), each followed by a second
    time in the same context (warm)."""
    cold, warm = [], []
    for _ in range(runs):
        context, page, settle = b.signed_in(role)
        try:
            cold.append(once(page, settle))
            warm.append(once(page, settle))
        finally:
            context.close()
    return cold, warm


def act_open_pilot(b: Browser, runs: int, pilots: list[tuple[int, str]]) -> dict[str, Any]:
    """Pilots page: choose a pilot in "Open a pilot" until its page (title heading) is shown."""
    (first_id, first), (second_id, second) = pilots[0], pilots[1]
    cold, warm = [], []
    for _ in range(runs):
        context, page, settle = b.signed_in("commissioning")
        try:
            b.goto(page, settle, "/pilots", "Pilots")
            cold.append(_pick(page, settle, "Open a pilot", f"#{first_id} · ", HEADING_JS, first))
            _pick(page, settle, "Open a pilot", f"#{second_id} · ", HEADING_JS, second)
            warm.append(_pick(page, settle, "Open a pilot", f"#{first_id} · ", HEADING_JS, first))
        finally:
            context.close()
    return _figure("commissioning", cold, warm, ACT_TARGET_MS, pilots=[first_id, second_id])


def _confirm(page: Any, settle: Settle, button: str, ready_text: str) -> float:
    """Time the press on ``button`` in the open confirmation dialog to the settled page."""
    dialog_button = page.get_by_role("dialog").get_by_role("button", name=button, exact=True)
    dialog_button.wait_for()
    started = time.perf_counter()
    dialog_button.click()
    return settle.wait(started, TEXT_JS, ready_text)


def act_cast_ballot(b: Browser, runs: int, vote_id: int, options: list[str]) -> dict[str, Any]:
    """Votes page, an open vote: a ballot chosen, Cast (or Change), then the dialog's "Cast ballot"
    timed until the page says the ballot is recorded. Each cast changes the ballot."""
    turn = 0

    def cast(page: Any, settle: Settle) -> float:
        nonlocal turn
        b.goto(page, settle, f"/votes?open-vote={vote_id}", "Votes")
        page.locator("[data-testid=stRadio]").get_by_text(options[turn % len(options)], exact=True).first.click()
        turn += 1
        page.get_by_role("button", name=CAST_BUTTON).first.click()
        return _confirm(page, settle, "Cast ballot", "ballot is recorded")

    cold, warm = _cold_and_warm(b, "frontline", runs, cast)
    return _figure("frontline", cold, warm, ACT_TARGET_MS, vote_id=vote_id)


def act_close_vote(b: Browser, runs: int, votes: list[int]) -> dict[str, Any]:
    """Votes page, a vote everyone has voted in: the outcome statement, "Close this vote now",
    then the dialog's "Close the vote" timed until the page says it is closed."""
    queue = list(votes)

    def close(page: Any, settle: Settle) -> float:
        vote_id = queue.pop(0)
        b.goto(page, settle, f"/votes?open-vote={vote_id}", "Votes")
        page.get_by_label("Outcome statement").fill(STATEMENT)
        page.get_by_role("button", name="Close this vote now", exact=True).first.click()
        return _confirm(page, settle, "Close the vote", "Vote closed.")

    cold, warm = _cold_and_warm(b, "facilitator", runs, close)
    return _figure("facilitator", cold, warm, ACT_TARGET_MS, votes=votes)


def act_verify_chain(b: Browser, runs: int, button: str = "Verify the whole record now") -> dict[str, Any]:
    """Audit page, Chain verification: ``button`` ("Verify the whole record now", or "Verify since
    the latest checkpoint") timed until the result (its "Events verified" figure) is shown and
    the spinner gone."""
    done = ("(text) => document.body.innerText.includes(text) && "
            "!document.querySelector('[data-testid=\"stSpinner\"]')")

    def verify(page: Any, settle: Settle) -> float:
        b.goto(page, settle, "/audit", "Audit")
        page.get_by_role("tab", name="Chain verification", exact=True).first.click()
        page.get_by_role("button", name=button).wait_for()
        wait_idle(page)
        started = time.perf_counter()
        page.get_by_role("button", name=button).click()
        return settle.wait(started, done, "Events verified", timeout_ms=300_000)

    cold, warm = _cold_and_warm(b, "auditor", runs, verify)
    return _figure("auditor", cold, warm, ACT_TARGET_MS)


# ------------------------------------------------------------ preparation
def prepare(db: Database, accounts: dict[str, Any], *, closable: int) -> dict[str, Any]:
    """What the acts need, read from (or, for closing, added to) the organisation through the
    product's own read models and services: two pilots the commissioner sees, an open vote the
    frontline account may vote in, an open survey round it is rostered on, and ``closable``
    ratification votes in the facilitator's smallest panel that everyone eligible has voted in
    (so the facilitator may close them early, R16)."""
    from governance.queries import evaluate as evaluate_q, pilots as pilots_q, votes as votes_q
    from governance.vocabulary import label

    frontline, commissioner = accounts["frontline"]["person_id"], accounts["commissioning"]["person_id"]
    listing = pilots_q.pilots_page(db.uow(), commissioner, mine=True, page=1, per_page=15)
    pilots = [(r.id, r.title) for r in listing.rows[:2]]
    vote = next((r.id for r in votes_q.votes_page(db.uow(), frontline, status="open", mine_only=True).rows
                 if votes_q.vote_detail(db.uow(), frontline, r.id).may_cast), None)
    options = [label(o) for o in votes_q.vote_detail(db.uow(), frontline, vote).options] if vote else []
    rounds = [s.round_id for s in evaluate_q.my_surveys(db.uow(), frontline)]
    return {"pilots": pilots, "ballot_vote": vote, "ballot_options": options,
            "survey_round": rounds[0] if rounds else None,
            "closable_votes": _closable_votes(db, accounts["facilitator"]["person_id"], closable)}


def _closable_votes(db: Database, facilitator: int, n: int) -> list[int]:
    from governance import services as sv
    from governance.storage.models import PanelMembership, VoteEligibility
    from governance.vocabulary import PanelRole

    with db.uow().reading() as s:
        panels = list(s.scalars(select(PanelMembership.panel_id).where(
            PanelMembership.person_id == facilitator, PanelMembership.panel_role == PanelRole.FACILITATOR)))
        if not panels:
            return []
        size = func.count(PanelMembership.person_id)
        panel = s.execute(select(PanelMembership.panel_id, size).where(PanelMembership.panel_id.in_(panels))
                          .group_by(PanelMembership.panel_id).order_by(size, PanelMembership.panel_id)).first()
    assert panel is not None
    votes = []
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    for i in range(n):
        problem = sv.draft_problem(db.uow(), facilitator, panel_id=panel[0],
                                   title=f"Benchmark friction {i + 1} ({stamp})",
                                   statement="A friction drafted by the browser benchmark, to be ratified and "
                                             "closed in the browser.")
        sv.add_criterion(db.uow(), facilitator, problem, name="Minutes lost per week",
                         definition="Time the team loses to it.", measurement_method="Timesheet sample.",
                         unit="minutes", direction="lower_is_better", target=60, minimum_evidence=4)
        vote = sv.propose_ratification(db.uow(), facilitator, problem)
        with db.uow().reading() as s:
            voters = list(s.scalars(select(VoteEligibility.person_id).where(VoteEligibility.vote_id == vote)))
        for person in voters:
            sv.cast_ballot(db.uow(), person, vote, "approve")
        votes.append(vote)
    return votes


# ---------------------------------------------------------------- the run
def measure_all(b: Browser, needs: dict[str, Any], *, runs: int, lite_runs: int,
                say: Callable[[str], None]) -> dict[str, Any]:
    """Every page, every act, then the light path, in the order of the JSON."""
    results: dict[str, Any] = {}
    context, page, settle = b.signed_in("frontline")  # the server's first runs: its imports
    b.goto(page, settle, "/", "Home")
    context.close()
    for key, role in PAGE_ROLES.items():
        say(f"  page {key} as {role} …")
        results[key] = measure_page(b, key, role, runs)
    acts: dict[str, Callable[[], dict[str, Any]]] = {
        "open a pilot": lambda: act_open_pilot(b, runs, needs["pilots"]),
        "cast a ballot": lambda: act_cast_ballot(b, runs, needs["ballot_vote"], needs["ballot_options"]),
        "close a vote": lambda: act_close_vote(b, runs, needs["closable_votes"]),
        "verify the chain": lambda: act_verify_chain(b, runs),
        "verify since the checkpoint": lambda: act_verify_chain(b, runs, "Verify since the latest checkpoint"),
    }
    missing = {"open a pilot": len(needs["pilots"]) < 2, "cast a ballot": needs["ballot_vote"] is None,
               "close a vote": len(needs["closable_votes"]) < 2 * runs}
    for name, fn in acts.items():
        if missing.get(name):
            results[name] = {"role": ACT_ROLES[name], "pending": "nothing to do it on in this organisation"}
            continue
        say(f"  act: {name} …")
        results[name] = fn()
    if needs["survey_round"] is None:
        results["lite"] = {"pending": "no open survey round for the frontline account"}
    else:
        say("  the light path on the emulated slow link …")
        results["lite"] = lite.measure(b.chromium, b.base_url, email=b.accounts["frontline"]["email"],
                                       password=ACCOUNT_PASSWORD, round_id=needs["survey_round"], runs=lite_runs)
    return results


def measure(db: Database, url: str, *, accounts: dict[str, Any], runs: int = 5, lite_runs: int | None = None,
            say: Callable[[str], None] = lambda _m: None) -> dict[str, Any]:
    """Every page and act in Chromium against a dashboard server over ``url``:
    ``{page or act: {"cold_ms", "warm_ms", …}, "lite": {…}}``. Needs Playwright and the system
    Chromium; the server runs on a free loopback port for the length of the call."""
    reason = missing_browser()
    if reason:
        raise SystemExit(f"--browser needs a browser: {reason}")
    from playwright.sync_api import sync_playwright

    say("  preparing the acts (votes everyone has voted in, for closing) …")
    started = time.perf_counter()
    needs = prepare(db, accounts, closable=2 * runs)
    prepare_s = time.perf_counter() - started
    env = {BALLOT_KEY_ENV: str(db.keys.ballot_key_file or ""), SIGNING_KEY_ENV: str(db.keys.signing_key_file or "")}
    results: dict[str, Any] = {"load_average_before": [round(x, 2) for x in os.getloadavg()]}
    with tempfile.TemporaryDirectory() as tmp:
        server = StreamlitServer(url, Path(tmp) / "streamlit.log", env=env, timeout=120)
        try:
            with sync_playwright() as p:
                chromium = launch(p)
                try:
                    results.update(measure_all(Browser(server.url, chromium, accounts), needs, runs=runs,
                                               lite_runs=lite_runs or runs, say=say))
                finally:
                    chromium.close()
        finally:
            server.stop()
            tracebacks = server.tracebacks()
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]  # the machine is shared
    results["server_tracebacks"] = len(tracebacks)
    results["prepare_s"] = round(prepare_s, 1)
    results["method"] = METHOD
    if tracebacks:
        results["first_traceback"] = tracebacks[0][-2000:]
    return results
