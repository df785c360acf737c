"""The benchmark's measurements, one function per JSON section.

Each returns a JSON-ready dict: ``measure_pages`` gives ``{page: {"role", "cold_ms",
"warm_ms", "runs", …}}``; ``measure_compare_readmodel`` and ``measure_tally_one_pilot``
give ``{"product_ms", "raw_sql_ms", "ratio", "runs", …}``.
"""
from __future__ import annotations

import gc
import hashlib
import os
import platform
import resource
import sqlite3
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import select, text

from governance.record.chain import ChainVerification, canonical_event, format_time
from governance.record.log import verify_chain
from governance.storage.db import Database
from governance.storage.models import AuditEvent, Vote

PROJECT_ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------ helpers
def median_ms(fn: Callable[[], Any], runs: int, *, warmup: int = 1) -> tuple[float, list[float]]:
    """Median wall time of ``fn`` in milliseconds over ``runs`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), times


def peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux reports kilobytes)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _meminfo_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def machine_info(db: Database) -> dict[str, Any]:
    postgres = None
    if db.dialect == "postgresql":
        with db.engine.connect() as conn:
            postgres = conn.execute(text("SHOW server_version")).scalar_one()
    return {
        "cores": os.cpu_count(),
        "memory_gb": _meminfo_gb(),
        "cpu": _cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlalchemy": sqlalchemy.__version__,
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres,
        "engine": db.dialect,
        # 1/5/15-minute load: on a shared 2-core machine, what the wall-clock figures were measured under.
        "load_average": [round(x, 1) for x in os.getloadavg()],
    }


# ---------------------------------------------------------------- the chain
def measure_chain_verify(db: Database, *, chunk: int = 50_000) -> tuple[dict[str, Any], ChainVerification]:
    """The product's full verification, and hashlib alone over the same canonical bytes.

    The canonical byte strings are rebuilt from the stored rows with
    ``governance.audit.canonical_event`` a chunk at a time (untimed, so memory
    stays bounded), then SHA-256 is timed over each chunk.
    """
    gc.collect()
    with db.uow().reading() as session:
        start = time.perf_counter()
        result = verify_chain(session)
        seconds = time.perf_counter() - start
    hash_seconds = 0.0
    events = 0
    total_bytes = 0
    columns = (AuditEvent.seq, AuditEvent.occurred_at, AuditEvent.actor_id, AuditEvent.actor_name,
               AuditEvent.action, AuditEvent.entity_type, AuditEvent.entity_id, AuditEvent.payload,
               AuditEvent.prev_hash)
    sha256 = hashlib.sha256
    with db.uow().reading() as session:
        rows = session.execute(select(*columns).order_by(AuditEvent.seq).execution_options(yield_per=chunk))
        for part in rows.partitions(chunk):
            data = [canonical_event(seq, format_time(at), actor_id, actor_name, action, etype, eid, payload,
                                    prev) for seq, at, actor_id, actor_name, action, etype, eid, payload, prev
                    in part]
            start = time.perf_counter()
            for item in data:
                sha256(item).hexdigest()
            hash_seconds += time.perf_counter() - start
            events += len(data)
            total_bytes += sum(map(len, data))
            del data
    report: dict[str, Any] = {
        "ok": result.ok,
        "events": result.events_checked,
        "seconds": round(seconds, 3),
        "events_per_s": round(result.events_checked / seconds) if seconds else None,
        "hashlib_events": events,
        "hashlib_seconds": round(hash_seconds, 3),
        "hashlib_events_per_s": round(events / hash_seconds) if hash_seconds else None,
        "ratio": round(seconds / hash_seconds, 1) if hash_seconds else None,
        "canonical_mb": round(total_bytes / 1e6, 1),
    }
    if not result.ok:
        report["problem"] = result.summary
    return report, result


# ---------------------------------------------------------- tally one pilot
RAW_TALLY_SQL = """
WITH eligible AS (
    SELECT voting_group, count(*) AS n FROM vote_eligibility WHERE vote_id = :vote GROUP BY voting_group
), current_ballots AS (
    SELECT voting_group, option, count(*) AS n FROM (
        SELECT voting_group, option FROM ballot WHERE vote_id = :vote AND is_current
        UNION ALL
        SELECT voting_group, option FROM secret_ballot WHERE vote_id = :vote AND is_current) b
    GROUP BY voting_group, option
), cast_per_group AS (
    SELECT voting_group, sum(n) AS n FROM current_ballots GROUP BY voting_group
), weights AS (
    SELECT 'frontline' AS voting_group, c.weight_frontline AS w
      FROM vote v JOIN charter c ON c.id = v.charter_id WHERE v.id = :vote
    UNION ALL SELECT 'commissioning', c.weight_commissioning
      FROM vote v JOIN charter c ON c.id = v.charter_id WHERE v.id = :vote
    UNION ALL SELECT 'steering', c.weight_steering
      FROM vote v JOIN charter c ON c.id = v.charter_id WHERE v.id = :vote
), present AS (
    SELECT sum(w.w) AS total FROM weights w JOIN eligible e ON e.voting_group = w.voting_group
)
SELECT b.voting_group, b.option, b.n, c.n AS cast_n, e.n AS eligible_n,
       sum(w.w / p.total * CAST(b.n AS DOUBLE PRECISION) / c.n) OVER (PARTITION BY b.option) AS combined
