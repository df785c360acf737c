"""R18 on the read path: which version of every frozen row the integrity check reads, as the
database records it, and the small process-wide store that keeps the check's verdicts beside
those fingerprints (``integrity.altered_pilots(cached=True)``, used by Compare and Home).

Apart from ``integrity`` because it is about the database's own row versions, not about what the
record says the frozen things were.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

# ------------------------------------------------------ the fingerprints
#: The tables ``altered_pilots`` reads, with their key and which rows: every row of each (an
#: operator who moves a criterion into or out of a locked version, or rewrites an amendment,
#: changes a row here), the lock events through ix_audit_event_action.
FINGERPRINTED: tuple[tuple[str, str, str], ...] = (
    ("criteria_lock", "id", ""),
    ("problem_version", "id", "WHERE id IN (SELECT problem_version_id FROM criteria_lock)"),
    ("criterion", "id", ""),
    ("amendment", "id", ""),
    ("commissioning_metric", "id", ""),
    ("pilot", "id", "WHERE metrics_sha256 IS NOT NULL"),
    ("audit_event", "seq", "WHERE action = 'criteria.locked'"),
)


def _versions(key: str) -> str:
    return f"string_agg({key} || '.' || xmin::text, ',' ORDER BY {key})"


#: Per group (a lock and what its check reads; a locked pilot and its metrics), the ordered
#: (key, xmin) pairs of its rows, in one statement (one round trip): rows of (part, key, extra,
#: versions). An amendment belongs to its criterion's version or its metric's pilot, as the
#: check joins it.
_PG_GROUPS = " UNION ALL ".join((
    "SELECT 'db', oid::text, NULL, NULL FROM pg_database WHERE datname = current_database()",
    "SELECT 'lock', l.id::text, l.problem_version_id::text, l.xmin::text || ':' || coalesce(v.xmin::text, '') "
    "FROM criteria_lock l LEFT JOIN problem_version v ON v.id = l.problem_version_id",
    f"SELECT 'criteria', problem_version_id::text, NULL, {_versions('id')} FROM criterion GROUP BY problem_version_id",
    "SELECT 'criteria_amendments', c.problem_version_id::text, NULL, "
    "string_agg(a.id || '.' || a.xmin::text, ',' ORDER BY a.id) "
    "FROM amendment a JOIN criterion c ON c.id = a.criterion_id GROUP BY c.problem_version_id",
    f"SELECT 'lock_events', entity_id, NULL, {_versions('seq')} FROM audit_event "
    "WHERE action = 'criteria.locked' GROUP BY entity_id",
    "SELECT 'pilot', id::text, NULL, xmin::text FROM pilot WHERE metrics_sha256 IS NOT NULL",
    f"SELECT 'metrics', pilot_id::text, NULL, {_versions('id')} FROM commissioning_metric GROUP BY pilot_id",
    "SELECT 'metric_amendments', m.pilot_id::text, NULL, string_agg(a.id || '.' || a.xmin::text, ',' ORDER BY a.id) "
    "FROM amendment a JOIN commissioning_metric m ON m.id = a.metric_id GROUP BY m.pilot_id",
))


#: The SHA-256 of every group's row versions at once, computed by the database (one row back).
_PG_WHOLE = ("SELECT encode(sha256(convert_to(coalesce(string_agg(p || '/' || k || '/' || coalesce(x, '') || '/' "
             "|| coalesce(v, ''), E'\\n' ORDER BY p, k), ''), 'UTF8')), 'hex') "
             f"FROM ({_PG_GROUPS}) AS g(p, k, x, v)")


def whole_fingerprint(session: Session) -> str | None:
    """One digest of everything ``frozen_fingerprints`` lists (None on SQLite): equal exactly when
    every group's fingerprint is."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    return str(session.connection().execute(text(_PG_WHOLE)).scalar_one())


@dataclass(frozen=True)
class Fingerprints:
    """Which version of every row each lock's and each locked pilot's check reads."""

    #: ("lock", lock id) or ("pilot", pilot id) → the versions of the rows that check reads.
    groups: dict[tuple[str, int], str]
    #: lock id → the problem version it locks.
    lock_versions: dict[int, int]


def frozen_fingerprints(session: Session) -> Fingerprints | None:
    """Which version of every row ``altered_pilots`` reads, per lock and per locked pilot, as the
    database records it; None where the database keeps no such thing (SQLite).

    On PostgreSQL every INSERT, UPDATE or DELETE — whoever makes it, with or without the guard
    triggers (``session_replication_role = replica`` skips triggers, not MVCC) — leaves the row
    with the writing transaction's id in ``xmin``, an id no earlier version of it carries. So a
    group's ordered (key, xmin) pairs change with any write to its rows. Freezing (VACUUM) keeps
    ``xmin`` as it was since PostgreSQL 9.4 (it sets a hint bit), and a rewrite (VACUUM FULL,
    CLUSTER) keeps it too; a dump restored into the same URL gives new ids — and a changed
    fingerprint only costs a fresh check. The database's oid is part of every group, so a
    database dropped and re-created under the same URL never matches.
    """
    if session.get_bind().dialect.name != "postgresql":
        return None
    part: dict[str, dict[str, str]] = defaultdict(dict)
    versions: dict[int, int] = {}
    for kind, key, extra, seen in session.connection().execute(text(_PG_GROUPS)):
        part[kind][key] = seen or ""
        if kind == "lock":
            versions[int(key)] = int(extra)
    oid = next(iter(part["db"]))
    groups: dict[tuple[str, int], str] = {}
    for lock_id, vid in versions.items():
        key = str(vid)
        groups["lock", lock_id] = "|".join((oid, part["lock"][str(lock_id)], key, part["criteria"].get(key, ""),
                                           part["criteria_amendments"].get(key, ""),
                                           part["lock_events"].get(str(lock_id), "")))
    for pilot_key, pilot_xmin in part["pilot"].items():
        groups["pilot", int(pilot_key)] = "|".join((oid, pilot_xmin, part["metrics"].get(pilot_key, ""),
                                                   part["metric_amendments"].get(pilot_key, "")))
    return Fingerprints(groups, versions)


class ResultCache:
    """A small, thread-safe, bounded map from a key (a database) to a check's results.

    Process-wide (Streamlit's sessions share it; ``governance`` never imports Streamlit). An
    entry also expires after ``ttl`` seconds — and ``altered_pilots`` holds each verdict in it
    no longer than that either — so even a fingerprint collision no one can make today would
    leave a stale verdict standing no longer than ``ttl``.
    """

    def __init__(self, maxsize: int = 16, ttl: float = 900.0) -> None:
        self.maxsize, self.ttl = maxsize, ttl
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        """The stored result, or None if absent or expired."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if time.monotonic() - entry[0] > self.ttl:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: Hashable, value: Any) -> None:
        """Store a result; the least recently used entry goes beyond ``maxsize``."""
        with self._lock:
            self._entries[key] = (time.monotonic(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
