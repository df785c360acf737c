"""Bulk loading for the scale generator: buffered inserts in foreign-key order.

Rows are plain tuples in a fixed column order per table. On SQLite they go
through the standard library driver with ``executemany`` in large batches
(bulk-load PRAGMAs while loading, the normal ones restored afterwards); on
PostgreSQL through ``COPY … FROM STDIN``. Every buffer is flushed together,
parents before children (the metadata's dependency order), so foreign keys
hold at every flush and the schema's triggers see the rows in a legal order:
ballots are inserted while their vote row is still ``open``; votes are closed
by ``update_many`` only after every ballot is in.

Datetimes are passed as ``YYYY-MM-DD HH:MM:SS.ffffff`` text (naive UTC: the
storage format SQLAlchemy uses on SQLite, and a literal PostgreSQL parses),
dates as ``YYYY-MM-DD``.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from governance.storage.models import Base

#: Column order of every table the generator writes (must match the tuples it builds).
COLUMNS: dict[str, tuple[str, ...]] = {
    "organisation": ("id", "name", "created_at"),
    "person": ("id", "name", "email", "password_hash", "password_temporary", "active", "created_at"),
    "person_role": ("person_id", "role"),
    "programme": ("id", "name", "description", "created_at"),
    "panel": ("id", "name", "area", "site", "programme_id", "created_at"),
    "panel_membership": ("panel_id", "person_id", "panel_role", "joined_at"),
    "charter": ("id", "version", "weight_frontline", "weight_commissioning", "weight_steering",
                "quorum_frontline", "quorum_commissioning", "quorum_steering", "frontline_veto",
                "evaluation_window_days", "min_survey_responses", "indispensability_threshold",
                "allow_adopt_override", "feedback_response_working_days", "adopted_by", "adopted_at",
                "reason"),
    "problem": ("id", "panel_id", "programme_id", "state", "current_version", "created_by", "created_at"),
    "problem_version": ("id", "problem_id", "version", "title", "statement", "created_by", "created_at",
                        "ratified_at", "ratified_by_vote_id"),
    "problem_reopening": ("id", "problem_version_id", "pilot_id", "reason", "reopened_by", "reopened_at"),
    "problem_comment": ("id", "problem_id", "person_id", "body", "created_at"),
    "criterion": ("id", "problem_version_id", "name", "definition", "measurement_method", "unit",
                  "direction", "target", "minimum_evidence", "is_indispensability", "created_by",
                  "created_at"),
    "criteria_lock": ("id", "problem_version_id", "locked_by", "locked_at", "vote_id", "criteria_sha256",
                      "criteria_json"),
    "amendment": ("id", "criterion_id", "metric_id", "before_json", "after_json", "reason", "status",
                  "proposed_by", "proposed_at", "decided_at", "after_real_use", "resulting_sha256"),
    "pilot": ("id", "problem_id", "problem_version_id", "title", "description", "owner_id",
              "registered_by", "registered_at", "state", "ready_at", "real_use_started_at",
              "metrics_sha256", "metrics_json", "evaluating_since", "decided_at", "outcome"),
    "pilot_team_member": ("pilot_id", "person_id"),
    "roster_entry": ("pilot_id", "person_id", "added_by", "added_at"),
    "commissioning_metric": ("id", "pilot_id", "name", "definition", "unit", "direction", "target",
                             "created_by", "created_at"),
    "readiness_record": ("pilot_id", "item", "detail", "on_date", "recorded_by", "recorded_at"),
    "readiness_waiver": ("pilot_id", "reason", "waived_by", "waived_at"),
    "source_file": ("id", "pilot_id", "kind", "filename", "sha256", "byte_size", "row_count",
                    "imported_by", "imported_at"),
    "measurement": ("id", "pilot_id", "criterion_id", "metric_id", "value", "observed_on", "source",
                    "source_file_id", "recorded_by", "recorded_at"),
    "usage_week": ("id", "pilot_id", "week_start", "active_users", "eligible_users", "source_file_id"),
    "survey_round": ("id", "pilot_id", "number", "opened_by", "opened_at", "closed_by", "closed_at"),
    "survey_response": ("id", "round_id", "person_id", "answer", "sus_1", "sus_2", "sus_3", "sus_4",
                        "sus_5", "sus_6", "sus_7", "sus_8", "sus_9", "sus_10", "sus_score",
                        "use_instead", "main_benefit", "submitted_at", "is_current"),
    "vote": ("id", "kind", "pilot_id", "problem_version_id", "amendment_id", "panel_id", "question",
             "charter_id", "proposed_outcome", "adopt_available", "evidence_json", "opened_by",
             "opened_at", "deadline", "status", "closed_by", "closed_at", "result_json", "quorum_met",
             "passed", "outcome"),
    "vote_eligibility": ("vote_id", "person_id", "voting_group"),
    "ballot": ("id", "vote_id", "person_id", "voting_group", "option", "cast_at", "is_current"),
    "decision": ("id", "vote_id", "pilot_id", "outcome", "basis_json", "basis_sha256", "adopt_override",
                 "declared_by", "declared_at", "chain_head_seq", "chain_head_hash"),
    "claim": ("id", "pilot_id", "made_by", "made_at", "statement", "asserts_success", "citations_json",
              "checks_json", "decision_id"),
    "feedback_item": ("id", "pilot_id", "raised_by", "raised_at", "kind", "body", "due_on", "response",
                      "responded_by", "responded_at"),
    "audit_event": ("seq", "occurred_at", "actor_id", "actor_name", "action", "entity_type", "entity_id",
                    "payload", "prev_hash", "hash"),
    "audit_chain_head": ("id", "seq", "hash"),
}

#: Parents before children.
TABLE_ORDER: tuple[str, ...] = tuple(t.name for t in Base.metadata.sorted_tables if t.name in COLUMNS)
assert set(TABLE_ORDER) == set(COLUMNS), set(COLUMNS) ^ set(TABLE_ORDER)

#: Tables whose ``id`` comes from a sequence on PostgreSQL (reset after the load).
SERIAL_TABLES = tuple(t for t in TABLE_ORDER if COLUMNS[t][0] == "id"
                      and t not in ("audit_chain_head", "organisation"))


class BulkWriter:
    """Buffers rows per table and writes them in batches, in foreign-key order."""

    def __init__(self, url: str, *, batch_rows: int = 30_000, foreign_keys: bool = True,
                 cache_mb: int = int(os.environ.get("BENCH_SQLITE_CACHE_MB", "64"))) -> None:
        self.url = make_url(url)
        self.dialect = self.url.get_backend_name()
        self.batch_rows = batch_rows
        self.buffers: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLE_ORDER}
        self.pending = 0
        self.counts: dict[str, int] = {t: 0 for t in TABLE_ORDER}
        if self.dialect == "sqlite":
            path = self.url.database
            assert path and path != ":memory:", "the generator needs a SQLite file"
            self.path = Path(path)
            self.conn: Any = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            cur = self.conn.cursor()
            # Bulk load: no rollback journal, no fsync, a big page cache, one writer.
            cur.execute("PRAGMA journal_mode = OFF")
            cur.execute("PRAGMA synchronous = OFF")
            cur.execute(f"PRAGMA cache_size = -{cache_mb * 1024}")
            cur.execute("PRAGMA temp_store = MEMORY")
            cur.execute("PRAGMA locking_mode = EXCLUSIVE")
            cur.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
            cur.execute("BEGIN")
            self._sql = {t: f"INSERT INTO {t} ({', '.join(c)}) VALUES ({', '.join('?' * len(c))})"
                         for t, c in COLUMNS.items()}
        elif self.dialect == "postgresql":
            import psycopg

            self.conn = psycopg.connect(self.url.set(drivername="postgresql").render_as_string(
                hide_password=False))
            self.conn.execute("SET synchronous_commit = off")
            self._sql = {t: f"COPY {t} ({', '.join(c)}) FROM STDIN" for t, c in COLUMNS.items()}
        else:
            raise ValueError(f"the generator supports SQLite and PostgreSQL, not {self.dialect}")

    # ------------------------------------------------------------------ inserts
    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self.buffers[table].append(row)
        self.pending += 1
        if self.pending >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        for table in TABLE_ORDER:
            rows = self.buffers[table]
            if not rows:
                continue
            self._write(table, rows)
            self.counts[table] += len(rows)
            self.buffers[table] = []
        self.pending = 0

    def _write(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        if self.dialect == "sqlite":
            self.conn.executemany(self._sql[table], rows)
            return
        with self.conn.cursor() as cur, cur.copy(self._sql[table]) as copy:
            for row in rows:
                copy.write_row(row)

    # ------------------------------------------------------------------ updates
    def update_many(self, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]],
                    key: Sequence[str] = ("id",)) -> int:
        """``UPDATE table SET columns WHERE key`` for each row (values, then key values)."""
        self.flush()
        rows = list(rows)
        if not rows:
            return 0
        mark = "?" if self.dialect == "sqlite" else "%s"
        sql = (f"UPDATE {table} SET {', '.join(f'{c} = {mark}' for c in columns)} "
               f"WHERE {' AND '.join(f'{k} = {mark}' for k in key)}")
        if self.dialect == "sqlite":
            self.conn.executemany(sql, rows)
        else:
            with self.conn.cursor() as cur:
                cur.executemany(sql, rows)
        return len(rows)

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        if self.dialect == "sqlite":
            return list(self.conn.execute(sql))
        with self.conn.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall()) if cur.description else []

    # ------------------------------------------------------------------- finish
    def finish(self, *, analyze: bool) -> None:
        """Commit, restore the normal settings, reset sequences, optionally ANALYZE."""
        self.flush()
        if self.dialect == "sqlite":
            self.conn.execute("COMMIT")
            problems = list(self.conn.execute("PRAGMA foreign_key_check"))
            if problems:
                raise AssertionError(f"foreign key violations after the load: {problems[:5]}")
            if analyze:
                self.conn.execute("ANALYZE")
            # Back to the product's settings (db.py): WAL, normal sync, shared locking.
            self.conn.execute("PRAGMA locking_mode = NORMAL")
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.conn.close()
            return
        with self.conn.cursor() as cur:
            for table in SERIAL_TABLES:
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)")
        self.conn.commit()
        if analyze:
            self.conn.autocommit = True
            self.conn.execute("VACUUM ANALYZE")
        self.conn.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):  # best effort on the way out
            if self.dialect == "postgresql":
                self.conn.rollback()
            self.conn.close()
