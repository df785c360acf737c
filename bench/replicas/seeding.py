"""The run's own database and its people: who writes, who reads."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.replicas.processes import RUNTIME_ROLE, WRITER_PASSWORD, SetupError


# ------------------------------------------------------------------ the database
def _pg_url(admin_url: str, database: str, user: str | None = None) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(admin_url).set(database=database)
    if user is not None:
        url = url.set(username=user, password=None)
    return url.render_as_string(hide_password=False)


def create_database(admin_url: str, name: str) -> None:
    """CREATE DATABASE ``name`` and the runtime login role (once per cluster)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            conn.execute(text(f"DO $$ BEGIN CREATE ROLE {RUNTIME_ROLE} LOGIN; "
                              "EXCEPTION WHEN duplicate_object THEN NULL; END $$"))
    except Exception as exc:  # noqa: BLE001 - any failure: PostgreSQL is not usable here
        raise SetupError(f"PostgreSQL at {admin_url} is not usable ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0]})") from exc
    finally:
        engine.dispose()


def drop_database(admin_url: str, name: str) -> None:
    """DROP DATABASE ``name`` (its connections ended first)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


@dataclass
class Writer:
    """A person who votes and answers surveys: their open votes and survey rounds."""

    person_id: int
    email: str
    votes: list[int]
    rounds: list[int]


@dataclass
class Reader:
    """A person who reads: ``page`` is Compare (steering) or Audit (auditor)."""

    email: str
    page: str


def seed(owner_url: str, users: int, reader_share: float) -> tuple[list[Writer], list[Reader]]:
    """The demo organisation through the use cases, and the simulated users' people.

    Writers: one person each, eligible in an open vote or on an open survey round's roster
    (taken in turn from both kinds, so that both acts are exercised); readers: the demo's
    steering people (Compare) and auditors (Audit), in turn, several sessions per account when
    there are more readers than accounts. Everyone chosen gets ``WRITER_PASSWORD`` (set by the
    administrator through ``services.set_password``; the demo's published password is refused
    by the password rule)."""
    from governance import services as sv
    from governance.demo.build import build_demo
    from governance.migrate import grant_runtime
    from governance.queries import evaluate as evaluate_q, votes as votes_q
    from governance.storage.db import Database
    from governance.vocabulary import Role

    summary = build_demo(owner_url)
    if not summary.chain_ok:
        raise SetupError("the demo's chain does not verify")
    db = Database(owner_url)
    try:
        with db.engine.begin() as conn:
            grant_runtime(conn, RUNTIME_ROLE)
        rows = _people(db)
        admin = next(pid for pid, _email, roles in rows if Role.ADMIN.value in roles)
        open_votes = _open_votes(db)
        voters: list[Writer] = []
        respondents: list[Writer] = []
        for pid, email, _roles in rows:
            votes = [v for v in open_votes if votes_q.vote_detail(db.uow(), pid, v).may_cast]
            rounds = [r.round_id for r in evaluate_q.my_surveys(db.uow(), pid)]
            if votes or rounds:
                (respondents if rounds and (not votes or len(respondents) < len(voters)) else voters).append(
                    Writer(pid, email, votes, rounds))
        candidates = [w for pair in zip(voters, respondents, strict=False) for w in pair]
        candidates += voters[len(respondents):] + respondents[len(voters):]
        accounts = {"Compare": [(pid, e) for pid, e, roles in rows if roles == {Role.STEERING.value}],
                    "Audit": [(pid, e) for pid, e, roles in rows if roles == {Role.AUDITOR.value}]}
        if not candidates or not accounts["Compare"] or not accounts["Audit"]:
            raise SetupError("the demo has no open vote or survey round, or no steering person or auditor")
        n_readers = max(1, round(users * reader_share))
        writers = candidates[:max(0, users - n_readers)]
        n_readers = users - len(writers)
        readers = []
        for i in range(n_readers):
            page = "Compare" if i % 2 == 0 else "Audit"
            pid, email = accounts[page][(i // 2) % len(accounts[page])]
            readers.append(Reader(email, page))
        chosen = {w.person_id for w in writers} | {pid for page in accounts.values() for pid, e in page
                                                   if any(r.email == e for r in readers)}
        for pid in sorted(chosen):
            sv.set_password(db.uow(), admin, pid, WRITER_PASSWORD, temporary=False)
        return writers, readers
    finally:
        db.dispose()


def _people(db: Any) -> list[tuple[int, str, set[str]]]:
    from sqlalchemy import text

    with db.engine.connect() as conn:
        found: dict[int, tuple[str, set[str]]] = {}
        for pid, email, role in conn.execute(text(
                "SELECT p.id, p.email, r.role FROM person p LEFT JOIN person_role r ON r.person_id = p.id "
                "WHERE p.active ORDER BY p.id")):
            found.setdefault(pid, (email, set()))[1].update({role} if role else set())
    return [(pid, email, roles) for pid, (email, roles) in found.items()]


def _open_votes(db: Any) -> list[int]:
    from sqlalchemy import text

    with db.engine.connect() as conn:
        return [int(v) for v in conn.scalars(text("SELECT id FROM vote WHERE status = 'open' ORDER BY id"))]
