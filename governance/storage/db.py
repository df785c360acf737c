"""Storage: the engine, the unit of work, and the transaction discipline.

One use case = one transaction = its audit event(s). ``@use_case`` wraps a
service function so that it runs inside a fresh write transaction (or joins
the caller's, for compound actions), commits only if it returns, and retries
a bounded number of times when the database reports lock contention or a
serialization failure.

SQLite (the embedded default): WAL, foreign keys on, a busy timeout, and
write transactions that take the write lock up front (``BEGIN IMMEDIATE``) so
that concurrent writers queue instead of failing with "database is locked".
PostgreSQL: every write transaction takes one transaction-scoped advisory
lock first, so writers — and therefore audit appends — are serialised and the
chain can never fork.

Within one process, writers also queue on the ``Database``'s write gate *before*
taking a connection from the pool: a writer waiting for the write lock would
otherwise hold a pooled connection while it waits, and enough of them (a busy
replica, or one that took over a killed replica's users) empty the pool, so
that readers — who need no lock — time out waiting for a connection. Writes
are serialised anyway, so the gate costs no throughput. The gate is first come,
first served, like PostgreSQL's lock queue: with a plain lock a writer that
releases it and writes again at once can take it back ahead of those waiting,
and some writers then wait for ever (measured: one kind of write six times
slower than another).
"""
from __future__ import annotations

import collections
import functools
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from governance.errors import GovernanceError, StorageBusy, StorageFull
from governance.identity.keys import Keys

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: The embedded default: the demo organisation's own file (a real organisation
#: sets DATABASE_URL, to PostgreSQL or to a SQLite file of its own).
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "demo.db"

#: Key of the PostgreSQL advisory lock that serialises writers (any constant).
WRITE_LOCK_KEY = 7_406_113_001
MAX_ATTEMPTS = 6
SQLITE_BUSY_TIMEOUT_MS = 30_000


def default_database_url() -> str:
    """``DATABASE_URL`` if set, else the demo's SQLite file under ``data/``."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def is_embedded_default() -> bool:
    """True when no DATABASE_URL is set: the embedded demo database, the only one the demo is built in."""
    return not os.environ.get("DATABASE_URL", "").strip()


# --------------------------------------------------------------------- clock
class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock UTC time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock tests (and the demo builder) move by hand."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            # Strictly increasing, like real time, so audit times never tie.
            self._now += timedelta(microseconds=1)
            return self._now

    def advance(self, **delta: float) -> None:
        with self._lock:
            self._now += timedelta(**delta)

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -------------------------------------------------------------------- engine
def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (the pysqlite
        # driver would otherwise start deferred transactions on its own).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the project's connection discipline."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


class FairGate:
    """A re-entrant lock handed to its waiters in the order they came (see the module docstring)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._owner: int | None = None
        self._depth = 0
        self._waiting: collections.deque[tuple[int, threading.Event]] = collections.deque()

    def acquire(self) -> None:
        """Wait for the gate (at once if free and nobody waits, or if this thread holds it)."""
        me = threading.get_ident()
        with self._guard:
            if self._owner == me:
                self._depth += 1
                return
            if self._owner is None and not self._waiting:
                self._owner, self._depth = me, 1
                return
            turn = threading.Event()
            self._waiting.append((me, turn))
        turn.wait()  # release() made this thread the owner before setting it

    def release(self) -> None:
        """Let go (once per acquire); the first waiter, if any, holds it next."""
        with self._guard:
            if self._owner != threading.get_ident():
                raise RuntimeError("the write gate is released by a thread that does not hold it")
            self._depth -= 1
            if self._depth:
                return
            if self._waiting:
                self._owner, turn = self._waiting.popleft()
                self._depth = 1
                turn.set()
            else:
                self._owner = None

    def waiting(self) -> int:
        """How many threads wait for the gate."""
        with self._guard:
            return len(self._waiting)


