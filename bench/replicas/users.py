"""The simulated users: writers on the light path, readers in browsers, and the tally of their acts."""
from __future__ import annotations

import asyncio
import contextlib
import random
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.replicas.processes import ACT_TIMEOUT_S, CSRF, RECEIPT, SIGN_IN_TIMEOUT_S
from bench.replicas.seeding import Reader, Writer


# ------------------------------------------------------------------ measuring
@dataclass
class Tally:
    """What every user did: latencies, failures, and the writes they were told were recorded."""

    latencies_ms: list[float] = field(default_factory=list)
    kinds: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    failover_retries: int = 0
    secret: dict[str, tuple[int, str]] = field(default_factory=dict)     # receipt -> (vote, option)
    named: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # reason tag -> (vote, person, option)
    answers: dict[str, tuple[int, int]] = field(default_factory=dict)     # use_instead tag -> (round, person)
    last: dict[tuple[str, int, int], str] = field(default_factory=dict)   # (kind, person, vote/round) -> tag
    ambiguous_tags: list[str] = field(default_factory=list)
    ambiguous_secret: int = 0
    replica_of_reader: dict[str, str] = field(default_factory=dict)
    killed_at: float | None = None
    kill_moment: float | None = None                                      # time.monotonic() of the kill
    users: set[str] = field(default_factory=set)
    carried_on: set[str] = field(default_factory=set)                     # users with an act done after it

    def record(self, kind: str, ms: float) -> None:
        """One finished interaction."""
        self.latencies_ms.append(ms)
        self.kinds.setdefault(kind, []).append(ms)


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0–1) by linear interpolation; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (pos - low), 1)


class Retry(Exception):
    """An interaction failed in a way a person would answer by trying again."""


async def attempt(tally: Tally, kind: str, act: Any, *, user: str, timeout: float = ACT_TIMEOUT_S) -> Any:
    """Run ``act()`` (a coroutine factory) as one timed interaction; on failure try once more.

    The first failure is a failover retry (the person's page was on the killed replica, or its
    answer was lost with it); a second failure is an error."""
    tally.users.add(user)
    for tries in (1, 2):
        started = time.perf_counter()
        try:
            result = await asyncio.wait_for(act(tries), timeout)
        except Exception as exc:  # noqa: BLE001 - any failure of the act is counted, none is hidden
            if tries == 1:
                tally.failover_retries += 1
                await asyncio.sleep(1.0)
                continue
            tally.errors.append(f"{user} {kind}: {type(exc).__name__}: {str(exc)[:300]}")
            return None
        tally.record(kind, (time.perf_counter() - started) * 1000)
        if tally.kill_moment is not None and time.monotonic() - (time.perf_counter() - started) > tally.kill_moment:
            tally.carried_on.add(user)
        return result
    return None


@dataclass
class Phase:
    """Everyone signs in first; the measured ``seconds`` start when all have (or gave up)."""

    expected: int
    arrived_n: int = 0
    all_arrived: asyncio.Event = field(default_factory=asyncio.Event)
    start: asyncio.Event = field(default_factory=asyncio.Event)
    deadline: float = 0.0
    #: Browsers sign in two at a time: each first load parses the whole dashboard's JavaScript,
    #: and sixteen at once on two cores time out (measured: 14 of 16 missed 2 × 120 s).
    browser_gate: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))

    def arrived(self) -> None:
        """One user signed in (or failed to)."""
        self.arrived_n += 1
        if self.arrived_n >= self.expected:
            self.all_arrived.set()

    async def begin(self) -> None:
        """Count this user in and wait for the measured part to start."""
        self.arrived()
        await self.start.wait()

    def running(self) -> bool:
        """True until the measured part is over."""
        return time.monotonic() < self.deadline


# ------------------------------------------------------------------ writers (the light path)
def _csrf(page: str) -> str:
    found = CSRF.search(page)
    if not found:
        raise Retry("the page has no form")
    return found.group(1)


