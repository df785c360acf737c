"""Two Streamlit replicas on one PostgreSQL behind nginx, under concurrent simulated users (issue 16, item 3).

``python -m bench.replicas --users N --seconds S [--json F]``

1. **Stack.** A database of its own (``replicas_<pid>``) on the PostgreSQL named by ``--admin-url``,
   migrated and given the demo organisation through the use cases (``governance.demo``), the
   replicas connecting as the runtime role (``peg_runtime``, R18) that owns nothing. Two
   ``streamlit run dashboard.py`` replicas with the same ``DATABASE_URL``, session key, signing and
   ballot key files and Streamlit cookie secret; nginx in front (a generated configuration in a
   temporary directory, listening on 127.0.0.1 only) with WebSocket upgrade for ``/_stcore/stream``,
   long read timeouts and **cookie affinity**: nginx gives each browser a random ``peg_lb`` cookie
   and hashes it onto a replica (``hash $lb_key consistent``). ``ip_hash`` would send every user
   to one replica here, since every simulated user comes from 127.0.0.1.
2. **Users.** ``--users`` concurrent people for ``--seconds``, each in a loop with a think time
   between acts. Writers (about 60 %) are people eligible in the demo's open votes or on the open
   survey round's roster, one simulated user per person; they sign in and cast or change their
   ballot and answer the survey over the light path ``/lite/`` (plain HTTP forms, the same
   ``governance.services`` use cases and the same session cookie as the dashboard; a browser per
   writer would not fit two cores). Readers are headless Chromium contexts (one Chromium process)
   signed in on the dashboard: steering people opening Compare, auditors opening Audit and
   verifying the chain, each going back Home in between.
3. **Failover.** Half-way through, one replica is killed (SIGKILL of its process group). Its users
   carry on through nginx on the other one: the session cookie is signed with the shared key and
   the session lives in the database, so nobody signs in again. An act that was in flight on the
   killed replica fails once and is retried (``failover_retries``); ``errors`` counts acts that
   failed even after that retry.
4. **Checks.** The chain verifies; every ballot and survey answer a user was told was recorded is
   in the database exactly once (``lost_writes`` = believed − found, ``duplicates`` = found more
   than once), and each user's last one is the current one; an act whose answer was lost with the
   replica may or may not have been written (``ambiguous_writes``), never twice.

Everything started is stopped in ``finally`` blocks (process groups, bounded waits) and the
database is dropped at the end (``--keep-db`` keeps it).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NGINX = Path(os.environ.get("NGINX_PATH", "/usr/sbin/nginx"))
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
RUNTIME_ROLE = "peg_runtime"
#: Every simulated user's password (the demo's published one is refused by the password rule, rightly).
WRITER_PASSWORD = "bench replicas password 1"
ACT_TIMEOUT_S = 30.0
#: Signing in waits for the password hash (Argon2id, deliberately slow), the whole dashboard's
#: first load in a browser, and everyone else doing the same at once: a longer bound.
SIGN_IN_TIMEOUT_S = 120.0
RECEIPT = re.compile(r"Your receipt: <strong>([^<]+)</strong>")
CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


class SetupError(RuntimeError):
    """Something the run needs is missing (nginx, PostgreSQL, Chromium): the message says what."""


# ------------------------------------------------------------------ processes
def progress(message: str) -> None:
    """A line on stderr while the run goes on."""
    print(f"[bench.replicas {datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Child:
    """A child process in its own process group (so that it and its children can be killed together)."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the whole process group (nothing if it is gone)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, a bounded wait, then SIGKILL."""
        if self.process.poll() is None:
            self.kill(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill(signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=timeout)
        else:
            self.kill(signal.SIGKILL)  # children left behind by a dead leader

    def rss_mb(self) -> float | None:
        """Resident memory of the process and its children (MB), None when it is gone."""
        pids = [self.process.pid]
        with contextlib.suppress(OSError):
            pids += [int(p) for p in Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
                     .read_text().split()]
        if self.process.poll() is not None:
            return None
        total = 0.0
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) / 1024
            except OSError:
                if pid == self.process.pid:
                    return None
        return round(total, 1)


