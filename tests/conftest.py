"""Fixtures that build real databases.

``TEST_DATABASE_URL`` unset: each test gets a throwaway SQLite file (copied
from one migrated template, so every test starts from the real migrations).
Set to a PostgreSQL URL: each test gets its own database, created from a
migrated template database; afterwards it is emptied back to the template's
state and reused when that can be proved (schema, triggers and migration
version unchanged), else dropped. ``REQUIRE_POSTGRES=1``
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
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from governance.storage.db import Database, FixedClock
from tests.world import World

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
#: On PostgreSQL the tests connect as a login role that owns nothing (R18), as the app does
#: in a deployment; migrations, resets and deliberate tampering use the owner's URL.
RUNTIME_ROLE = os.environ.get("TEST_DATABASE_RUNTIME_ROLE", "peg_runtime")
POSTGRES_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# What must match the template before an emptied PostgreSQL test database is reused.
_PG_FINGERPRINT = """
SELECT string_agg(item, E'\n' ORDER BY item) FROM (
  SELECT 'relation ' || relname || ' ' || relkind::text FROM pg_class
   WHERE relnamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' '
         || is_nullable || ' ' || coalesce(column_default, '')
    FROM information_schema.columns WHERE table_schema = 'public'
  UNION ALL
  SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
  UNION ALL
  SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'trigger ' || tgrelid::regclass::text || ' ' || tgname || ' ' || tgenabled::text || ' '
         || md5(pg_get_triggerdef(oid))
    FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL
  SELECT 'function ' || proname || ' ' || md5(prosrc) FROM pg_proc
   WHERE pronamespace = 'public'::regnamespace
  UNION ALL
  -- The runtime role's grants: a test that recreated a table (down and up again) took them away.
  SELECT 'grant ' || table_name || ' ' || grantee || ' ' || privilege_type
    FROM information_schema.role_table_grants WHERE table_schema = 'public'
  UNION ALL
  SELECT 'version ' || version_num FROM alembic_version
) AS fingerprint(item)
"""


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

    def __init__(self, tmp_root: Path, engine_url: str = TEST_DATABASE_URL) -> None:
        self.tmp_root = tmp_root
        self.engine_url = engine_url
        self.is_postgres = self.engine_url.startswith("postgresql")
        self._template: str | None = None
        self._template_fingerprint: str | None = None
        self._made: list[str] = []
        self._clean: list[str] = []  # PostgreSQL databases reset to the template's state, ready for reuse

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
            db = Database(self._pg_url(name))
            db.upgrade()
            self._grant_runtime(db.engine)  # before the fingerprint: the grants are part of it
            self._template_fingerprint = self._fingerprint(db.engine)
            db.dispose()
            self._template = name
        return self._template

    def _pg_url(self, name: str) -> str:
        return make_url(self.engine_url).set(database=name).render_as_string(hide_password=False)

    def _grant_runtime(self, engine: Engine) -> None:
        """Create the runtime login role (once per cluster) and grant it, in the template, what the app needs."""
        from governance.migrate import grant_runtime

        admin = _admin_engine(self.engine_url)
        with admin.connect() as conn:
            conn.execute(text(f"DO $$ BEGIN CREATE ROLE {RUNTIME_ROLE} LOGIN; "
                              "EXCEPTION WHEN duplicate_object THEN NULL; END $$"))
        admin.dispose()
        with engine.begin() as conn:
            grant_runtime(conn, RUNTIME_ROLE)

    def runtime_url(self, url: str) -> str:
        """The same database, connected as the runtime role (PostgreSQL; SQLite has no roles)."""
        if not self.is_postgres:
            return url
        return make_url(url).set(username=RUNTIME_ROLE, password=None).render_as_string(hide_password=False)

    def owner_url(self, url: str) -> str:
        """The same database, connected as its owner (migrations, bulk loads, deliberate tampering)."""
        if not self.is_postgres:
            return url
        owner = make_url(self.engine_url)
        return make_url(url).set(username=owner.username, password=owner.password).render_as_string(
            hide_password=False)

    def _fingerprint(self, engine: Engine) -> str:
        """The schema, trigger states and migration version of the database, as one text."""
        with engine.connect() as conn:
            return conn.execute(text(_PG_FINGERPRINT)).scalar_one() or ""

    def _reset(self, name: str) -> bool:
        """Empty database ``name`` back to the template's state; False when that cannot be proved.

        CREATE DATABASE … TEMPLATE costs ~0.4 s on this kind of machine, most of a
        PostgreSQL run; emptying the tables costs a few milliseconds. The guard
        triggers refuse DELETE on the audit record, so the reset runs as a
        replica session (triggers do not fire), and the result is only reused
        when its schema, trigger states and migration version still match the
        template's — a test that dropped a trigger or downgraded gets a new database."""
        engine = create_engine(self._pg_url(name), poolclass=NullPool)
        try:
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '2s'"))
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                # DELETE, not TRUNCATE: on a test's few rows it is ~10× cheaper than
                # replacing every table's files; a replica session skips foreign-key checks.
                tables = conn.execute(text(
                    "SELECT quote_ident(tablename) FROM pg_tables "
                    "WHERE schemaname = 'public' AND tablename <> 'alembic_version'")).scalars().all()
                for table in tables:
                    conn.execute(text(f"DELETE FROM {table}"))
                conn.execute(text(
                    "SELECT setval(oid, 1, false) FROM pg_class "
                    "WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace"))
            return self._fingerprint(engine) == self._template_fingerprint
        except Exception:  # noqa: BLE001 - a leftover connection or lock: make a fresh database instead
            return False
        finally:
            engine.dispose()

    def url(self) -> str:
        """The URL of a new, migrated, empty database."""
        if not self.is_postgres:
            target = self.tmp_root / f"test-{uuid.uuid4().hex[:12]}.db"
            shutil.copyfile(self._sqlite_template(), target)
            return f"sqlite:///{target}"
        template = self._pg_template()
        if self._clean:
            return self._pg_url(self._clean.pop())
        name = f"peg_test_{uuid.uuid4().hex[:12]}"
        admin = _admin_engine(self.engine_url)
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        admin.dispose()
        self._made.append(name)
        return self._pg_url(name)

    def drop(self, url: str) -> None:
        """Give back a database from ``url()``: reset for reuse where provably clean, else dropped."""
        if not self.is_postgres:
            return
        name = make_url(url).database
        if self._reset(name):
            self._clean.append(name)
            return
        self._drop_database(name)

    def _drop_database(self, name: str) -> None:
        admin = _admin_engine(self.engine_url)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    def cleanup(self) -> None:
        """Drop every database this factory made (reusable, given back or not) and its template."""
        for name in [*self._made, *([self._template] if self._template else [])]:
            self._drop_database(name)
        self._made.clear()
        self._clean.clear()
        self._template = None


