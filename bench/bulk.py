"""Bulk loading for the scale generator, the way a restore loads a dump.

Every row is written once, in its final state: the generator keeps a row
that still changes (a vote until it closes, a pilot until it is decided) in
memory and writes it when it is final, so nothing is ever updated. Like
``pg_restore`` (which loads as a replica) the load runs with the record's
guard triggers and the foreign-key checks out of the way, because it writes
two years of history at once, in no particular table order:

* PostgreSQL: one ``COPY … FROM STDIN`` connection in a
  ``session_replication_role = replica`` session (the generator connects as
  the owner or a superuser; the application's runtime role cannot do this);
  the triggers themselves are never touched, so nothing needs restoring.
  As ``pg_restore`` does, the secondary indexes (and the unique constraints
  no foreign key leans on) are built after the data, not kept up row by
  row: dropped in the load's transaction and created again from their own
  definitions (``pg_get_indexdef``) before it commits, so a unique index
  that would not hold fails the load, and a failed load leaves them as
  they were. Maintaining 27 random-order B-trees while 16 M events arrive
  was most of the load's time at ``nation``.
* SQLite: ``executemany`` in large batches with bulk-load PRAGMAs; the guard
  triggers are dropped for the load and re-created afterwards by the
  migrations' own code (``bench.guards``), then compared with what was
  dropped.

Afterwards every foreign key is checked (``PRAGMA foreign_key_check``; on
PostgreSQL one anti-join per key), the normal settings come back, and
PostgreSQL's sequences are moved past the ids the generator chose.

Datetimes are passed as ``YYYY-MM-DD HH:MM:SS.ffffff`` text (naive UTC: the
storage format SQLAlchemy uses on SQLite, and a literal PostgreSQL parses),
dates as ``YYYY-MM-DD``.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Mapping
from datetime import date, timedelta
from enum import Enum
from typing import Any

from sqlalchemy.engine import make_url

from bench import guards
from governance.storage.models import Base

#: Tables the generator writes, and their columns (the tuples it builds follow this order).
COLUMNS: dict[str, tuple[str, ...]] = {t.name: tuple(c.name for c in t.columns)
                                        for t in Base.metadata.sorted_tables if t.name != "job_lease"}
TABLE_ORDER: tuple[str, ...] = tuple(COLUMNS)
#: Tables whose ``id`` comes from a sequence on PostgreSQL (moved past the generated ids afterwards).
SERIAL_TABLES = tuple(t.name for t in Base.metadata.sorted_tables if t.name in COLUMNS
                      and "id" in t.c and t.c.id.primary_key and t.c.id.autoincrement is not False)

EPOCH_DATE = date(1970, 1, 1)
DAY_US = 86_400_000_000
_DAYS: dict[int, str] = {}


def db_ts(t: int | None) -> str | None:
    """A moment (µs since the epoch, UTC) as the stored naive-UTC text."""
    if t is None:
        return None
    d, rest = divmod(t, DAY_US)
    day = _DAYS.get(d)
    if day is None:
        day = _DAYS[d] = (EPOCH_DATE + timedelta(days=d)).isoformat()
    sec, us = divmod(rest, 1_000_000)
    h, sec = divmod(sec, 3600)
    m, sec = divmod(sec, 60)
    return f"{day} {h:02d}:{m:02d}:{sec:02d}.{us:06d}"


def defer_postgres_indexes(conn: Any) -> list[str]:
    """Drop the schema's secondary indexes and the unique constraints no foreign key needs, in the
    load's open transaction; returns the statements that create them again (run before commit)."""
    rows = conn.execute("""
        SELECT t.relname, i.relname, pg_get_indexdef(x.indexrelid), con.conname, pg_get_constraintdef(con.oid)
          FROM pg_index x
          JOIN pg_class i ON i.oid = x.indexrelid
          JOIN pg_class t ON t.oid = x.indrelid
          JOIN pg_namespace n ON n.oid = t.relnamespace
          LEFT JOIN pg_constraint con ON con.conindid = x.indexrelid AND con.conrelid = x.indrelid
                                      AND con.contype <> 'f'
         WHERE n.nspname = current_schema() AND NOT x.indisprimary
           AND (con.oid IS NULL OR (con.contype = 'u' AND NOT EXISTS (
                SELECT 1 FROM pg_constraint fk WHERE fk.contype = 'f' AND fk.conindid = x.indexrelid)))
         ORDER BY t.relname, i.relname""").fetchall()
    again = []
    for table, index, index_def, constraint, constraint_def in rows:
        if constraint is None:
            conn.execute(f'DROP INDEX "{index}"')
            again.append(index_def)
        else:
            conn.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{constraint}"')
            again.append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{constraint}" {constraint_def}')
    return again


