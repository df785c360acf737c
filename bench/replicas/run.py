"""The run: the stack up, the users driven, a replica killed, every write checked, the JSON."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.replicas.processes import (
    ACT_TIMEOUT_S,
    ADMIN_URL,
    CHROMIUM,
    CHROMIUM_ARGS,
    NGINX,
    NGINX_CONF,
    RUNTIME_ROLE,
    SIGN_IN_TIMEOUT_S,
    WRITER_PASSWORD,
    Child,
    SetupError,
    free_port,
    progress,
    spawn,
    wait_http,
)
from bench.replicas.seeding import Reader, Writer, _pg_url, create_database, drop_database, seed
from bench.replicas.users import Phase, Tally, percentile, protocol_reader_loop, reader_loop, writer_loop


# ------------------------------------------------------------------ checks
def check_writes(owner_url: str, tally: Tally, baseline_receipts: set[str]) -> dict[str, Any]:
    """Every believed ballot and answer found exactly once; each person's last one current; the chain verifies.

    Long on purpose: one read of the database after the run, every check against the same rows."""
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


def split_readers(readers: list[Reader], browsers: int) -> tuple[list[Reader], list[Reader]]:
    """The first ``browsers`` readers in Chromium, the rest over Streamlit's protocol. Readers
    alternate Compare and Audit (``seeding.seed``), so two browsers are one of each."""
    browsers = max(0, min(browsers, len(readers)))
    return readers[:browsers], readers[browsers:]


async def drive(st: Stack, writers: list[Writer], readers: list[Reader], seconds: float, think: float,
                kill_at: float | None, seed_: int, shots: Path | None = None,
                browsers: int = 2) -> tuple[Tally, dict[str, Any]]:
    """Sign everyone in (arriving over 10 s), then run them all for ``seconds``; kill replica B at
    ``kill_at`` × ``seconds``. ``browsers`` readers in Chromium, the others over Streamlit's protocol
    (``bench.replicas.protocol``): sixteen Chromium renderers beside two replicas and PostgreSQL
    saturate two cores, and what was measured was then the renderers."""
    in_browser, over_protocol = split_readers(readers, browsers)

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

    async with contextlib.AsyncExitStack() as exits:
        browser: Any = None
        if in_browser:
            from playwright.async_api import async_playwright

            p = await exits.enter_async_context(async_playwright())
            browser = await p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            exits.push_async_callback(browser.close)
        ramp = 10.0
        users = [asyncio.ensure_future(job) for job in _journeys(
            st, writers, in_browser, over_protocol, browser, phase, tally, think, rng, ramp, shots)]
        began = time.monotonic()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(phase.all_arrived.wait(), ramp + 2 * SIGN_IN_TIMEOUT_S + 20 * len(in_browser))
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
    memory["end_rss_mb"] = [c.rss_mb() for c in st.replicas]
    memory.setdefault("readers_per_replica", _per_replica(tally, st))
    return tally, memory


def _journeys(st: Stack, writers: list[Writer], in_browser: list[Reader], over_protocol: list[Reader],
              browser: Any, phase: Phase, tally: Tally, think: float, rng: random.Random, ramp: float,
              shots: Path | None) -> list[Any]:
    """Every simulated user's loop (coroutines), people arriving over ``ramp`` seconds, not all
    in the same instant."""
    everyone = len(writers) + len(in_browser) + len(over_protocol)

    def arrival(i: int) -> float:
        return ramp * i / max(1, everyone)

    jobs = [writer_loop(w, WRITER_PASSWORD, st.base, phase, tally, think, random.Random(rng.random()),
                        arrival(2 * i)) for i, w in enumerate(writers)]
    jobs += [reader_loop(browser, r, WRITER_PASSWORD, st.base, phase, tally, think,
                         random.Random(rng.random()), i, arrival(2 * i + 1), shots)
             for i, r in enumerate(in_browser)]
    jobs += [protocol_reader_loop(r, WRITER_PASSWORD, st.base, phase, tally, think,
                                  random.Random(rng.random()), i, arrival(2 * i + 1))
             for i, r in enumerate(over_protocol, start=len(in_browser))]
    return jobs


def _per_replica(tally: Tally, st: Stack) -> list[int]:
    """Browser sessions per replica (by the replica nginx named for each reader's first page)."""
    seen = list(tally.replica_of_reader.values())
    return [sum(1 for r in seen if r.endswith(f":{port}")) for port in st.ports]


def run(users: int, seconds: float, *, admin_url: str = ADMIN_URL, think: float = 1.0,
        kill: bool = True, reader_share: float = 0.4, seed_: int = 16, keep_db: bool = False,
        logs: Path | None = None, browsers: int = 2) -> dict[str, Any]:
    """Build the stack, drive ``users`` for ``seconds``, check the writes; the results as a dict.
    ``browsers``: how many of the readers are in Chromium (the others speak Streamlit's protocol)."""
    if not NGINX.exists():
        raise SetupError(f"nginx is not installed at {NGINX} (apt-get install -y nginx)")
    if browsers < 0:
        raise SetupError("--browsers must be 0 or more")
    if browsers and not CHROMIUM.exists():
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
                                              0.5 if kill else None, seed_, logs, browsers))
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
                   setup_s, kill, browsers)


