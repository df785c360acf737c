"""Full chain verification, the lean pass against the careful verifier alone, on one database.

    python -m bench.chain_speed --url URL [--runs 3] [--json F]

Times ``record.log.verify_chain`` (the lean pass, then the careful verifier only from a first
broken event) and ``chain.verify_events`` over ``record.log.event_records`` (the careful
verifier alone, as verification ran before issue 16), alternately, in wall and CPU seconds —
the CPU figure is the steadier one on a machine shared with other work — beside hashlib alone
over the same canonical bytes; then ``bench.record_measure``'s incremental verification after
1,000 and 10,000 new events (rolled back). Both verifiers must give the same result.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.generate import keys_for
from bench.measure import machine_info, measure_chain_verify
from bench.record_measure import measure_record
from governance.record.chain import ChainVerification, verify_events
from governance.record.log import event_records, verify_chain
from governance.storage.db import Database


def _careful(session: Any) -> ChainVerification:
    return verify_events(event_records(session))


def _timed(db: Database, verify: Any) -> tuple[float, float, ChainVerification]:
    gc.collect()
    with db.uow().reading() as session:
        wall, cpu = time.perf_counter(), time.process_time()
        result = verify(session)
        return time.perf_counter() - wall, time.process_time() - cpu, result


def measure(db: Database, runs: int) -> dict[str, Any]:
    """``{"lean": {...}, "careful": {...}, "speedup_cpu", "hashlib", "record"}``."""
    times: dict[str, list[tuple[float, float]]] = {"lean": [], "careful": []}
    results: dict[str, ChainVerification] = {}
    for _ in range(runs):
        for name, verify in (("lean", verify_chain), ("careful", _careful)):
            wall, cpu, results[name] = _timed(db, verify)
            times[name].append((wall, cpu))
    lean, careful = results["lean"], results["careful"]
    if (lean.ok, lean.head_seq, lean.head_hash) != (careful.ok, careful.head_seq, careful.head_hash):
        raise SystemExit(f"the verifiers disagree: {lean} / {careful}")
    out: dict[str, Any] = {"events": lean.events_checked, "ok": lean.ok}
    for name, pairs in times.items():
        wall, cpu = statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)
        out[name] = {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
                     "events_per_s_wall": round(lean.events_checked / wall),
                     "events_per_s_cpu": round(lean.events_checked / cpu), "runs": pairs}
    out["speedup_cpu"] = round(out["careful"]["cpu_s"] / out["lean"]["cpu_s"], 2)
    chain_report, _ = measure_chain_verify(db)
    out["hashlib"] = {k: chain_report[k] for k in ("hashlib_seconds", "hashlib_events_per_s", "canonical_mb")}
    out["record"] = measure_record(db)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.chain_speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the database (e.g. sqlite:///bench/out/ministry.db)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args(argv)
    db = Database(args.url, keys=keys_for(args.url))
    try:
        report = {"database": args.url, "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  "machine": machine_info(db), "load_average_before": os.getloadavg(),
                  **measure(db, args.runs), "load_average_after": os.getloadavg()}
    finally:
        db.dispose()
    text = json.dumps(report, indent=2) + "\n"
    if args.json_path:
        Path(args.json_path).write_text(text, encoding="utf-8")
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