class BulkWriter:
    """Buffers rows per table and writes them in batches, with the guards out of the way."""

    def __init__(self, url: str, *, batch_rows: int = 30_000,
                 cache_mb: int = int(os.environ.get("BENCH_SQLITE_CACHE_MB", "64"))) -> None:
        self.url = make_url(url)
        self.dialect = self.url.get_backend_name()
        self.batch_rows = batch_rows
        self.buffers: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLE_ORDER}
        self.pending = 0
        self.counts: dict[str, int] = {t: 0 for t in TABLE_ORDER}
        self.dropped_triggers: dict[str, str] = {}
        self.deferred_indexes: list[str] = []
        if self.dialect == "sqlite":
            path = self.url.database
            assert path and path != ":memory:", "the generator needs a SQLite file"
            self.conn: Any = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            cur = self.conn.cursor()
            # Bulk load: no rollback journal, no fsync, a big page cache, one writer, no checks
            # until the end (foreign keys are checked as a whole afterwards).
            for pragma in ("journal_mode = OFF", "synchronous = OFF", f"cache_size = -{cache_mb * 1024}",
                           "temp_store = MEMORY", "locking_mode = EXCLUSIVE", "foreign_keys = OFF"):
                cur.execute(f"PRAGMA {pragma}")
            cur.execute("BEGIN")
            self.dropped_triggers = guards.drop_sqlite_triggers(self.conn)
            self._sql = {t: f"INSERT INTO {t} ({', '.join(c)}) VALUES ({', '.join('?' * len(c))})"
                         for t, c in COLUMNS.items()}
        elif self.dialect == "postgresql":
            import psycopg

            self.conn = psycopg.connect(self.url.set(drivername="postgresql").render_as_string(
                hide_password=False))
            self.conn.execute("SET synchronous_commit = off")
            # A restore's session: triggers (the guards, and the foreign-key checks) do not fire.
            self.conn.execute("SET session_replication_role = replica")
            self.deferred_indexes = defer_postgres_indexes(self.conn)
            self._sql = {t: f"COPY {t} ({', '.join(c)}) FROM STDIN" for t, c in COLUMNS.items()}
        else:
            raise ValueError(f"the generator supports SQLite and PostgreSQL, not {self.dialect}")

    # ------------------------------------------------------------------ inserts
    def add(self, table: str, row: tuple[Any, ...]) -> None:
        """One row as a tuple in ``COLUMNS[table]`` order (the big tables)."""
        self.buffers[table].append(row)
        self.pending += 1
        if self.pending >= self.batch_rows:
            self.flush()

    def put(self, table: str, values: Mapping[str, Any]) -> None:
        """One row by column name: every column must be given (the small tables)."""
        columns = COLUMNS[table]
        if len(values) != len(columns):
            raise KeyError(f"{table}: columns {sorted(set(columns) ^ set(values))} missing or unknown")
        # Plain values for the drivers (psycopg would write an enum's name, not its value).
        self.add(table, tuple(v.value if isinstance(v, Enum) else v for v in (values[c] for c in columns)))

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

    # ------------------------------------------------------------------- finish
    def finish(self, *, analyze: bool) -> None:
        """Commit; check every foreign key; guards and normal settings back; sequences; ANALYZE."""
        self.flush()
        if self.dialect == "sqlite":
            self.conn.execute("COMMIT")
            problems = list(self.conn.execute("PRAGMA foreign_key_check"))
            if problems:
                raise AssertionError(f"foreign key violations after the load: {problems[:5]}")
            if analyze:
                self.conn.execute("ANALYZE")
            # Back to the product's settings (storage/db.py): WAL, normal sync, shared locking.
            for pragma in ("locking_mode = NORMAL", "journal_mode = WAL", "synchronous = NORMAL",
                           "foreign_keys = ON"):
                self.conn.execute(f"PRAGMA {pragma}")
            self.conn.close()
            guards.recreate_sqlite_triggers(self.url.render_as_string(hide_password=False), self.dropped_triggers)
            return
        with self.conn.cursor() as cur:
            # Sorting and parallel workers for the index builds (this session only).
            cur.execute("SET maintenance_work_mem = '1GB'")
            for statement in self.deferred_indexes:
                cur.execute(statement)
            missing = guards.postgres_foreign_key_violations(cur)
            if missing:
                raise AssertionError(f"foreign key violations after the load: {missing[:5]}")
            for table in SERIAL_TABLES:
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)")
            cur.execute("SET session_replication_role = DEFAULT")
        self.conn.commit()
        if analyze:
            self.conn.autocommit = True
            self.conn.execute("VACUUM ANALYZE")
        self.conn.close()

    def abort(self) -> None:
        """Best effort on the way out: never leave a SQLite file without its guards."""
        with contextlib.suppress(Exception):
            if self.dialect == "postgresql":
                self.conn.rollback()
            self.conn.close()
        if self.dialect == "sqlite" and self.dropped_triggers:
            with contextlib.suppress(Exception):
                guards.recreate_sqlite_triggers(self.url.render_as_string(hide_password=False),
                                                self.dropped_triggers)
