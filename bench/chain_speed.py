"""Full chain verification: split across processes, the lean pass in one process, the careful verifier.

    python -m bench.chain_speed --url URL [--runs 3] [--workers 2,3] [--no-careful] [--no-extras] [--json F]

Times ``record.log.verify_chain`` split across K worker processes (``--workers``, default
``verify_workers()``: one per core), the same in one process (``workers=1``: the lean pass, then
the careful verifier only from a first broken event), and ``chain.verify_events`` over
``record.log.event_records`` (the careful verifier alone, as verification ran before issue 16),
alternately. Each in wall seconds and CPU seconds: the verifying processes' own (this one and
its workers, ``time.process_time`` / ``os.times``) and, when the PostgreSQL server runs on this
machine, its server processes' for the same reads (``/proc``) — on a machine shared with other
work the CPU figures are the steady ones, and the wall figure of K processes on C cores is at
best ``max(total CPU / C, the busiest reader's CPU with its server process's)`` (a server-side
cursor hands rows over on request, so a reader and its server process take turns). Then hashlib alone over the same
canonical bytes, and ``bench.record_measure``'s incremental verification after 1,000 and
10,000 new events (rolled back), unless ``--no-extras``. Every verifier must give the same result.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.generate import keys_for
from bench.measure import machine_info, measure_chain_verify
from bench.record_measure import measure_record
from governance.record import log
from governance.record.chain import ChainVerification, verify_events
from governance.record.range_worker import backend_cpu
from governance.storage.db import Database

#: What the split's workers answered in the verification being timed (their server CPU, mainly).
_answers: list[dict[str, Any]] = []


def _recording_workers(requests: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    answers = _run_workers(requests)
    _answers.extend(answers or [])
    return answers


_run_workers = log._run_workers


def _careful(session: Any) -> ChainVerification:
    return verify_events(log.event_records(session))


def _split(workers: int) -> Callable[[Any], ChainVerification]:
    def verify(session: Any) -> ChainVerification:
        # min_split=1: split at any scale here (the product splits from ``SPLIT_MIN_EVENTS`` events).
        return log.verify_chain(session, workers=workers, min_split=1)
    return verify


def _lean(session: Any) -> ChainVerification:
    return log.verify_chain(session, workers=1)


def _timed(db: Database, verify: Callable[[Any], ChainVerification]) -> dict[str, Any]:
    gc.collect()
    _answers.clear()
    with db.uow().reading() as session:
        backend = (session.execute(text("SELECT pg_backend_pid()")).scalar()
                   if db.dialect == "postgresql" else None)
        server0 = backend_cpu(backend) if backend else None
        times0, wall0, cpu0 = os.times(), time.perf_counter(), time.process_time()
        result = verify(session)
        wall, cpu, times1 = time.perf_counter() - wall0, time.process_time() - cpu0, os.times()
        server1 = backend_cpu(backend) if backend else None
    children = (times1.children_user - times0.children_user) + (times1.children_system - times0.children_system)
    worker_server = [a.get("server_cpu_s") for a in _answers]
    server = 0.0 if db.dialect == "sqlite" else None  # SQLite: no server process, the readers do it all
    if server0 is not None and server1 is not None and None not in worker_server:
        server = server1 - server0 + sum(float(x or 0) for x in worker_server)
    # A server-side cursor hands rows over on request: a reader and its server process take turns,
    # so each pair's CPU adds up (the parent's, or a worker's with its own server process).
    busiest = max([cpu + (server1 - server0 if server0 is not None and server1 is not None else 0),
                   *(float(a.get("cpu_s") or 0) + float(a.get("server_cpu_s") or 0) for a in _answers)])
    return {"wall": wall, "client_cpu": cpu + children, "server_cpu": server, "busiest_cpu": busiest,
            "processes": 1 + len(_answers), "result": result}


def measure(db: Database, runs: int, workers: list[int], careful: bool = True,
            extras: bool = True) -> dict[str, Any]:
    """``{"split_K": {...}, "lean": {...}, "careful": {...}, "speedup_cpu", "hashlib", "record"}``."""
    variants: dict[str, Callable[[Any], ChainVerification]] = {f"split_{k}": _split(k) for k in workers}
    variants["lean"] = _lean
    if careful:
        variants["careful"] = _careful
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    log._run_workers = _recording_workers
    try:
        for _ in range(runs):
            for name, verify in variants.items():
                samples[name].append(_timed(db, verify))
    finally:
        log._run_workers = _run_workers
    reference = samples["lean"][-1]["result"]
    for name, runs_of in samples.items():
        for sample in runs_of:
            got = sample.pop("result")
            if name == "careful":
                same = (got.ok, got.head_seq, got.head_hash) == (reference.ok, reference.head_seq,
                                                                 reference.head_hash)
            else:
                same = got == reference
            if not same:
                raise SystemExit(f"the verifiers disagree: {name} {got} / lean {reference}")
    events = reference.events_checked
    out: dict[str, Any] = {"events": events, "ok": reference.ok}
    for name, runs_of in samples.items():
        def med(key: str, of: list[dict[str, Any]] = runs_of) -> float | None:
            values = [r[key] for r in of if r[key] is not None]
            return statistics.median(values) if values else None
        wall, client, server, busiest = med("wall"), med("client_cpu"), med("server_cpu"), med("busiest_cpu")
        assert wall is not None and client is not None and busiest is not None
        entry: dict[str, Any] = {
            "processes": runs_of[0]["processes"], "wall_s": round(wall, 3), "client_cpu_s": round(client, 3),
            "busiest_process_cpu_s": round(busiest, 3),
            "events_per_s_wall": round(events / wall), "events_per_s_client_cpu": round(events / client),
            "runs": [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()} for r in runs_of]}
        if server is not None:
            total = client + server
            entry |= {"server_cpu_s": round(server, 3), "events_per_s_total_cpu": round(events / total),
                      # The best wall on an idle machine of ``os.cpu_count()`` cores: the CPU shared
                      # out over the cores, or the busiest reader with its server process, whichever
                      # is longer.
                      "events_per_s_idle_bound": round(events / max(total / (os.cpu_count() or 1), busiest))}
        out[name] = entry
    lean_cpu = out["lean"]["client_cpu_s"] + (out["lean"].get("server_cpu_s") or 0)
    for name in variants:
        mine = out[name]["client_cpu_s"] + (out[name].get("server_cpu_s") or 0)
        out[name]["total_cpu_vs_lean"] = round(mine / lean_cpu, 3) if lean_cpu else None
        out[name]["wall_speedup_vs_lean"] = round(out["lean"]["wall_s"] / out[name]["wall_s"], 2)
    if extras:
        chain_report, _ = measure_chain_verify(db)
        out["hashlib"] = {k: chain_report[k] for k in ("hashlib_seconds", "hashlib_events_per_s", "canonical_mb")}
        out["record"] = measure_record(db)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.chain_speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the database (e.g. sqlite:///bench/out/ministry.db)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", default=str(log.verify_workers()),
                        help="comma-separated worker counts to time the split with (default: one per core)")
    parser.add_argument("--no-careful", action="store_true", help="skip the careful verifier alone (slow)")
    parser.add_argument("--no-extras", action="store_true", help="skip hashlib alone and the incremental measure")
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args(argv)
    try:
        workers = [int(k) for k in args.workers.split(",") if k.strip()]
    except ValueError:
        parser.error("--workers takes whole numbers, e.g. 2,3")
    if not workers or min(workers) < 2:
        parser.error("--workers: each split needs 2 workers or more")
    db = Database(args.url, keys=keys_for(args.url))
    try:
        report = {"database": args.url, "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  "machine": machine_info(db), "load_average_before": os.getloadavg(),
                  **measure(db, args.runs, workers, careful=not args.no_careful, extras=not args.no_extras),
                  "load_average_after": os.getloadavg()}
    finally:
        db.dispose()
    text = json.dumps(report, indent=2) + "\n"
    if args.json_path:
        Path(args.json_path).write_text(text, encoding="utf-8")
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