async def lite_sign_in(client: Any, email: str, password: str) -> bool:
    """Sign in on the light path's form (``services.sign_in``: the Argon2id check, the session row)
    unless already signed in; the client then holds the dashboard's own ``pilot_session`` cookie."""
    form = await client.get("/lite/")
    form.raise_for_status()
    if "Sign out" in form.text:
        return True
    r = await client.post("/lite/sign-in", data={"email": email, "password": password, "csrf": _csrf(form.text)})
    if r.status_code != 200 or r.url.path != "/lite/" or "Sign out" not in r.text:
        raise Retry(f"sign-in answered {r.status_code} at {r.url.path}")
    return True


async def writer_loop(w: Writer, password: str, base: str, phase: Phase, tally: Tally,
                      think: float, rng: random.Random, arrive: float) -> None:
    """After ``arrive`` seconds sign in on /lite/ and, while ``phase`` runs, cast or change ballots and
    answer surveys."""
    import httpx

    await asyncio.sleep(arrive)
    from governance.vocabulary import SurveyAnswer

    user = f"writer {w.email}"
    limits = httpx.Limits(max_connections=2)
    async with httpx.AsyncClient(base_url=base, follow_redirects=True, timeout=SIGN_IN_TIMEOUT_S,
                                 limits=limits) as client:
        async def sign_in(_tries: int) -> bool:
            return await lite_sign_in(client, w.email, password)

        signed_in = await attempt(tally, "sign_in", sign_in, user=user, timeout=SIGN_IN_TIMEOUT_S)
        await phase.begin()
        while signed_in and phase.running():
            tasks = [("vote", v) for v in w.votes] + [("survey", r) for r in w.rounds]
            kind, target = rng.choice(tasks)
            if kind == "vote":
                await cast(client, w, target, tally, rng, user)
            else:
                await answer(client, w, target, tally, rng, user, [a.value for a in SurveyAnswer])
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think)


def _page(client: Any, path: str) -> Callable[[int], Awaitable[str]]:
    """An interaction that opens a light-path page (its HTML), retried when it does not answer 200."""

    async def open_page(_tries: int) -> str:
        r = await client.get(path)
        if r.status_code != 200:
            raise Retry(f"{path} answered {r.status_code}")
        return str(r.text)
    return open_page


async def cast(client: Any, w: Writer, vote_id: int, tally: Tally, rng: random.Random, user: str) -> None:
    """Open the vote (one interaction) and cast or change the ballot (another)."""
    path = f"/lite/vote/{vote_id}"
    state: dict[str, str] = {}
    open_vote = _page(client, path)

    page = await attempt(tally, "open_vote", open_vote, user=user)
    if page is None:
        return

    async def post(tries: int) -> None:
        text_ = page if tries == 1 else await open_vote(tries)
        options = re.findall(r'name="option" value="([^"]+)"', text_)
        if not options:
            raise Retry("no ballot form")
        current = re.search(r'name="option" value="([^"]+)"[^>]*checked', text_)
        choices = [o for o in options if current is None or o != current.group(1)] or options
        state["option"] = rng.choice(choices)
        tag = f"bench {w.person_id}.{vote_id}.{secrets.token_hex(4)}"
        named = 'name="reason"' in text_
        data = {"option": state["option"], "csrf": _csrf(text_)}
        if named:
            data["reason"] = tag
        try:
            r = await client.post(path, data=data)
        except Exception:
            _ambiguous(tally, tag if named else None)
            raise
        if r.status_code != 200 or "Your ballot is recorded" not in r.text:
            _ambiguous(tally, tag if named else None)
            raise Retry(f"ballot answered {r.status_code}")
        if named:
            tally.named[tag] = (vote_id, w.person_id, state["option"])
            tally.last[("named", w.person_id, vote_id)] = tag
        else:
            receipt = RECEIPT.search(r.text)
            if receipt is None:
                raise Retry("a secret ballot without a receipt")
            tally.secret[receipt.group(1)] = (vote_id, state["option"])
            tally.last[("secret", w.person_id, vote_id)] = receipt.group(1)

    await attempt(tally, "cast_ballot", post, user=user)


def _ambiguous(tally: Tally, tag: str | None) -> None:
    # The answer was lost (the replica died, say): the write may or may not have happened.
    if tag is None:
        tally.ambiguous_secret += 1
    else:
        tally.ambiguous_tags.append(tag)