def spawn(name: str, argv: list[str], env: dict[str, str], log_path: Path) -> Child:
    """Start ``argv`` in a new session (its own process group), output to ``log_path``."""
    log = log_path.open("wb")
    try:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    finally:
        log.close()
    return Child(name, process, log_path)


def wait_http(url: str, child: Child | None, timeout: float = 90.0) -> None:
    """Wait until ``url`` answers 200 (bounded); fail early if ``child`` exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child is not None and child.process.poll() is not None:
            raise SetupError(f"{child.name} exited: {child.log_path.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SetupError(f"{url} did not answer within {timeout:.0f} s")


NGINX_CONF = """\
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 2048; }}
http {{
  log_format lb '$remote_addr [$time_local] "$request" $status up=$upstream_addr $request_time';
  access_log {tmp}/access.log lb;
  client_body_temp_path {tmp}/client_body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  # Cookie affinity: a browser without the cookie gets a random key, then keeps it.
  map $cookie_peg_lb $lb_key {{ "" $request_id; default $cookie_peg_lb; }}
  upstream streamlit {{
    hash $lb_key consistent;
    server 127.0.0.1:{port_a} max_fails=1 fail_timeout=30s;
    server 127.0.0.1:{port_b} max_fails=1 fail_timeout=30s;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://streamlit;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_connect_timeout 2s;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
      proxy_buffering off;
      # A refused connection (a dead replica) goes to the other one; a request already sent is
      # not re-sent if it is a POST (nginx's default: it may have been written).
      proxy_next_upstream error timeout http_502;
      add_header Set-Cookie "peg_lb=$lb_key; Path=/; HttpOnly; SameSite=Lax" always;
      add_header X-Replica $upstream_addr always;
    }}
  }}
}}
"""


# ------------------------------------------------------------------ the database
def _pg_url(admin_url: str, database: str, user: str | None = None) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(admin_url).set(database=database)
    if user is not None:
        url = url.set(username=user, password=None)
    return url.render_as_string(hide_password=False)


def create_database(admin_url: str, name: str) -> None:
    """CREATE DATABASE ``name`` and the runtime login role (once per cluster)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            conn.execute(text(f"DO $$ BEGIN CREATE ROLE {RUNTIME_ROLE} LOGIN; "
                              "EXCEPTION WHEN duplicate_object THEN NULL; END $$"))
    except Exception as exc:  # noqa: BLE001 - any failure: PostgreSQL is not usable here
        raise SetupError(f"PostgreSQL at {admin_url} is not usable ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0]})") from exc
    finally:
        engine.dispose()


