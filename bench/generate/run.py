"""Running the generator: the database, the keys, the plan, the replay, the report."""
from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.bulk import BulkWriter
from bench.generate.core import moment, to_us
from bench.generate.emitter import Emitter
from bench.plan import ACCOUNT_PASSWORD, DAY, SCALES, Planner, Scale
from governance.identity.keys import BALLOT_KEY_ENV, SIGNING_KEY_ENV, Keys
from governance.record.chain import format_time
from governance.storage.db import Database

PROJECT_ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = PROJECT_ROOT / "bench" / "out"


def default_url(scale: str) -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{OUT_DIR / f'{scale}.db'}"


def keys_for(url: str) -> Keys:
    """The ballot and signing keys of a generated organisation, kept outside its database:
    named by the environment (``GOVERNANCE_BALLOT_KEY_FILE``, ``GOVERNANCE_SIGNING_KEY_FILE``),
    else beside the SQLite file, else (PostgreSQL) made under ``bench/out/`` for that database."""
    if os.environ.get(BALLOT_KEY_ENV) or os.environ.get(SIGNING_KEY_ENV) or url.startswith("sqlite"):
        return Keys.for_url(url)
    u = make_url(url)
    return Keys.beside(OUT_DIR / f"{u.host or 'local'}-{u.port or 5432}-{u.database}.postgresql")


def prepare_database(url: str, *, reset: bool) -> None:
    """A migrated, empty database at ``url`` (recreated when ``reset``)."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        path = Path(u.database or "")
        if reset:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
    elif reset:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    db = Database(url)
    try:
        db.upgrade()
        with db.engine.connect() as conn:
            people = conn.execute(text("SELECT count(*) FROM person")).scalar_one()
            events = conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
        if people or events:
            raise SystemExit(f"{u.render_as_string(hide_password=True)} is not empty ({people} people, "
                             f"{events} audit events); the generator needs an empty database (--reset).")
    finally:
        db.dispose()


def generate(scale: Scale | str, url: str | None = None, *, reset: bool = False, seed: int = 20261121,
             end: datetime | None = None, analyze: bool | None = None, keys: Keys | None = None,
             log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Build the organisation of ``scale`` into ``url``; returns a report (times, counts)."""
    if isinstance(scale, str):
        scale = SCALES[scale]
    url = url or default_url(scale.name)
    say = log or (lambda _m: None)
    started = time.perf_counter()
    prepare_database(url, reset=reset or url == f"sqlite:///{OUT_DIR / f'{scale.name}.db'}")
    t_migrated = time.perf_counter()
    # The timeline ends just before now (on the hour), so the product's own clock carries on from it.
    end = end or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    t_end = to_us(end)
    planner = Planner(scale, t_end - scale.days * DAY, t_end, seed).plan()
    # The plan lives until the end: keep the collector from scanning it again at every full
    # collection during the replay (at ``nation`` that is millions of objects each time).
    gc.collect()
    gc.freeze()
    t_planned = time.perf_counter()
    say(f"planned in {t_planned - t_migrated:.1f}s; ballots {planner.stats['ballots']}, "
        f"responses {planner.stats['survey_responses']}")
    dialect = make_url(url).get_backend_name()
    writer = BulkWriter(url)
    emitter = Emitter(planner, writer, keys or keys_for(url), organisation=f"Bench organisation ({scale.name})")
    try:
        emitter.run()
        t_emitted = time.perf_counter()
        emitter.finish()
        writer.finish(analyze=(dialect == "postgresql") if analyze is None else analyze)
    except BaseException:
        writer.abort()
        raise
    done = time.perf_counter()
    return {
        "scale": scale.name, "url": make_url(url).render_as_string(hide_password=True), "engine": dialect,
        "seed": seed, "timeline": {"start": format_time(moment(planner.t0)), "end": format_time(moment(t_end))},
        "seconds": round(done - started, 3),
        "phases_s": {"migrate": round(t_migrated - started, 3), "plan": round(t_planned - t_migrated, 3),
                     "emit": round(t_emitted - t_planned, 3), "finish": round(done - t_emitted, 3)},
        "rows": dict(writer.counts), "audit_events": emitter.seq, "actions": dict(sorted(emitter.actions.items())),
        "targets": {"ballots": planner.stats["ballots"], "survey_responses": planner.stats["survey_responses"]},
        **_states(planner), "stats": emitter.stats,
        "accounts": {role: {"person_id": pid, "email": planner.emails[pid]} for role, pid in planner.accounts.items()},
        "account_password": ACCOUNT_PASSWORD,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _states(planner: Planner) -> dict[str, dict[str, int]]:
    pilots = [p.rt for p in planner.pilots if p.rt is not None]
    return {"pilot_states": dict(Counter(str(p.state) for p in pilots)),
            "pilot_outcomes": dict(Counter(p.outcome for p in pilots if p.outcome)),
            "problem_states": dict(Counter(str(pb.rt.state) for pb in planner.problems if pb.rt is not None))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description="Scale generator.")
    parser.add_argument("--scale", choices=sorted(SCALES), default="smoke")
    parser.add_argument("--url", help="database URL (default: DATABASE_URL, else bench/out/<scale>.db)")
    parser.add_argument("--reset", action="store_true", help="empty the database first (drops its schema)")
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--end", help="end of the generated timeline, ISO date-time (default: now, on the hour, UTC)")
    parser.add_argument("--report", help="write the generation report (JSON) here")
    args = parser.parse_args(argv)
    end = datetime.fromisoformat(args.end).replace(tzinfo=UTC) if args.end else None
    report = generate(args.scale, args.url, reset=args.reset, seed=args.seed, end=end,
                      log=lambda m: print(m, file=sys.stderr, flush=True))
    body = json.dumps(report, indent=2)
    if args.report:
        Path(args.report).write_text(body + "\n", encoding="utf-8")
    print(body)
    return 0
