"""The record's costs (R18): a checkpoint, incremental and full live verification, the integrity check.

Everything runs through the product's own functions (``services.checkpoints.make_checkpoint``,
``record.log.append_many``, ``record.live.verify_live``, ``record.integrity.check``). The
incremental figure is taken inside a transaction that is rolled back afterwards: a fresh
checkpoint is made at the head, ``NEW_EVENTS`` events are appended after it through the
product's batch append (with their MACs), and the live verification resumes from that
checkpoint — so the organisation measured is left exactly as it was.
"""
from __future__ import annotations

import gc
import statistics
import time
from typing import Any

from governance.record.events import people as people_events
from governance.record.integrity import check
from governance.record.live import verify_live
from governance.record.log import append_many
from governance.services._base import session_of
from governance.services.checkpoints import make_checkpoint
from governance.storage.db import Database

#: How many events the incremental verification resumes over (issue 11: 10,000).
NEW_EVENTS = 10_000


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


def measure_record(db: Database, *, runs: int = 3) -> dict[str, Any]:
    """``{"checkpoint_ms", "incremental": {...}, "integrity": {...}, "full_live": {...}}``."""
    report: dict[str, Any] = {}
    uow = db.uow()
    with uow:  # never committed: rolled back on leaving
        s = session_of(uow)
        start = time.perf_counter()
        checkpoint = make_checkpoint(uow, "benchmark")
        s.flush()
        report["checkpoint_ms"] = _ms(start)
        # Failed sign-ins are the one kind of event anybody can cause in bulk; any builder would do.
        burst = [people_events.sign_in_failed(person_id=None, reason="unknown_account", failures=i + 1,
                                              address=None) for i in range(NEW_EVENTS)]
        start = time.perf_counter()
        append_many(s, None, burst, uow.now(), uow.keys.record_mac_key())
        s.flush()
        append_ms = _ms(start)
        times, result = [], None
        for _ in range(runs):
            gc.collect()
            start = time.perf_counter()
            result = verify_live(s, uow.keys, incremental=True, integrity=False)
            times.append(_ms(start))
        assert result is not None
        report["incremental"] = {
            "ms": statistics.median(times), "runs": times, "from_seq": result.incremental_from,
            "checkpoint_seq": checkpoint.seq, "events": result.chain.events_checked, "ok": result.ok,
            "append_ms": append_ms, "summary": result.summary}
    with db.uow().reading() as s:
        times, found = [], []
        for _ in range(runs):
            start = time.perf_counter()
            found = check(s)
            times.append(_ms(start))
        report["integrity"] = {"ms": statistics.median(times), "runs": times, "alterations": len(found)}
        gc.collect()
        start = time.perf_counter()
        full = verify_live(s, db.keys, incremental=False, integrity=False)
        report["full_live"] = {"s": round(time.perf_counter() - start, 3), "events": full.chain.events_checked,
                               "checkpoints_verified": full.checkpoints_verified,
                               "checkpoints_total": full.checkpoints_total, "ok": full.ok,
                               "summary": full.summary}
    return report
