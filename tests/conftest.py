"""Fixtures that build real databases.

``TEST_DATABASE_URL`` unset: each test gets a throwaway SQLite file (copied
from one migrated template, so every test starts from the real migrations).
Set to a PostgreSQL URL: each test gets its own fresh database, created from
a migrated template database and dropped afterwards. ``REQUIRE_POSTGRES=1``
turns "PostgreSQL unreachable" into a failure instead of a skip.
"""
from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from governance.db import Database, FixedClock
from tests.world import World

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
POSTGRES_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _admin_engine(url: str):  # type: ignore[no-untyped-def]
    return create_engine(url, isolation_level="AUTOCOMMIT")


def postgres_reachable(url: str) -> str | None:
    """None if reachable, else the reason."""
    try:
        engine = _admin_engine(url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


def require_postgres_or_skip(url: str) -> None:
    reason = postgres_reachable(url)
    if reason is None:
        return
    message = f"PostgreSQL at {make_url(url).render_as_string(hide_password=True)} is unreachable ({reason})"
    if REQUIRE_POSTGRES:
        pytest.fail(message + " and REQUIRE_POSTGRES=1", pytrace=False)
    pytest.skip(message)


class DatabaseFactory:
    """Makes fresh, migrated databases for one test session."""

    def __init__(self, tmp_root: Path) -> None:
        self.tmp_root = tmp_root
        self.engine_url = TEST_DATABASE_URL
        self.is_postgres = self.engine_url.startswith("postgresql")
        self._template: str | None = None
        self._made: list[str] = []

    # SQLite: migrate one file, copy it per test.
    def _sqlite_template(self) -> Path:
        path = self.tmp_root / "template.db"
        if not path.exists():
            db = Database(f"sqlite:///{path}")
            db.upgrade()
            # The raw DBAPI connection: no "begin" event, so no BEGIN IMMEDIATE
            # (a checkpoint inside a transaction fails with "table is locked").
            raw = db.engine.raw_connection()
            try:
                raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                raw.close()
            db.dispose()
        return path

    # PostgreSQL: migrate one template database, CREATE DATABASE … TEMPLATE per test.
    def _pg_template(self) -> str:
        if self._template is None:
            require_postgres_or_skip(self.engine_url)
            name = f"peg_template_{uuid.uuid4().hex[:10]}"
            admin = _admin_engine(self.engine_url)
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            db = Database(make_url(self.engine_url).set(database=name).render_as_string(hide_password=False))
            db.upgrade()
            db.dispose()
            self._template = name
        return self._template

    def url(self) -> str:
        """The URL of a new, migrated, empty database."""
        if not self.is_postgres:
            target = self.tmp_root / f"test-{uuid.uuid4().hex[:12]}.db"
            shutil.copyfile(self._sqlite_template(), target)
            return f"sqlite:///{target}"
        template = self._pg_template()
        name = f"peg_test_{uuid.uuid4().hex[:12]}"
        admin = _admin_engine(self.engine_url)
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        admin.dispose()
        self._made.append(name)
        return make_url(self.engine_url).set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        if not self.is_postgres:
            return
        name = make_url(url).database
        admin = _admin_engine(self.engine_url)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    def cleanup(self) -> None:
        if self._template:
            admin = _admin_engine(self.engine_url)
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self._template}" WITH (FORCE)'))
            admin.dispose()


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    yield factory
    factory.cleanup()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def db_url(database_factory: DatabaseFactory) -> Iterator[str]:
    url = database_factory.url()
    yield url
    database_factory.drop(url)


@pytest.fixture
def db(db_url: str, clock: FixedClock) -> Iterator[Database]:
    database = Database(db_url, clock=clock)
    yield database
    database.dispose()


@pytest.fixture
def world(db: Database, clock: FixedClock) -> World:
    """A small organisation: people in every role, a panel, default charter."""
    return World(db, clock)


@pytest.fixture(autouse=True)
def _keep_the_main_module() -> Iterator[None]:
    """Streamlit (AppTest) installs the script it runs as ``sys.modules['__main__']``;
    processes spawned later would re-run that script. Put pytest's back."""
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Keep each phase's report on the test item (browser tests screenshot on failure)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
