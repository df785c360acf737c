"""The test databases themselves: a PostgreSQL database handed to a second test
is indistinguishable from a fresh one, and one a test has tampered with is
never handed out again.

These guard every other specification: a row leaking from one test into the
next would let a rule's "nothing was written" check pass or fail by accident.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from governance.record.log import verify_chain
from governance.storage.db import Database, FixedClock
from tests.conftest import POSTGRES_DEFAULT_URL, START, TEST_DATABASE_URL, DatabaseFactory
from tests.world import World


@pytest.fixture
def postgres_factory(tmp_path: Path) -> Iterator[DatabaseFactory]:
    """A private factory on the PostgreSQL under test (or the machine's default one)."""
    url = TEST_DATABASE_URL if TEST_DATABASE_URL.startswith("postgresql") else POSTGRES_DEFAULT_URL
    factory = DatabaseFactory(tmp_path, engine_url=url)
    factory._pg_template()  # skips (or fails, with REQUIRE_POSTGRES=1) when unreachable
    yield factory
    factory.cleanup()


def rows_and_used_sequences(url: str) -> tuple[int, int]:
    """Rows in every table but the migration version, and sequences that have handed out a value."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            tables = conn.execute(text(
                "SELECT quote_ident(tablename) FROM pg_tables "
                "WHERE schemaname = 'public' AND tablename <> 'alembic_version'")).scalars().all()
            rows = sum(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables)
            # A fresh sequence reports is_called = false: its next value is its start.
            called = conn.execute(text("SELECT count(*) FROM pg_sequences "
                                       "WHERE schemaname = 'public' AND last_value IS NOT NULL")).scalar_one()
            return rows, called
    finally:
        engine.dispose()


def test_a_reused_database_is_as_empty_as_a_fresh_one(postgres_factory: DatabaseFactory) -> None:
    url = postgres_factory.url()
    database = Database(url, clock=FixedClock(START))
    World(database, FixedClock(START))  # people, a panel, a charter and their audit events
    database.dispose()
    rows, used = rows_and_used_sequences(url)
    assert rows > 0 and used > 0

    postgres_factory.drop(url)
    again = postgres_factory.url()

    assert make_url(again).database == make_url(url).database  # it was reused, not re-created
    assert rows_and_used_sequences(again) == (0, 0)
    database = Database(again, clock=FixedClock(START))
    world = World(database, FixedClock(START))  # the same ids as in a fresh database
    assert world.admin == 1
    with database.uow().reading() as session:
        chain = verify_chain(session)
    assert chain.ok and chain.events_checked == 21  # starts at #1: no event of the first test survives
    database.dispose()
    postgres_factory.drop(again)


def test_a_database_whose_guards_were_disabled_is_never_handed_out_again(
        postgres_factory: DatabaseFactory) -> None:
    url = postgres_factory.url()
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
    engine.dispose()

    postgres_factory.drop(url)

    assert make_url(postgres_factory.url()).database != make_url(url).database
    admin = create_engine(postgres_factory.engine_url, poolclass=NullPool)
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT count(*) FROM pg_database WHERE datname = :n"),
                              {"n": make_url(url).database}).scalar_one()
    admin.dispose()
    assert exists == 0
