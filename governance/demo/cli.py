"""``python -m governance.demo``: build the demo organisation, or say what is already there."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from governance.demo.build import build_demo
from governance.demo.summary import people_count, summarise
from governance.storage.db import Database, default_database_url


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise SystemExit("An in-memory SQLite database cannot hold the demo between runs; "
                         "give a file URL such as sqlite:///data/demo.db.")
    return Path(parsed.database)


def _has_tables(db: Database) -> bool:
    return "person" in inspect(db.engine).get_table_names()


def main(argv: list[str] | None = None) -> int:
    """Build the demo into an empty database (or rebuild a SQLite file); 0 when its chain verifies."""
    parser = argparse.ArgumentParser(
        prog="python -m governance.demo",
        description="Build the demo organisation (only into an empty database).")
    parser.add_argument("--rebuild", action="store_true",
                        help="SQLite: delete the database file (and its -wal/-shm) and build again. "
                             "Other databases: refused unless the database is empty.")
    parser.add_argument("--database-url", default=None,
                        help="database URL (default: DATABASE_URL, else data/demo.db)")
    args = parser.parse_args(argv)
    url = args.database_url or default_database_url()
    shown = make_url(url).render_as_string(hide_password=True)
    path = _sqlite_file(url)
    if args.rebuild:
        if path is not None:
            for victim in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                if victim.exists():
                    victim.unlink()
                    print(f"Deleted {victim}")
        else:
            probe = Database(url)
            try:
                occupied = _has_tables(probe) and people_count(probe)
            finally:
                probe.dispose()
            if occupied:
                print(f"Refusing to rebuild {shown}: it already holds {occupied} people and this command "
                      "only deletes SQLite files. Drop and recreate the database yourself, then run "
                      "this command again.", file=sys.stderr)
                return 2
    probe = Database(url)
    try:
        probe.upgrade()
        existing = people_count(probe)
        if existing:
            summary = summarise(probe, built=False)
            print(summary.as_text())
            print(f"\nThe database already holds {existing} people; nothing was built. Use --rebuild "
                  "to start again from the scenario.")
            return 0
    finally:
        probe.dispose()
    summary = build_demo(url)
    print(summary.as_text())
    if path is not None:
        print("\nIf the app is running, restart it so that it opens the new file.")
    return 0 if summary.chain_ok else 1

