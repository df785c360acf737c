"""The record's guards around a bulk load (``bench.bulk``).

On SQLite the guard triggers are dropped for the load and re-created
afterwards *by the migrations' own code*: the revisions that create them
are loaded through Alembic's script directory and their SQLite trigger
functions run under an Alembic operations context, exactly as ``upgrade``
runs them. The triggers re-created are then compared, name by name and
statement by statement, with the ones dropped: a migration that adds a
guard elsewhere makes this fail loudly instead of leaving a gap.

On PostgreSQL nothing is dropped (the load runs as a replica session);
``postgres_foreign_key_violations`` checks afterwards what the replica
session did not: every foreign key of the model.
"""
from __future__ import annotations

import sqlite3
from typing import Any

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from governance.migrate import alembic_config
from governance.storage.db import make_engine
from governance.storage.models import Base

#: The revisions whose SQLite triggers guard the record, and the function in each that makes them.
SQLITE_GUARD_REVISIONS: tuple[tuple[str, str], ...] = (("0002", "_sqlite_upgrade"), ("0004", "_sqlite_triggers"),
                                                   ("0009", "_sqlite_guards"))


def sqlite_triggers(conn: sqlite3.Connection) -> dict[str, str]:
    """Trigger name → its CREATE statement, as the database holds them."""
    return dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"))


def drop_sqlite_triggers(conn: sqlite3.Connection) -> dict[str, str]:
    """Drop every trigger (the guards); returns what was dropped, to compare with afterwards."""
    dropped = sqlite_triggers(conn)
    for name in dropped:
        conn.execute(f'DROP TRIGGER "{name}"')
    return dropped


def recreate_sqlite_triggers(url: str, expected: dict[str, str]) -> None:
    """Re-create the guard triggers by running the migrations' code; they must be the ones dropped."""
    script = ScriptDirectory.from_config(alembic_config())
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            with Operations.context(MigrationContext.configure(conn)):
                for revision, function in SQLITE_GUARD_REVISIONS:
                    getattr(script.get_revision(revision).module, function)()
            raw = conn.connection.driver_connection
            assert raw is not None
            made = sqlite_triggers(raw)
    finally:
        engine.dispose()
    if made != expected:
        differ = sorted(set(made) ^ set(expected)) or sorted(n for n in made if made[n] != expected[n])
        raise AssertionError(f"the guard triggers re-created differ from those the migrations made: {differ}")


def postgres_foreign_key_violations(cur: Any) -> list[str]:
    """Every foreign key of the model, checked with one anti-join each (the load ran as a replica)."""
    out = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            child, parent = fk.parent, fk.column
            cur.execute(f"SELECT count(*) FROM {table.name} c WHERE c.{child.name} IS NOT NULL AND NOT EXISTS "
                        f"(SELECT 1 FROM {parent.table.name} p WHERE p.{parent.name} = c.{child.name})")
            n = cur.fetchone()[0]
            if n:
                out.append(f"{n} {table.name}.{child.name} → {parent.table.name}.{parent.name}")
    return out