FROM current_ballots b
JOIN cast_per_group c ON c.voting_group = b.voting_group
JOIN eligible e ON e.voting_group = b.voting_group
JOIN weights w ON w.voting_group = b.voting_group
CROSS JOIN present p
"""


def _busiest_decided_vote(db: Database) -> tuple[int, int, int] | None:
    """(vote id, pilot id, eligible voters) of the decided pilot with the largest electorate."""
    with db.engine.connect() as conn:
        row = conn.execute(text(
            "SELECT d.vote_id, d.pilot_id, (SELECT count(*) FROM vote_eligibility e WHERE e.vote_id = d.vote_id) "
            "AS n FROM decision d ORDER BY n DESC, d.vote_id LIMIT 1")).first()
    return None if row is None else (int(row[0]), int(row[1]), int(row[2]))


def measure_tally_one_pilot(db: Database, *, runs: int = 21) -> dict[str, Any]:
    """``storage.repository.tally_of`` on one decided pilot's vote beside a raw SQL aggregate."""
    from governance.storage.repository import tally_of as compute_tally

    chosen = _busiest_decided_vote(db)
    if chosen is None:
        return {"pending": "no decided pilot in this database"}
    vote_id, pilot_id, eligible = chosen

    def product() -> Any:
        with db.uow().reading() as s:
            vote = s.get(Vote, vote_id)
            assert vote is not None
            return compute_tally(s, vote)

    def raw() -> list[Any]:
        with db.engine.connect() as conn:
            return list(conn.execute(text(RAW_TALLY_SQL), {"vote": vote_id}).all())

    tally = product()
    rows = raw()
    agrees = all(abs(float(tally.combined[option]) - combined) < 1e-9
                 and tally.groups[group].counts.get(option, 0) == n and tally.groups[group].cast == cast_n
                 for group, option, n, cast_n, _e, combined in rows)
    product_ms, _ = median_ms(product, runs)
    raw_ms, _ = median_ms(raw, runs)
    return {
        "vote_id": vote_id, "pilot_id": pilot_id, "eligible": eligible,
        "ballots": sum(g.cast for g in tally.groups.values()),
        "runs": runs, "product_ms": round(product_ms, 3), "raw_sql_ms": round(raw_ms, 3),
        "ratio": round(product_ms / raw_ms, 2) if raw_ms else None,
        "same_numbers": agrees,
    }


# ----------------------------------------------------- compare read model
def measure_compare_readmodel(db: Database, *, actor_id: int, runs: int = 5) -> dict[str, Any]:
    """The Compare read model beside a raw SQL aggregate of the same numbers."""
    from bench.compare_raw import measure

    return measure(db, actor_id=actor_id, runs=runs)


# -------------------------------------------------------------------- pages
def measure_pages(db: Database, *, accounts: dict[str, Any], runs: int = 5) -> dict[str, Any]:
    """Every page, as the role that uses it, under AppTest — median of ``runs``
    after a warm-up, with Streamlit's data caches cleared before each run (cold)
    and kept (warm): ``{page: {"role", "cold_ms", "warm_ms", "runs", …}}``."""
    from bench.pages import measure

    return measure(db, accounts=accounts, runs=runs)