def _result(users: int, seconds: float, think: float, writers: list[Writer], readers: list[Reader], tally: Tally,
            memory: dict[str, Any], checks: dict[str, Any], tracebacks: int, setup_s: float,
            kill: bool, browsers: int = 2) -> dict[str, Any]:
    # The headline figures are the acts of the measured part; signing in (once per person, before
    # it) is reported on its own.
    lat = [ms for kind, values in tally.kinds.items() if not kind.startswith("sign_in") for ms in values]
    sign_ins = [ms for kind, values in tally.kinds.items() if kind.startswith("sign_in") for ms in values]
    sessions = memory.get("readers_per_replica") or []
    before = memory.get("before_kill_rss_mb") or memory.get("end_rss_mb") or []
    idle = memory.get("idle_rss_mb") or []
    # Memory a reader's Streamlit session adds (a browser's or a protocol reader's: the server holds
    # the same session for both): the replica's growth under load over its sessions (the light
    # path's writers hold no Streamlit session, so this is an upper bound).
    per_session: list[float | None] = []
    for i, n in enumerate(sessions):
        grown = None if i >= len(before) or before[i] is None or idle[i] is None else before[i] - idle[i]
        per_session.append(round(grown / n, 1) if n and grown is not None else None)
    return {
        "schema_version": 1, "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "users": users, "seconds": seconds, "writers": len(writers), "readers": len(readers),
        "writer_path": "light path /lite/ over HTTP (httpx)",
        "reader_path": "headless Chromium (Playwright) for readers_in_browser; the others Streamlit's WebSocket "
                       "protocol (bench.replicas.protocol), interactions named …_protocol",
        "readers_in_browser": len(split_readers(readers, browsers)[0]),
        "readers_over_protocol": len(split_readers(readers, browsers)[1]),
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
                        help="share of users who read (Compare, Audit) on the dashboard (default 0.4)")
    parser.add_argument("--browsers", type=int, default=2,
                        help="how many readers use headless Chromium; the others speak Streamlit's WebSocket "
                             "protocol (default 2)")
    parser.add_argument("--no-kill", action="store_true", help="do not kill a replica mid-run")
    parser.add_argument("--admin-url", default=os.environ.get("REPLICAS_ADMIN_URL", ADMIN_URL),
                        help=f"a PostgreSQL superuser URL to create the run's database with (default {ADMIN_URL})")
    parser.add_argument("--keep-db", action="store_true", help="keep the run's database")
    parser.add_argument("--logs", type=Path, default=None, help="copy the replicas' and nginx's logs here")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.seconds > 3600:
        parser.error("--seconds must be between 0 and 3600")
    if args.browsers < 0:
        parser.error("--browsers must be 0 or more")
    try:
        result = run(args.users, args.seconds, admin_url=args.admin_url, think=args.think, kill=not args.no_kill,
                     reader_share=args.readers, keep_db=args.keep_db, logs=args.logs, browsers=args.browsers)
    except SetupError as exc:
        print(f"Cannot run: {exc}", file=sys.stderr)
        return 2
    shown = {k: result[k] for k in ("users", "writers", "readers", "readers_in_browser", "seconds",
                                    "interactions_per_s", "p50_ms", "p95_ms", "p99_ms", "errors",
                                    "failover_retries", "lost_writes", "duplicates", "ambiguous_writes",
                                    "chain_ok")}
    for k, v in shown.items():
        print(f"{k:20} {v}")
    print(f"{'per_session_mb':20} {result['memory']['per_session_mb']} "
          f"(sessions per replica {result['memory']['browser_sessions_per_replica']})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    bad = result["errors"] or result["lost_writes"] or result["duplicates"] or not result["chain_ok"]
    return 1 if bad else 0

