"""The schema is managed by Alembic, and the models and the migrations agree.

An empty database upgrades to the newest revision; the result has exactly
the tables, columns, types, indexes and constraints the models declare (an
empty autogenerate diff), plus the guard triggers; upgrading again changes
nothing; and the migrations run down and up again cleanly.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from governance.migrate import alembic_config, is_at_head
from governance.storage.db import Database
from governance.storage.models import Base
from tests.conftest import _admin_engine

SQLITE_TRIGGERS = {
    "audit_event_refuse_update", "audit_event_refuse_delete", "criteria_lock_refuse_update",
    "criteria_lock_refuse_delete", "decision_refuse_update", "decision_refuse_delete",
    "claim_refuse_update", "claim_refuse_delete", "audit_chain_head_forward_only",
    "audit_chain_head_refuse_delete", "ballot_refuse_insert_closed", "ballot_refuse_update",
    "ballot_refuse_delete", "survey_response_refuse_update", "survey_response_refuse_delete",
    # 0004: everything frozen (R15–R18)
    "amendment_refuse_delete", "amendment_refuse_update", "checkpoint_refuse_delete", "checkpoint_refuse_update",
    "checkpoint_witness_refuse_delete", "checkpoint_witness_refuse_update", "criterion_refuse_locked_delete",
    "criterion_refuse_locked_update", "metric_refuse_locked_delete", "metric_refuse_locked_update",
    "roster_change_refuse_delete", "roster_change_refuse_update", "secret_ballot_refuse_delete",
    "secret_ballot_refuse_insert_closed", "secret_ballot_refuse_update", "survey_response_refuse_closed_update",
    "survey_response_refuse_insert_closed", "survey_round_refuse_closed_update", "survey_round_refuse_delete",
    "vote_eligibility_refuse_delete", "vote_eligibility_refuse_update", "vote_participation_refuse_delete",
    "vote_participation_refuse_insert_closed", "vote_participation_refuse_update", "vote_refuse_closed_update",
    "vote_refuse_delete",
    # 0009: paper, attested
    "ballot_channel_fixed", "secret_ballot_channel_fixed", "survey_response_channel_fixed",
    "paper_certificate_refuse_update", "paper_certificate_refuse_delete", "paper_sheet_refuse_attested_update",
    "paper_sheet_refuse_delete", "paper_batch_refuse_attested_update", "paper_batch_refuse_delete",
}
POSTGRES_TRIGGERS = {
    "audit_event_refuse_change", "audit_event_refuse_truncate", "criteria_lock_refuse_change",
    "criteria_lock_refuse_truncate", "decision_refuse_change", "decision_refuse_truncate",
    "claim_refuse_change", "claim_refuse_truncate", "audit_chain_head_forward_only",
    "audit_chain_head_refuse_truncate", "ballot_guard", "survey_response_guard",
    # 0004
    "amendment_guard", "amendment_refuse_truncate", "ballot_refuse_truncate", "checkpoint_refuse_change",
    "checkpoint_refuse_truncate", "checkpoint_witness_refuse_change", "checkpoint_witness_refuse_truncate",
    "commissioning_metric_refuse_truncate", "criterion_guard", "criterion_refuse_truncate", "metric_guard",
    "roster_change_refuse_change", "roster_change_refuse_truncate", "secret_ballot_guard",
    "secret_ballot_refuse_truncate", "survey_response_closed_guard", "survey_response_refuse_truncate",
    "survey_round_guard", "survey_round_refuse_truncate", "vote_eligibility_refuse_change",
    "vote_eligibility_refuse_truncate", "vote_guard", "vote_participation_guard", "vote_participation_refuse_change",
    "vote_participation_refuse_truncate", "vote_refuse_truncate",
    # 0009
    "ballot_channel_fixed", "secret_ballot_channel_fixed", "survey_response_channel_fixed",
    "paper_certificate_refuse_change", "paper_sheet_guard", "paper_batch_guard", "paper_certificate_refuse_truncate",
    "paper_sheet_refuse_truncate", "paper_batch_refuse_truncate",
}


@pytest.fixture
def empty_db(database_factory: Any, tmp_path: Path) -> Iterator[Database]:
    """A database with no schema at all, on the engine under test."""
    if not database_factory.is_postgres:
        db = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
        yield db
        db.dispose()
        return
    database_factory._pg_template()  # skips (or fails) when PostgreSQL is unreachable
    name = f"peg_empty_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine(database_factory.engine_url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(make_url(database_factory.engine_url).set(database=name)
                  .render_as_string(hide_password=False))
    yield db
    db.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def schema_diff(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "compare_server_default": True})
        return compare_metadata(context, Base.metadata)


def triggers(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        else:
            rows = conn.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
        return {r[0] for r in rows}


def expected_triggers(engine: Engine) -> set[str]:
    return SQLITE_TRIGGERS if engine.dialect.name == "sqlite" else POSTGRES_TRIGGERS


def test_an_empty_database_is_not_at_head(empty_db: Database) -> None:
    assert not is_at_head(empty_db.engine)


def test_an_empty_database_upgrades_to_head(empty_db: Database) -> None:
    empty_db.upgrade()
    assert is_at_head(empty_db.engine)
    tables = set(inspect(empty_db.engine).get_table_names())
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    assert triggers(empty_db.engine) == expected_triggers(empty_db.engine)


def test_the_models_and_the_migrations_agree(empty_db: Database) -> None:
    empty_db.upgrade()
    assert schema_diff(empty_db.engine) == []


def test_the_test_databases_are_migrated_and_agree_with_the_models(db: Database) -> None:
    assert is_at_head(db.engine)
    assert schema_diff(db.engine) == []
    assert triggers(db.engine) == expected_triggers(db.engine)


def test_upgrading_twice_changes_nothing(empty_db: Database) -> None:
    empty_db.upgrade()
    empty_db.upgrade()
    assert is_at_head(empty_db.engine)
    assert schema_diff(empty_db.engine) == []


def test_the_migrations_run_down_and_up_again(empty_db: Database) -> None:
    empty_db.upgrade()
    cfg = alembic_config()
    with empty_db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(inspect(empty_db.engine).get_table_names()) <= {"alembic_version"}
    assert triggers(empty_db.engine) == set()
    empty_db.upgrade()
    assert is_at_head(empty_db.engine)
    assert schema_diff(empty_db.engine) == []


def test_upgrading_an_existing_organisation_counts_its_survey_rounds(world, database_factory) -> None:
    """0003 adds each round's kept counts: an organisation upgraded from 0002 gets
    counts equal to a recount of its responses, and keeps its guard triggers."""
    from governance import services as sv
    from governance.storage.repository import recount_round, round_counts
    from tests.world import NOT, VERY

    users = world.rostered_users(4)
    _, pilot = world.pilot_in_use(roster=users)
    world.pass_window()
    rnd = world.survey(pilot, [(u, VERY if i else NOT) for i, u in enumerate(users)], close=False)
    sv.submit_survey_response(world.uow, users[1], rnd, answer=NOT)
    # Migrations run as the database's owner (the runtime role owns nothing).
    engine = create_engine(database_factory.owner_url(world.db.url))
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with world.db.uow().reading() as s:
        assert round_counts(s, rnd) == recount_round(s, rnd)
        assert round_counts(s, rnd)["answers"] == {"very_disappointed": 2, "somewhat_disappointed": 0,
                                                   "not_disappointed": 2, "no_longer_use": 0}
    assert triggers(engine) == expected_triggers(engine)
    engine.dispose()


def test_a_new_sqlite_file_is_created_on_first_use(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "governance.storage.db"
    db = Database(f"sqlite:///{path}")
    try:
        db.upgrade()
        assert path.exists() and is_at_head(db.engine)
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    finally:
        db.dispose()