class Database:
    """One database: its engine, session factories and clock."""

    def __init__(self, url: str | None = None, *, clock: Clock | None = None,
                 engine_kwargs: dict[str, Any] | None = None, keys: Keys | None = None) -> None:
        self.url = url or default_database_url()
        self.engine = make_engine(self.url, **(engine_kwargs or {}))
        self.clock: Clock = clock or SystemClock()
        #: The ballot and signing keys, kept outside the database (``identity.keys``).
        self.keys = keys or Keys.for_url(self.url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._write_sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Reads see one consistent snapshot: a deferred transaction in WAL mode on
        # SQLite, REPEATABLE READ on PostgreSQL (so e.g. the chain head and the
        # events read after it agree).
        read_engine = self.engine.execution_options(
            **({"sqlite_begin": "DEFERRED"} if self.is_sqlite else {"isolation_level": "REPEATABLE READ"}))
        self._read_sessions = sessionmaker(read_engine, expire_on_commit=False)
        #: Writers of this process queue here, holding no connection (see the module docstring).
        #: Re-entrant, so that a nested write in the same thread behaves as it did without it.
        self._write_gate = FairGate()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self)

    def upgrade(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        from governance.migrate import upgrade_to_head

        upgrade_to_head(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()


# -------------------------------------------------------------- unit of work
class UnitOfWork:
    """A transaction boundary: ``with uow: ...; uow.commit()``.

    Not shared between threads; make one per thread (``db.uow()``).
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.session: Session | None = None
        self._committed = False

    @property
    def in_transaction(self) -> bool:
        return self.session is not None

    def now(self) -> datetime:
        return self.db.clock.now()

    @property
    def keys(self) -> Keys:
        return self.db.keys

    def __enter__(self) -> UnitOfWork:
        self.db._write_gate.acquire()
        try:
            self.session = self.db._write_sessions()
            self._committed = False
            self.session.begin()
            if self.db.dialect == "postgresql":
                self.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK_KEY})
        except BaseException:
            if self.session is not None:
                self.session.close()
                self.session = None
            self.db._write_gate.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.session is not None
        try:
            if not self._committed:
                self.session.rollback()
        finally:
            try:
                self.session.close()
            finally:
                self.session = None
                self.db._write_gate.release()

    def commit(self) -> None:
        assert self.session is not None
        self.session.commit()
        self._committed = True

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only transaction (deferred on SQLite: readers never queue)."""
        if self.session is not None:  # inside a use case: read what it sees
            yield self.session
            return
        session = self.db._read_sessions()
        try:
            with session.begin():
                yield session
                session.rollback()
        finally:
            session.close()


# ------------------------------------------------------------------- retries
_RETRYABLE_PG = {"40001", "40P01", "55P03"}


def _is_retryable(exc: DBAPIError) -> bool:
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate in _RETRYABLE_PG:
        return True
    message = str(orig or exc).lower()
    return "database is locked" in message or "database is busy" in message


STORAGE_FULL_MESSAGE = "The database is full: nothing was saved; tell your administrator."
_FULL_PG = {"53100", "53200", "54000"}


def _is_full(exc: DBAPIError) -> bool:
    """SQLite's SQLITE_FULL ("database or disk is full"), PostgreSQL's disk_full and kin."""
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate in _FULL_PG:
        return True
    if getattr(orig, "sqlite_errorcode", None) == 13:  # SQLITE_FULL
        return True
    return "database or disk is full" in str(orig or exc).lower()


P = ParamSpec("P")
T = TypeVar("T")


def use_case(fn: Callable[P, T]) -> Callable[P, T]:
    """Run a service function as one transaction, with bounded retries.

    The first argument of the wrapped function must be the ``UnitOfWork``.
    Any exception leaves nothing written.
    """

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        uow = args[0]
        assert isinstance(uow, UnitOfWork), f"{fn.__name__} takes a UnitOfWork first"
        if uow.in_transaction:  # compound action: part of the caller's transaction
            return fn(*args, **kwargs)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with uow:
                    result = fn(*args, **kwargs)
                    uow.commit()
                return result
            except GovernanceError:
                raise
            except IntegrityError as exc:
                # Pre-checks give the friendly refusal; reaching a constraint
                # means a concurrent change won the race. Retry: the
                # pre-check then sees it.
                if attempt < MAX_ATTEMPTS:
                    _backoff(attempt)
                    continue
                log.exception("integrity error in %s", fn.__name__)
                raise GovernanceError(
                    "That change conflicts with one saved at the same moment; "
                    "nothing was saved. Reload the page and try again.") from exc
            except DBAPIError as exc:
                if _is_full(exc):
                    log.error("storage full in %s: %s", fn.__name__, exc.orig)
                    raise StorageFull(STORAGE_FULL_MESSAGE) from exc
                if _is_retryable(exc) and attempt < MAX_ATTEMPTS:
                    _backoff(attempt)
                    continue
                if _is_retryable(exc):
                    raise StorageBusy(
                        f"The database stayed busy after {MAX_ATTEMPTS} attempts; "
                        "nothing was saved. Please try again in a moment.") from exc
                raise
        raise AssertionError("unreachable")

    run.__wrapped_use_case__ = True  # type: ignore[attr-defined]
    return run


def _backoff(attempt: int) -> None:
    time.sleep(min(0.5, 0.01 * 2 ** attempt) * (0.5 + random.random()))