def drop_database(admin_url: str, name: str) -> None:
    """DROP DATABASE ``name`` (its connections ended first)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


@dataclass
class Writer:
    """A person who votes and answers surveys: their open votes and survey rounds."""

    person_id: int
    email: str
    votes: list[int]
    rounds: list[int]


@dataclass
class Reader:
    """A person who reads: ``page`` is Compare (steering) or Audit (auditor)."""

    email: str
    page: str


def seed(owner_url: str, users: int, reader_share: float) -> tuple[list[Writer], list[Reader]]:
    """The demo organisation through the use cases, and the simulated users' people.

    Writers: one person each, eligible in an open vote or on an open survey round's roster
    (taken in turn from both kinds, so that both acts are exercised); readers: the demo's
    steering people (Compare) and auditors (Audit), in turn, several sessions per account when
    there are more readers than accounts. Everyone chosen gets ``WRITER_PASSWORD`` (set by the
    administrator through ``services.set_password``; the demo's published password is refused
    by the password rule)."""
    from governance import services as sv
    from governance.demo.build import build_demo
    from governance.migrate import grant_runtime
    from governance.queries import evaluate as evaluate_q, votes as votes_q
    from governance.storage.db import Database
    from governance.vocabulary import Role

    summary = build_demo(owner_url)
    if not summary.chain_ok:
        raise SetupError("the demo's chain does not verify")
    db = Database(owner_url)
    try:
        with db.engine.begin() as conn:
            grant_runtime(conn, RUNTIME_ROLE)
        rows = _people(db)
        admin = next(pid for pid, _email, roles in rows if Role.ADMIN.value in roles)
        open_votes = _open_votes(db)
        voters: list[Writer] = []
        respondents: list[Writer] = []
        for pid, email, _roles in rows:
            votes = [v for v in open_votes if votes_q.vote_detail(db.uow(), pid, v).may_cast]
            rounds = [r.round_id for r in evaluate_q.my_surveys(db.uow(), pid)]
            if votes or rounds:
                (respondents if rounds and (not votes or len(respondents) < len(voters)) else voters).append(
                    Writer(pid, email, votes, rounds))
        candidates = [w for pair in zip(voters, respondents, strict=False) for w in pair]
        candidates += voters[len(respondents):] + respondents[len(voters):]
        accounts = {"Compare": [(pid, e) for pid, e, roles in rows if roles == {Role.STEERING.value}],
                    "Audit": [(pid, e) for pid, e, roles in rows if roles == {Role.AUDITOR.value}]}
        if not candidates or not accounts["Compare"] or not accounts["Audit"]:
            raise SetupError("the demo has no open vote or survey round, or no steering person or auditor")
        n_readers = max(1, round(users * reader_share))
        writers = candidates[:max(0, users - n_readers)]
        n_readers = users - len(writers)
        readers = []
        for i in range(n_readers):
            page = "Compare" if i % 2 == 0 else "Audit"
            pid, email = accounts[page][(i // 2) % len(accounts[page])]
            readers.append(Reader(email, page))
        chosen = {w.person_id for w in writers} | {pid for page in accounts.values() for pid, e in page
                                                   if any(r.email == e for r in readers)}
        for pid in sorted(chosen):
            sv.set_password(db.uow(), admin, pid, WRITER_PASSWORD, temporary=False)
        return writers, readers
    finally:
        db.dispose()


def _people(db: Any) -> list[tuple[int, str, set[str]]]:
    from sqlalchemy import text

    with db.engine.connect() as conn:
        found: dict[int, tuple[str, set[str]]] = {}
        for pid, email, role in conn.execute(text(
                "SELECT p.id, p.email, r.role FROM person p LEFT JOIN person_role r ON r.person_id = p.id "
                "WHERE p.active ORDER BY p.id")):
            found.setdefault(pid, (email, set()))[1].update({role} if role else set())
    return [(pid, email, roles) for pid, (email, roles) in found.items()]


def _open_votes(db: Any) -> list[int]:
    from sqlalchemy import text

    with db.engine.connect() as conn:
        return [int(v) for v in conn.scalars(text("SELECT id FROM vote WHERE status = 'open' ORDER BY id"))]


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
            form = await client.get("/lite/")
            form.raise_for_status()
            if "Sign out" in form.text:
                return True
            r = await client.post("/lite/sign-in", data={"email": w.email, "password": password,
                                                         "csrf": _csrf(form.text)})
            if r.status_code != 200 or r.url.path != "/lite/" or "Sign out" not in r.text:
                raise Retry(f"sign-in answered {r.status_code} at {r.url.path}")
            return True

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


async def cast(client: Any, w: Writer, vote_id: int, tally: Tally, rng: random.Random, user: str) -> None:
    """Open the vote (one interaction) and cast or change the ballot (another)."""
    path = f"/lite/vote/{vote_id}"
    state: dict[str, str] = {}

    async def open_vote(_tries: int) -> str:
        r = await client.get(path)
        if r.status_code != 200:
            raise Retry(f"{path} answered {r.status_code}")
        return str(r.text)

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

    async def open_survey(_tries: int) -> str:
        r = await client.get(path)
        if r.status_code != 200:
            raise Retry(f"{path} answered {r.status_code}")
        return str(r.text)

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
    (Audit: and verify the chain) and Home. A screenshot into ``shots`` after an error."""
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