async def answer(client: Any, w: Writer, round_id: int, tally: Tally, rng: random.Random, user: str,
                 answers: list[str]) -> None:
    """Open the survey (one interaction) and answer it, usability items too (another)."""
    path = f"/lite/survey/{round_id}"
    open_survey = _page(client, path)

    page = await attempt(tally, "open_survey", open_survey, user=user)
    if page is None:
        return

    async def post(tries: int) -> None:
        text_ = page if tries == 1 else await open_survey(tries)
        tag = f"bench {w.person_id}.{round_id}.{secrets.token_hex(4)}"
        data = {"answer": rng.choice(answers), "use_instead": tag, "main_benefit": "measured by bench.replicas",
                "csrf": _csrf(text_), **{f"sus_{i}": str(rng.randint(1, 5)) for i in range(1, 11)}}
        try:
            r = await client.post(path, data=data)
        except Exception:
            _ambiguous(tally, tag)
            raise
        if r.status_code != 200 or "your survey answer is recorded" not in r.text:
            _ambiguous(tally, tag)
            raise Retry(f"survey answered {r.status_code}")
        tally.answers[tag] = (round_id, w.person_id)
        tally.last[("answer", w.person_id, round_id)] = tag

    await attempt(tally, "answer_survey", post, user=user)


# ------------------------------------------------------------------ readers (browsers)
IDLE_JS = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"


async def settled(page: Any, heading: str, timeout: float = ACT_TIMEOUT_S) -> None:
    """The page titled ``heading`` is shown and Streamlit has finished its run."""
    await page.get_by_role("heading", name=heading, exact=True).first.wait_for(timeout=timeout * 1000)
    await page.wait_for_function(IDLE_JS, timeout=timeout * 1000)


async def reader_loop(browser: Any, r: Reader, password: str, base: str, phase: Phase, tally: Tally,
                      think: float, rng: random.Random, index: int, arrive: float, shots: Path | None) -> None:
    """After ``arrive`` seconds sign in on the dashboard; while ``phase`` runs open the reader's page
    (Audit: and verify the chain) and Home. A screenshot into ``shots`` after an error.

    Long on purpose: one person's journey in a browser, read top to bottom as they live it."""
    await asyncio.sleep(arrive)
    user = f"reader {index} {r.email}"
    errors_before = len(tally.errors)
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = await context.new_page()
        page.set_default_timeout(ACT_TIMEOUT_S * 1000)

        async def sign_in(tries: int) -> bool:
            response = await page.goto(base + "/", timeout=SIGN_IN_TIMEOUT_S * 1000)
            if response is not None:
                tally.replica_of_reader[user] = response.headers.get("x-replica", "?")
            if tries > 1 and await page.get_by_role("link", name=r.page, exact=True).count():
                return True
            await page.get_by_label("Email").fill(r.email, timeout=SIGN_IN_TIMEOUT_S * 1000)
            await page.get_by_label("Password", exact=True).fill(password)
            await page.get_by_role("button", name="Sign in").click()
            await settled(page, "Home", SIGN_IN_TIMEOUT_S)
            return True

        async def go(name: str) -> Any:
            async def act(tries: int) -> None:
                if tries > 1:  # after a failure, as a person would: reload the page
                    await page.goto(base + "/")
                await page.get_by_role("link", name=name, exact=True).first.click()
                await settled(page, name)
            return act

        async def verify(tries: int) -> None:
            if tries > 1:
                await page.goto(base + "/")
                await page.get_by_role("link", name="Audit", exact=True).first.click()
                await settled(page, "Audit")
            await page.get_by_role("tab", name="Chain verification", exact=True).first.click()
            await page.wait_for_function(IDLE_JS)
            await page.get_by_role("button", name="Verify the whole record now", exact=True).first.click()
            await page.get_by_text("The audit chain verifies").filter(visible=True).first.wait_for()
            await page.wait_for_function(IDLE_JS)

        async with phase.browser_gate:
            signed_in = await attempt(tally, "sign_in_browser", sign_in, user=user, timeout=SIGN_IN_TIMEOUT_S)
        await phase.begin()
        while signed_in and phase.running():
            await attempt(tally, f"open_{r.page.lower()}", await go(r.page), user=user)
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
            if r.page == "Audit" and phase.running():
                await attempt(tally, "verify_chain", verify, user=user)
                await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
            if phase.running():
                await attempt(tally, "open_home", await go("Home"), user=user)
                await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
        if shots is not None and len(tally.errors) > errors_before:
            shots.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(Exception):
                await page.screenshot(path=str(shots / f"reader-{index}.png"), full_page=True)
    finally:
        with contextlib.suppress(Exception):
            await context.close()