def pytest_configure(config: pytest.Config) -> None:
    """One ballot key and one signing key for the whole run, outside every test
    database, named by the environment so spawned processes use them too."""
    import tempfile

    from governance.identity.keys import BALLOT_KEY_ENV, SIGNING_KEY_ENV, write_ballot_key, write_signing_key

    if os.environ.get(BALLOT_KEY_ENV) and os.environ.get(SIGNING_KEY_ENV):
        return
    keys = Path(tempfile.mkdtemp(prefix="peg-keys-"))
    write_ballot_key(keys / "ballot.key")
    write_signing_key(keys / "signing-key.pem")
    os.environ[BALLOT_KEY_ENV] = str(keys / "ballot.key")
    os.environ[SIGNING_KEY_ENV] = str(keys / "signing-key.pem")


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    yield factory
    factory.cleanup()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def owner_db_url(database_factory: DatabaseFactory) -> Iterator[str]:
    """A fresh database's URL as its owner (for the bulk generator and deliberate tampering)."""
    url = database_factory.url()
    yield url
    database_factory.drop(url)


@pytest.fixture
def db_url(database_factory: DatabaseFactory, owner_db_url: str) -> str:
    """A fresh database's URL as the app connects: the runtime role on PostgreSQL."""
    return database_factory.runtime_url(owner_db_url)


@pytest.fixture
def db(db_url: str, clock: FixedClock) -> Iterator[Database]:
    database = Database(db_url, clock=clock)
    yield database
    database.dispose()


@pytest.fixture
def world(db: Database, clock: FixedClock) -> World:
    """A small organisation: people in every role, a panel, default charter."""
    return World(db, clock)


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes() -> Iterator[None]:
    """Argon2id at the product's profile costs ~0.3 s a hash on this machine; the
    suite creates hundreds of accounts. Tests hash with a cheap Argon2id instead
    (``tests/test_passwords.py`` checks the product's profile itself)."""
    from argon2 import PasswordHasher

    from governance.identity import passwords

    product = passwords.HASHER
    passwords.HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    passwords.HASHER = product


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