# ------------------------------------------------------------------ checks
def check_writes(owner_url: str, tally: Tally, baseline_receipts: set[str]) -> dict[str, Any]:
    """Every believed ballot and answer found exactly once; each person's last one current; the chain verifies."""
    from sqlalchemy import text

    from governance.record.log import verify_chain
    from governance.storage.db import Database

    db = Database(owner_url)
    try:
        with db.engine.connect() as conn:
            secret_rows = {row.receipt: row for row in conn.execute(text(
                "SELECT receipt, vote_id, option, is_current FROM secret_ballot"))}
            secret_counts: dict[str, int] = {}
            for (receipt,) in conn.execute(text("SELECT receipt FROM secret_ballot")):
                secret_counts[receipt] = secret_counts.get(receipt, 0) + 1
            named = {row.reason: row for row in conn.execute(text(
                "SELECT reason, vote_id, person_id, option, is_current, count(*) OVER (PARTITION BY reason) AS n "
                "FROM ballot WHERE reason LIKE 'bench %'"))}
            answers = {row.use_instead: row for row in conn.execute(text(
                "SELECT use_instead, round_id, person_id, is_current, count(*) OVER (PARTITION BY use_instead) AS n "
                "FROM survey_response WHERE use_instead LIKE 'bench %'"))}
            double_current = conn.scalar(text(
                "SELECT (SELECT count(*) FROM (SELECT 1 FROM ballot WHERE is_current GROUP BY vote_id, person_id "
                "HAVING count(*) > 1) a) + (SELECT count(*) FROM (SELECT 1 FROM secret_ballot WHERE is_current "
                "GROUP BY vote_id, voter_token HAVING count(*) > 1) b) + (SELECT count(*) FROM (SELECT 1 FROM "
                "survey_response WHERE is_current GROUP BY round_id, person_id HAVING count(*) > 1) c)"))
        with db.uow().reading() as s:
            chain = verify_chain(s)
    finally:
        db.dispose()
    believed = len(tally.secret) + len(tally.named) + len(tally.answers)
    found = duplicates = 0
    wrong: list[str] = []
    for receipt, (vote_id, option) in tally.secret.items():
        row = secret_rows.get(receipt)
        if row is not None:
            found += 1
            duplicates += secret_counts[receipt] - 1
            if (row.vote_id, row.option) != (vote_id, option):
                wrong.append(f"secret ballot {receipt}: stored {row.vote_id}/{row.option}, cast {vote_id}/{option}")
    for tag, (vote_id, person_id, option) in tally.named.items():
        row = named.get(tag)
        if row is not None:
            found += 1
            duplicates += row.n - 1
            if (row.vote_id, row.person_id, row.option) != (vote_id, person_id, option):
                wrong.append(f"ballot {tag}: stored {row.vote_id}/{row.person_id}/{row.option}")
    for tag, (round_id, person_id) in tally.answers.items():
        row = answers.get(tag)
        if row is not None:
            found += 1
            duplicates += row.n - 1
            if (row.round_id, row.person_id) != (round_id, person_id):
                wrong.append(f"answer {tag}: stored {row.round_id}/{row.person_id}")
    not_current = 0
    for (kind, _person, _target), tag in tally.last.items():
        row = (secret_rows if kind == "secret" else named if kind == "named" else answers).get(tag)
        if row is not None and not row.is_current:
            not_current += 1
    ambiguous_rows = [row for tag in tally.ambiguous_tags
                      if (row := named.get(tag) or answers.get(tag)) is not None]
    ambiguous_found = len(ambiguous_rows)
    duplicates += sum(row.n - 1 for row in ambiguous_rows)
    new_secret = set(secret_counts) - baseline_receipts
    unexplained = max(0, len(new_secret) - len(tally.secret) - tally.ambiguous_secret)
    return {"believed_writes": believed, "found_writes": found, "lost_writes": believed - found,
            "duplicates": duplicates, "wrong_writes": wrong[:20], "last_not_current": not_current,
            "double_current": int(double_current or 0),
            "ambiguous_writes": len(tally.ambiguous_tags) + tally.ambiguous_secret,
            "ambiguous_found": ambiguous_found, "unexplained_secret_ballots": unexplained,
            "chain_ok": chain.ok, "chain": chain.summary}