# ------------------------------------------------------------------ readers (Streamlit's protocol)
async def protocol_reader_loop(r: Reader, password: str, base: str, phase: Phase, tally: Tally, think: float,
                               rng: random.Random, index: int, arrive: float) -> None:
    """The same journey as :func:`reader_loop` with a :class:`~bench.replicas.protocol.StreamlitTab`
    in place of a browser: the server does the same work (the script runs, the reads, the deltas),
    only the rendering is left out. Its interactions are named ``…_protocol``.

    Signing in is on the light path's form (the same ``services.sign_in`` and the same cookie);
    the tab first loads the page's HTML and the health check that gives it Streamlit's XSRF
    cookie, as the frontend does. A retry reconnects first, as a reload would."""
    import httpx

    from bench.replicas.protocol import XSRF_COOKIE, StreamlitTab, cookie_header

    await asyncio.sleep(arrive)
    user = f"reader {index} {r.email} (protocol)"
    url_path = r.page.lower()
    tab: StreamlitTab | None = None
    async with httpx.AsyncClient(base_url=base, follow_redirects=True, timeout=SIGN_IN_TIMEOUT_S) as client:
        async def sign_in(_tries: int) -> bool:
            nonlocal tab
            (await client.get("/")).raise_for_status()
            (await client.get("/_stcore/health")).raise_for_status()
            await lite_sign_in(client, r.email, password)
            if tab is not None:
                await tab.close()
            tab = StreamlitTab(base, cookie_header(client.cookies.jar), client.cookies.get(XSRF_COOKIE))
            await tab.open("", heading="Home")
            tally.replica_of_reader[user] = tab.replica or "?"
            return True

        def go(path: str, heading: str) -> Callable[[int], Awaitable[Any]]:
            async def act(tries: int) -> Any:
                assert tab is not None
                if tries > 1:  # after a failure, as a person would: reload (a new connection)
                    await tab.connect()
                return await tab.open(path, heading=heading)
            return act

        async def verify(tries: int) -> None:
            assert tab is not None
            await verify_over_protocol(tab, url_path, tries)

        try:
            signed_in = await attempt(tally, "sign_in_protocol", sign_in, user=user, timeout=SIGN_IN_TIMEOUT_S)
            await phase.begin()
            while signed_in and phase.running():
                await attempt(tally, f"open_{url_path}_protocol", go(url_path, r.page), user=user)
                await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
                if r.page == "Audit" and phase.running():
                    await attempt(tally, "verify_chain_protocol", verify, user=user)
                    await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
                if phase.running():
                    await attempt(tally, "open_home_protocol", go("", "Home"), user=user)
                    await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
        finally:
            if tab is not None:
                await tab.close()


async def verify_over_protocol(tab: Any, url_path: str, tries: int) -> None:
    """On the Audit page: open the Chain verification tab and press "Verify the whole record now"
    (two reruns with the tab's and the button's widget states, as the browser sends them); the
    run must report "The audit chain verifies". A retry reloads the page first."""
    from bench.replicas.protocol import ProtocolError, widget

    shown = tab.last
    if tries > 1 or shown is None or not shown.tabs:
        if tries > 1:
            await tab.connect()
        shown = await tab.open(url_path, heading="Audit")
    if not shown.tabs:
        raise ProtocolError("the Audit page has no tabs")
    chosen = widget(shown.tabs[0], string_value="Chain verification")
    shown = await tab.open(url_path, widgets=[chosen], heading="Audit")
    button = shown.buttons.get("Verify the whole record now")
    if button is None:
        raise ProtocolError("no 'Verify the whole record now' button on the Chain verification tab")
    shown = await tab.open(url_path, widgets=[chosen, widget(button, trigger=True)], heading="Audit")
    if not any("The audit chain verifies" in body for body in shown.successes()):
        raise ProtocolError(f"the chain was not reported verified (saw {shown.successes()[:2]})")
