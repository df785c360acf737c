"""Schema migrations (Alembic), and the runtime role the app connects as.

    python -m governance.migrate                         # upgrade DATABASE_URL (or the SQLite default)
    DATABASE_URL=<owner url> python -m governance.migrate --grant-runtime ROLE

Migrations run as the database's owner. The app runs as a login role that
owns nothing (R18): ``--grant-runtime`` gives an existing PostgreSQL role
exactly what the use cases need — reading everything, appending to the
record, changing only what the use cases change — and nothing more. As that
role, ``ALTER TABLE … DISABLE TRIGGER``, ``TRUNCATE``, rewriting or deleting
audit events, ``SET session_replication_role`` and any DDL are refused by
PostgreSQL itself.
"""
from __future__ import annotations

import argparse
import re
import sys

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from governance.storage.db import PROJECT_ROOT, Database

#: What the app may do to each table, beyond SELECT. Anything not listed: read only.
#: Append-only tables get INSERT; tables the use cases edit get UPDATE; DELETE only where a
#: use case really deletes (a roster entry, a role, a panel membership, an unlocked criterion…).
RUNTIME_GRANTS: dict[str, str] = {
    "audit_event": "INSERT", "audit_chain_head": "INSERT, UPDATE",
    "checkpoint": "INSERT", "checkpoint_witness": "INSERT",
    "decision": "INSERT", "claim": "INSERT", "criteria_lock": "INSERT",
    "ballot": "INSERT, UPDATE", "secret_ballot": "INSERT, UPDATE",
    "vote": "INSERT, UPDATE", "vote_eligibility": "INSERT", "vote_participation": "INSERT",
    "survey_round": "INSERT, UPDATE", "survey_response": "INSERT, UPDATE",
    "amendment": "INSERT, UPDATE", "roster_change": "INSERT", "team_invitation": "INSERT, UPDATE",
    "criterion": "INSERT, UPDATE, DELETE", "commissioning_metric": "INSERT, UPDATE",
    "person": "INSERT, UPDATE", "person_role": "INSERT, DELETE",
    "panel": "INSERT, UPDATE", "panel_membership": "INSERT, UPDATE, DELETE", "programme": "INSERT, UPDATE",
    "problem": "INSERT, UPDATE", "problem_version": "INSERT, UPDATE", "problem_comment": "INSERT",
    "problem_reopening": "INSERT", "pilot": "INSERT, UPDATE", "pilot_team_member": "INSERT, UPDATE",
    "roster_entry": "INSERT, DELETE", "readiness_record": "INSERT, UPDATE", "readiness_waiver": "INSERT",
    "source_file": "INSERT", "measurement": "INSERT", "usage_week": "INSERT",
    "charter": "INSERT", "feedback_item": "INSERT, UPDATE",
    "job_lease": "INSERT, UPDATE, DELETE", "job_run": "INSERT",
    "organisation": "INSERT", "sign_in_session": "INSERT, UPDATE",
    "sign_in_throttle": "INSERT, UPDATE, DELETE", "known_address": "INSERT, UPDATE, DELETE",
    "personal_link": "INSERT, UPDATE", "reminder_sent": "INSERT, UPDATE",
    "reminder_opt_out": "INSERT, DELETE",
    # Paper, attested: sheets are entered (updated) until their batch is attested; certificates only inserted.
    "paper_batch": "INSERT, UPDATE", "paper_sheet": "INSERT, UPDATE", "paper_certificate": "INSERT",
}
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def alembic_config() -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return cfg


def upgrade_to_head(engine: Engine) -> None:
    """Apply every migration not yet applied to ``engine``'s database."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def is_at_head(engine: Engine) -> bool:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head


def grant_runtime(conn: Connection, role: str) -> list[str]:
    """Grant ``role`` (an existing PostgreSQL login role) what the app needs; returns the statements."""
    if conn.dialect.name != "postgresql":
        raise ValueError("a runtime role is a PostgreSQL deployment's; SQLite has no roles")
    if not ROLE_NAME.match(role):
        raise ValueError(f"{role!r} is not a plain role name (lower-case letters, digits, _)")
    exists = conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if exists is None:
        raise ValueError(f"there is no role {role}; create it first: CREATE ROLE {role} LOGIN PASSWORD '…'")
    if exists[0]:
        raise ValueError(f"{role} is a superuser: it could switch the guards off. Use a plain login role.")
    tables = set(inspect(conn).get_table_names())
    unknown = tables - set(RUNTIME_GRANTS) - {"alembic_version"}
    if unknown:
        raise ValueError(f"no runtime grant is defined for {', '.join(sorted(unknown))}")
    statements = [f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"',
                  f'REVOKE CREATE ON SCHEMA public FROM "{role}"',
                  'REVOKE CREATE ON SCHEMA public FROM PUBLIC',
                  f'GRANT USAGE ON SCHEMA public TO "{role}"',
                  f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"',
                  f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"']
    statements += [f'GRANT {privileges} ON "{table}" TO "{role}"'
                   for table, privileges in sorted(RUNTIME_GRANTS.items()) if table in tables]
    for statement in statements:
        conn.execute(text(statement))
    return statements


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m governance.migrate",
                                     description="Upgrade the schema (as the owner), or grant the runtime role.")
    parser.add_argument("--grant-runtime", metavar="ROLE",
                        help="after upgrading, grant this existing login role what the app needs, nothing more")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    db = Database()
    try:
        db.upgrade()
        where = db.engine.url.render_as_string(hide_password=True)
        print(f"Schema of {where} is at the newest revision.")
        if args.grant_runtime:
            try:
                with db.engine.begin() as conn:
                    done = grant_runtime(conn, args.grant_runtime)
            except ValueError as exc:
                print(f"Nothing granted: {exc}.")
                return 2
            print(f"Granted {args.grant_runtime} what the app needs ({len(done)} statements). Run the app with "
                  f"DATABASE_URL naming {args.grant_runtime}; keep the owner's URL for migrations only.")
    finally:
        db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