def receipts(owner_url: str) -> set[str]:
    """The secret ballots' receipts already in the database (before the load)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(owner_url)
    try:
        with engine.connect() as conn:
            return set(conn.scalars(text("SELECT receipt FROM secret_ballot")))
    finally:
        engine.dispose()


# ------------------------------------------------------------------ the run
@dataclass
class Stack:
    """The started processes and where they listen."""

    tmp: Path
    replicas: list[Child]
    ports: list[int]
    nginx: Child
    base: str


@contextlib.contextmanager
def stack(runtime_url: str, tmp: Path, meanwhile: Callable[[], None] = lambda: None) -> Iterator[Stack]:
    """Two replicas and nginx, stopped (process groups) on the way out. The key files in ``tmp`` exist
    already (the demo is signed with them); ``meanwhile`` runs while the replicas start."""
    env = {**os.environ, "DATABASE_URL": runtime_url, "PYTHONUNBUFFERED": "1",
           "GOVERNANCE_SESSION_KEY": os.environ["GOVERNANCE_SESSION_KEY"],
           "GOVERNANCE_SIGNING_KEY_FILE": str(tmp / "signing.pem"),
           "GOVERNANCE_BALLOT_KEY_FILE": str(tmp / "ballot.key"),
           "STREAMLIT_SERVER_COOKIE_SECRET": os.environ["STREAMLIT_SERVER_COOKIE_SECRET"],
           "FORWARDED_ALLOW_IPS": "127.0.0.1"}
    children: list[Child] = []
    try:
        ports = [free_port(), free_port()]
        replicas = []
        for i, port in enumerate(ports):
            replicas.append(spawn(f"replica {'AB'[i]}", [
                sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.address", "127.0.0.1",
                "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
                "--server.fileWatcherType", "none"], env, tmp / f"replica-{'ab'[i]}.log"))
            children.append(replicas[-1])
        meanwhile()  # the replicas start up meanwhile (they touch the database only when a page is opened)
        for port, child in zip(ports, replicas, strict=True):
            wait_http(f"http://127.0.0.1:{port}/_stcore/health", child)
        port = free_port()
        (tmp / "nginx.conf").write_text(NGINX_CONF.format(tmp=tmp, port=port, port_a=ports[0], port_b=ports[1]))
        nginx = spawn("nginx", [str(NGINX), "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e",
                                str(tmp / "error.log"), "-g", "daemon off;"], env, tmp / "nginx.out")
        children.append(nginx)
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/_stcore/health", nginx, timeout=30)
        wait_http(base + "/lite/", nginx, timeout=30)
        yield Stack(tmp, replicas, ports, nginx, base)
    finally:
        for child in reversed(children):
            child.stop()


async def drive(st: Stack, writers: list[Writer], readers: list[Reader], seconds: float, think: float,
                kill_at: float | None, seed_: int, shots: Path | None = None) -> tuple[Tally, dict[str, Any]]:
    """Sign everyone in (arriving over 10 s), then run them all for ``seconds``; kill replica B at
    ``kill_at`` × ``seconds``."""
    from playwright.async_api import async_playwright

    tally = Tally()
    memory: dict[str, Any] = {"idle_rss_mb": [c.rss_mb() for c in st.replicas]}
    rng = random.Random(seed_)
    phase = Phase(len(writers) + len(readers))
    started = 0.0

    async def killer() -> None:
        if kill_at is None:
            return
        await asyncio.sleep(seconds * kill_at)
        memory["before_kill_rss_mb"] = [c.rss_mb() for c in st.replicas]
        memory["readers_per_replica"] = _per_replica(tally, st)
        st.replicas[1].kill(signal.SIGKILL)
        tally.kill_moment = time.monotonic()
        tally.killed_at = round(tally.kill_moment - started, 1)

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            # People arrive over 10 s, not all in the same instant.
            ramp = 10.0
            everyone = len(writers) + len(readers)

            def arrival(i: int) -> float:
                return ramp * i / max(1, everyone)

            jobs = [writer_loop(w, WRITER_PASSWORD, st.base, phase, tally, think, random.Random(rng.random()),
                                arrival(2 * i)) for i, w in enumerate(writers)]
            jobs += [reader_loop(browser, r, WRITER_PASSWORD, st.base, phase, tally, think,
                                 random.Random(rng.random()), i, arrival(2 * i + 1), shots)
                     for i, r in enumerate(readers)]
            users = [asyncio.ensure_future(job) for job in jobs]
            began = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(phase.all_arrived.wait(), ramp + 2 * SIGN_IN_TIMEOUT_S + 20 * len(readers))
            memory["sign_in_phase_s"] = round(time.monotonic() - began, 1)
            memory["signed_in_rss_mb"] = [c.rss_mb() for c in st.replicas]
            started = time.monotonic()
            phase.deadline = started + seconds
            phase.start.set()
            try:
                await asyncio.wait_for(asyncio.gather(*users, killer()), seconds + 4 * ACT_TIMEOUT_S + 60)
            finally:
                for task in users:
                    task.cancel()
        finally:
            await browser.close()
    memory["end_rss_mb"] = [c.rss_mb() for c in st.replicas]
    memory.setdefault("readers_per_replica", _per_replica(tally, st))
    return tally, memory


def _per_replica(tally: Tally, st: Stack) -> list[int]:
    """Browser sessions per replica (by the replica nginx named for each reader's first page)."""
    seen = list(tally.replica_of_reader.values())
    return [sum(1 for r in seen if r.endswith(f":{port}")) for port in st.ports]


def run(users: int, seconds: float, *, admin_url: str = ADMIN_URL, think: float = 1.0,
        kill: bool = True, reader_share: float = 0.4, seed_: int = 16, keep_db: bool = False,
        logs: Path | None = None) -> dict[str, Any]:
    """Build the stack, drive ``users`` for ``seconds``, check the writes; the results as a dict."""
    if not NGINX.exists():
        raise SetupError(f"nginx is not installed at {NGINX} (apt-get install -y nginx)")
    if not CHROMIUM.exists():
        raise SetupError(f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)")
    if users < 2:
        raise SetupError("--users must be at least 2 (one writer and one reader)")
    name = f"replicas_{os.getpid()}"
    os.environ.setdefault("GOVERNANCE_SESSION_KEY", secrets.token_hex(32))
    os.environ.setdefault("STREAMLIT_SERVER_COOKIE_SECRET", secrets.token_hex(32))
    tmp = Path(tempfile.mkdtemp(prefix="peg-replicas-"))
    owner_url = _pg_url(admin_url, name)
    runtime_url = _pg_url(admin_url, name, RUNTIME_ROLE)
    began = time.perf_counter()
    create_database(admin_url, name)
    try:
        os.environ["GOVERNANCE_SIGNING_KEY_FILE"] = str(tmp / "signing.pem")
        os.environ["GOVERNANCE_BALLOT_KEY_FILE"] = str(tmp / "ballot.key")
        from governance.identity.keys import write_ballot_key, write_signing_key

        write_signing_key(tmp / "signing.pem")
        write_ballot_key(tmp / "ballot.key")
        chosen_writers: list[Writer] = []
        chosen_readers: list[Reader] = []
        baseline: set[str] = set()

        def seed_meanwhile() -> None:
            chosen_writers[:], chosen_readers[:] = seed(owner_url, users, reader_share)
            baseline.update(receipts(owner_url))
            progress(f"seeded the demo in {time.perf_counter() - began:.0f} s: {len(chosen_writers)} writers, "
                     f"{len(chosen_readers)} readers")

        with stack(runtime_url, tmp, seed_meanwhile) as st:
            setup_s = time.perf_counter() - began
            progress(f"two replicas and nginx up at {st.base} after {setup_s:.0f} s; load for {seconds:.0f} s")
            tally, memory = asyncio.run(drive(st, chosen_writers, chosen_readers, seconds, think,
                                              0.5 if kill else None, seed_, logs))
            tracebacks = sum(c.log_path.read_text(errors="replace").count("Traceback") for c in st.replicas)
            if logs is not None:
                logs.mkdir(parents=True, exist_ok=True)
                for f in tmp.glob("*.log"):
                    shutil.copy(f, logs / f.name)
        checks = check_writes(owner_url, tally, baseline)
    finally:
        if not keep_db:
            drop_database(admin_url, name)
        shutil.rmtree(tmp, ignore_errors=True)
    return _result(users, seconds, think, chosen_writers, chosen_readers, tally, memory, checks, tracebacks,
                   setup_s, kill)


def _result(users: int, seconds: float, think: float, writers: list[Writer], readers: list[Reader], tally: Tally,
            memory: dict[str, Any], checks: dict[str, Any], tracebacks: int, setup_s: float,
            kill: bool) -> dict[str, Any]:
    # The headline figures are the acts of the measured part; signing in (once per person, before
    # it) is reported on its own.
    lat = [ms for kind, values in tally.kinds.items() if not kind.startswith("sign_in") for ms in values]
    sign_ins = [ms for kind, values in tally.kinds.items() if kind.startswith("sign_in") for ms in values]
    sessions = memory.get("readers_per_replica") or []
    before = memory.get("before_kill_rss_mb") or memory.get("end_rss_mb") or []
    idle = memory.get("idle_rss_mb") or []
    # Memory a browser session adds: the replica's growth under load over its sessions (the light
    # path's writers hold no Streamlit session, so this is an upper bound).
    per_session: list[float | None] = []
    for i, n in enumerate(sessions):
        grown = None if i >= len(before) or before[i] is None or idle[i] is None else before[i] - idle[i]
        per_session.append(round(grown / n, 1) if n and grown is not None else None)
    return {
        "schema_version": 1, "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "users": users, "seconds": seconds, "writers": len(writers), "readers": len(readers),
        "writer_path": "light path /lite/ over HTTP (httpx)", "reader_path": "headless Chromium (Playwright)",
        "think_s": think, "balancer": "nginx, cookie affinity (hash $cookie_peg_lb consistent)",
        "interactions": len(lat), "interactions_per_s": round(len(lat) / seconds, 2),
        "p50_ms": percentile(lat, 0.50), "p95_ms": percentile(lat, 0.95), "p99_ms": percentile(lat, 0.99),
        "sign_in": {"n": len(sign_ins), "p50_ms": percentile(sign_ins, 0.5), "p95_ms": percentile(sign_ins, 0.95),
                    "phase_s": memory.get("sign_in_phase_s")},
        "by_interaction": {k: {"n": len(v), "p50_ms": percentile(v, 0.5), "p95_ms": percentile(v, 0.95),
                               "mean_ms": round(statistics.fmean(v), 1)} for k, v in sorted(tally.kinds.items())},
        "errors": len(tally.errors), "error_samples": tally.errors[:10],
        "failover_retries": tally.failover_retries, "replica_killed": kill, "killed_at_s": tally.killed_at,
        # Users who finished an act begun after the kill: everyone, if the survivor took them all on.
        "users_carried_on": len(tally.carried_on) if kill else None,
        "users_started": len(tally.users),
        "server_tracebacks": tracebacks,
        "lost_writes": checks["lost_writes"], **{k: v for k, v in checks.items() if k != "lost_writes"},
        "memory": {**memory, "browser_sessions_per_replica": sessions,
                   "per_session_mb": per_session},
        "setup_s": round(setup_s, 1),
        "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]},
    }


def main(argv: list[str] | None = None) -> int:
    """The command line: print the figures, write them to ``--json``; 1 on errors or lost writes."""
    parser = argparse.ArgumentParser(prog="python -m bench.replicas", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=40, help="concurrent simulated users (default 40)")
    parser.add_argument("--seconds", type=float, default=60, help="length of the load (default 60)")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean think time between a user's acts, seconds (default 1.0)")
    parser.add_argument("--readers", type=float, default=0.4,
                        help="share of users reading in a browser (default 0.4)")
    parser.add_argument("--no-kill", action="store_true", help="do not kill a replica mid-run")
    parser.add_argument("--admin-url", default=os.environ.get("REPLICAS_ADMIN_URL", ADMIN_URL),
                        help=f"a PostgreSQL superuser URL to create the run's database with (default {ADMIN_URL})")
    parser.add_argument("--keep-db", action="store_true", help="keep the run's database")
    parser.add_argument("--logs", type=Path, default=None, help="copy the replicas' and nginx's logs here")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.seconds > 3600:
        parser.error("--seconds must be between 0 and 3600")
    try:
        result = run(args.users, args.seconds, admin_url=args.admin_url, think=args.think, kill=not args.no_kill,
                     reader_share=args.readers, keep_db=args.keep_db, logs=args.logs)
    except SetupError as exc:
        print(f"Cannot run: {exc}", file=sys.stderr)
        return 2
    shown = {k: result[k] for k in ("users", "writers", "readers", "seconds", "interactions_per_s", "p50_ms",
                                    "p95_ms", "p99_ms", "errors", "failover_retries", "lost_writes", "duplicates",
                                    "ambiguous_writes", "chain_ok")}
    for k, v in shown.items():
        print(f"{k:20} {v}")
    print(f"{'per_session_mb':20} {result['memory']['per_session_mb']} "
          f"(sessions per replica {result['memory']['browser_sessions_per_replica']})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    bad = result["errors"] or result["lost_writes"] or result["duplicates"] or not result["chain_ok"]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
