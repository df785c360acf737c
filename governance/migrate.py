"""Schema migrations (Alembic), callable from code and from the command line.

    python -m governance.migrate            # upgrade DATABASE_URL (or the SQLite default) to head
"""
from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from governance.storage.db import PROJECT_ROOT, Database


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


def main() -> int:
    db = Database()
    db.upgrade()
    print(f"Schema of {db.engine.url.render_as_string(hide_password=True)} is at the newest revision.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
