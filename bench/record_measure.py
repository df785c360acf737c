"""The record's costs (R18): a checkpoint, incremental and full live verification, the integrity check.

Everything runs through the product's own functions (``services.checkpoints.make_checkpoint``,
``record.log.append_many``, ``record.live.verify_live``, ``record.integrity.check``). The
incremental figures are taken inside a transaction that is rolled back afterwards: a fresh
checkpoint is made at the head, events are appended after it through the product's batch
append (with their MACs) — ``NEW_EVENTS // 10`` first, then up to ``NEW_EVENTS`` — and the live
verification resumes from that checkpoint after each, so the organisation measured is left
exactly as it was. Both counts are reported (``incremental.scaling``): their times grow with
the events since the checkpoint, not with the chain (compare the figures across scales).
The full chain's verification is reported in events per second (``full_chain``).
"""
from __future__ import annotations

import gc
import statistics
import time
from typing import Any

from governance.record.events import people as people_events
from governance.record.integrity import check
from governance.record.live import LiveVerification, verify_live
from governance.record.log import append_many, verify_chain
from governance.services._base import session_of
from governance.services.checkpoints import make_checkpoint
from governance.storage.db import Database

#: How many events the incremental verification resumes over (issue 11: 10,000).
NEW_EVENTS = 10_000


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


def _incremental(s: Any, keys: Any, runs: int) -> tuple[float, list[float], LiveVerification]:
    """Median ms of the live verification from the newest checkpoint, its runs, its last result."""
    times, result = [], None
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        result = verify_live(s, keys, incremental=True, integrity=False)
        times.append(_ms(start))
    assert result is not None
    return statistics.median(times), times, result


def _burst(count: int, first: int) -> list[Any]:
    # Failed sign-ins are the one kind of event anybody can cause in bulk; any builder would do.
    return [people_events.sign_in_failed(person_id=None, reason="unknown_account", failures=first + i + 1,
                                         address=None) for i in range(count)]


def measure_record(db: Database, *, runs: int = 3) -> dict[str, Any]:
    """``{"checkpoint_ms", "incremental": {..., "scaling"}, "integrity", "full_chain", "full_live"}``."""
    report: dict[str, Any] = {}
    uow = db.uow()
    with uow:  # never committed: rolled back on leaving
        s = session_of(uow)
        start = time.perf_counter()
        checkpoint = make_checkpoint(uow, "benchmark")
        s.flush()
        report["checkpoint_ms"] = _ms(start)
        scaling: dict[str, float] = {}
        appended, append_ms = 0, 0.0
        for count in (NEW_EVENTS // 10, NEW_EVENTS):
            start = time.perf_counter()
            append_many(s, None, _burst(count - appended, appended), uow.now(), uow.keys.record_mac_key())
            s.flush()
            append_ms += _ms(start)
            appended = count
            ms, times, result = _incremental(s, uow.keys, runs)
            scaling[str(result.chain.events_checked)] = ms
        report["incremental"] = {
            "ms": ms, "runs": times, "from_seq": result.incremental_from,
            "checkpoint_seq": checkpoint.seq, "events": result.chain.events_checked, "ok": result.ok,
            "events_per_s": round(result.chain.events_checked / (ms / 1000)) if ms else None,
            "scaling": scaling, "append_ms": round(append_ms, 1), "summary": result.summary}
    with db.uow().reading() as s:
        times, found = [], []
        for _ in range(runs):
            start = time.perf_counter()
            found = check(s)
            times.append(_ms(start))
        report["integrity"] = {"ms": statistics.median(times), "runs": times, "alterations": len(found)}
        gc.collect()
        start = time.perf_counter()
        chain = verify_chain(s)
        seconds = time.perf_counter() - start
        report["full_chain"] = {"s": round(seconds, 3), "events": chain.events_checked, "ok": chain.ok,
                                "events_per_s": round(chain.events_checked / seconds) if seconds else None}
        gc.collect()
        start = time.perf_counter()
        full = verify_live(s, db.keys, incremental=False, integrity=False)
        seconds = time.perf_counter() - start
        report["full_live"] = {"s": round(seconds, 3), "events": full.chain.events_checked,
                               "events_per_s": round(full.chain.events_checked / seconds) if seconds else None,
                               "checkpoints_verified": full.checkpoints_verified,
                               "checkpoints_total": full.checkpoints_total, "ok": full.ok,
                               "summary": full.summary}
    return report
