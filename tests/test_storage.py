"""Storage discipline: connection settings, write transactions, bounded retries."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from governance.errors import StorageBusy
from governance.storage import db as dbmod
from governance.storage.db import Database, UnitOfWork, use_case
from governance.storage.models import Person


class FakeDriverError(Exception):
    """Stands in for a driver exception that carries a SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"simulated failure {sqlstate}")
        self.sqlstate = sqlstate


def failing_use_case(failures: int, sqlstate: str):  # type: ignore[no-untyped-def]
    """A use case whose first ``failures`` attempts hit a retryable database error
    after writing a row, so a lost rollback would show."""
    attempts = {"n": 0}

    @use_case
    def touch(uow: UnitOfWork) -> int:
        attempts["n"] += 1
        uow.session.execute(text("UPDATE person SET name = name || '+'"))
        if attempts["n"] <= failures:
            raise OperationalError("UPDATE person", {}, FakeDriverError(sqlstate))
        return attempts["n"]

    return touch, attempts


def total_failures(db: Database) -> int:
    with db.uow().reading() as s:
        return sum(name.count("+") for name in s.scalars(select(Person.name)))


@pytest.mark.parametrize("sqlstate", ["40001", "40P01"])
def test_serialization_failures_and_deadlocks_are_retried(world, sqlstate, monkeypatch):
    monkeypatch.setattr(dbmod, "_backoff", lambda attempt: None)
    touch, attempts = failing_use_case(2, sqlstate)
    before = total_failures(world.db)
    assert touch(world.uow) == 3
    assert attempts["n"] == 3
    with world.db.uow().reading() as s:
        people = len(s.scalars(select(Person.id)).all())
    # Only the successful attempt's write survives: the failed ones rolled back.
    assert total_failures(world.db) - before == people


def test_retries_are_bounded_and_then_reported_clearly(world, monkeypatch):
    monkeypatch.setattr(dbmod, "_backoff", lambda attempt: None)
    touch, attempts = failing_use_case(100, "40001")
    before = world.fingerprint()
    with pytest.raises(StorageBusy, match="stayed busy after 6 attempts; nothing was saved"):
        touch(world.uow)
    assert attempts["n"] == dbmod.MAX_ATTEMPTS
    assert world.fingerprint() == before


def test_other_database_errors_are_not_retried(world, monkeypatch):
    monkeypatch.setattr(dbmod, "_backoff", lambda attempt: None)
    touch, attempts = failing_use_case(1, "42P01")
    with pytest.raises(OperationalError):
        touch(world.uow)
    assert attempts["n"] == 1


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(db):
    if not db.is_sqlite:
        pytest.skip("SQLite connection settings")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == dbmod.SQLITE_BUSY_TIMEOUT_MS


def test_sqlite_write_transactions_take_the_write_lock_up_front(db):
    """BEGIN IMMEDIATE: a second writer waits at BEGIN (here: fails fast with a zero
    timeout) instead of failing later, mid-transaction, with "database is locked"."""
    if not db.is_sqlite:
        pytest.skip("SQLite locking")
    holder = db.uow()
    with holder:
        holder.session.execute(text("SELECT 1"))  # the first statement begins the transaction
        other = db.engine.raw_connection()
        try:
            cur = other.driver_connection.cursor()
            cur.execute("PRAGMA busy_timeout = 0")
            with pytest.raises(Exception, match="locked"):
                cur.execute("BEGIN IMMEDIATE")
            # Readers are not blocked (WAL, deferred read transactions).
            with db.uow().reading() as s:
                assert s.execute(text("SELECT count(*) FROM person")).scalar() == 0
        finally:
            other.close()


def test_the_default_database_is_a_sqlite_file_under_data(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    url = dbmod.default_database_url()
    assert url.startswith("sqlite:///") and url.endswith("data/demo.db")


def test_database_url_selects_the_engine(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://someone@db.example:5432/governance")
    assert dbmod.default_database_url() == "postgresql+psycopg://someone@db.example:5432/governance"


def test_writers_waiting_for_the_write_lock_hold_no_connection_so_readers_are_not_starved(db_url, clock):
    """A replica that took over a killed one's users had every pooled connection held by writers
    waiting for the write lock, and readers timed out waiting for a connection ("QueuePool limit
    … reached"). Writers now queue on the database's write gate before taking a connection."""
    import threading

    db = Database(db_url, clock=clock, engine_kwargs={"pool_size": 2, "max_overflow": 0, "pool_timeout": 2})
    holding, release = threading.Event(), threading.Event()
    queued: list[threading.Thread] = []

    @use_case
    def hold_the_lock(uow: UnitOfWork) -> None:
        uow.session.execute(text("SELECT 1"))
        holding.set()
        assert release.wait(20), "the test never released the write lock"

    @use_case
    def write(uow: UnitOfWork) -> None:
        uow.session.execute(text("UPDATE person SET name = name WHERE id < 0"))

    first = threading.Thread(target=hold_the_lock, args=(db.uow(),))
    try:
        first.start()
        assert holding.wait(10)
        for _ in range(3):  # three more writers queue behind it
            queued.append(threading.Thread(target=write, args=(db.uow(),)))
            queued[-1].start()
        for t in queued:
            t.join(0.3)
        # One connection is the lock holder's; the other must still be free for a reader.
        with db.uow().reading() as s:
            assert s.scalar(text("SELECT 1")) == 1
        assert db.engine.pool.checkedout() == 1
    finally:
        release.set()
        for t in [first, *queued]:
            if t.ident is not None:
                t.join(10)
        db.dispose()
    assert not any(t.is_alive() for t in queued), "the queued writers did not finish after the lock was released"


def test_the_write_gate_serves_writers_in_the_order_they_came():
    """A writer that lets go of the gate and asks again at once must queue behind those already
    waiting: with a plain lock it took the gate back, and votes waited six times longer than
    survey answers under load."""
    import threading
    import time

    gate = dbmod.FairGate()
    order: list[str] = []
    gate.acquire()

    def waiter() -> None:
        gate.acquire()
        order.append("waiter")
        time.sleep(0.2)
        gate.release()

    other = threading.Thread(target=waiter)
    other.start()
    deadline = time.monotonic() + 5
    while gate.waiting() == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert gate.waiting() == 1
    gate.release()
    gate.acquire()  # asks again at once: served after the waiter
    order.append("again")
    gate.release()
    other.join(5)
    assert order == ["waiter", "again"]
    # Re-entrant in one thread; and only the holder may let go.
    gate.acquire()
    gate.acquire()
    gate.release()
    gate.release()
    with pytest.raises(RuntimeError, match="does not hold it"):
        gate.release()
