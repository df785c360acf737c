"""The command line of a real deployment.

    DATABASE_URL=postgresql+psycopg://… python -m governance.migrate
    DATABASE_URL=… python -m governance init --organisation "Ministry of Health" \\
        --admin-email it.lead@health.example --country JM
    DATABASE_URL=… python -m governance reset-password it.lead@health.example

``init`` sets up an empty, migrated database: the organisation, charter
version 1 and the first administrator, with a one-time password printed once
(it works for one sign-in, which then asks for the administrator's own
password). With OpenID Connect configured (an ``[auth]`` section in
``.streamlit/secrets.toml``) no password is made: the administrator signs in
through the organisation's identity provider. ``reset-password`` gives an
administrator (or anyone) a new one-time password from the server's shell,
for when nobody else can.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from governance.errors import GovernanceError
from governance.storage.db import PROJECT_ROOT, Database, default_database_url, is_embedded_default


def _oidc_configured(root: Path = PROJECT_ROOT) -> bool:
    secrets = root / ".streamlit" / "secrets.toml"
    if not secrets.exists():
        return False
    try:
        import tomllib

        return "auth" in tomllib.loads(secrets.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _open(url: str) -> Database:
    from governance.migrate import is_at_head

    db = Database(url)
    if not is_at_head(db.engine):
        db.dispose()
        raise SystemExit(f"{_shown(url)} is not migrated to this version's schema. Run "
                         "`python -m governance.migrate` first (as the database's owner), then run this "
                         "command again.")
    return db


def init(args: argparse.Namespace) -> int:
    from governance.identity.passwords import one_time_password
    from governance.rules.charter import country_problem
    from governance.services.setup import initialise_organisation

    url = args.database_url or default_database_url()
    if args.database_url is None and is_embedded_default():
        print("DATABASE_URL is not set, so this would set up the embedded demo file. A real organisation "
              "runs on its own database: set DATABASE_URL (or pass --database-url), migrate it with "
              "`python -m governance.migrate`, then run init again.", file=sys.stderr)
        return 2
    problem = country_problem(args.country or "")
    if problem:
        print(problem, file=sys.stderr)
        return 2
    oidc = _oidc_configured()
    password = None if oidc else one_time_password()
    db = _open(url)
    try:
        admin = initialise_organisation(
            db.uow(), organisation=args.organisation, admin_name=args.admin_name or args.admin_email.split("@")[0],
            admin_email=args.admin_email, admin_password=password, temporary=True, country=args.country or "")
    except GovernanceError as exc:
        print(f"Not set up: {exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    country = (args.country or "").upper()
    print(f"Set up '{args.organisation}' in {_shown(url)}:")
    print("  charter version 1 (the default decision rules); working days: Monday–Friday"
          + (f" less the public holidays of {country}" if country else
             " (no --country given: public holidays are not counted; a steering charter change can name one)"))
    print(f"  first administrator: {args.admin_email.strip().lower()} (person #{admin})")
    if password is None:
        print("  sign in with your organisation account (OpenID Connect is configured in "
              ".streamlit/secrets.toml); this email must be the one your identity provider verifies.")
    else:
        print(f"  one-time password: {password}")
        print("    It works for one sign-in, which then asks you to choose your own password. It is shown "
              "only now and is not stored anywhere in readable form.")
    print("Next: start the app (`streamlit run dashboard.py`), sign in, then import your people and panels "
          "from a CSV in Admin → People.")
    return 0


def reset_password(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from governance.identity.passwords import hash_password, one_time_password
    from governance.record.events import people as events
    from governance.services._base import log, session_of
    from governance.services.signin import revoke_sessions
    from governance.storage.db import UnitOfWork, use_case
    from governance.storage.models import Person
    from governance.validation import email as email_address

    url = args.database_url or default_database_url()
    db = _open(url)
    password = one_time_password()

    @use_case
    def reset(uow: UnitOfWork) -> str:
        s = session_of(uow)
        address = email_address(args.email)
        who = s.scalar(select(Person).where(Person.email == address))
        if who is None or not who.active:
            raise GovernanceError(f"{address} is not an active person of this organisation.")
        who.password_hash, who.password_temporary = hash_password(password), True
        ended = revoke_sessions(uow, who.id, reason="password_changed")
        log(uow, None, events.password_set(person_id=who.id, by_self=False, temporary=True,
                                           sessions_revoked=ended))
        return who.name

    try:
        name = reset(db.uow())
    except GovernanceError as exc:
        print(f"Not reset: {exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    print(f"New one-time password for {name} ({args.email.strip().lower()}): {password}")
    print("It works for one sign-in, which then asks for a password of their own; their sessions were ended.")
    return 0


def main(argv: list[str] | None = None) -> int:
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument("--database-url", default=None, help="database URL (default: DATABASE_URL)")
    parser = argparse.ArgumentParser(prog="python -m governance",
                                     description="Set up and look after a real organisation's database.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_init = sub.add_parser("init", parents=[shared],
                            help="set up an empty, migrated database: organisation, charter v1, first administrator")
    p_init.add_argument("--organisation", required=True, help="the organisation's name")
    p_init.add_argument("--admin-email", required=True, help="the first administrator's email")
    p_init.add_argument("--admin-name", default=None, help="the first administrator's name "
                                                            "(default: the email's local part)")
    p_init.add_argument("--country", default="", help="ISO 3166 code (e.g. JM) whose public holidays are not "
                                                      "working days")
    p_init.set_defaults(run=init)
    p_reset = sub.add_parser("reset-password", parents=[shared], help="give a person a new one-time password")
    p_reset.add_argument("email")
    p_reset.set_defaults(run=reset_password)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    raise SystemExit(main())
