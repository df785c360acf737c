"""Paper, attested (issue 15, item 3): paper batches, their sheets and closure certificates,
and where each answer and ballot came from.

* ``survey_round.paper_responses`` — how many of its current responses came from paper (kept
  with its other counts, so evidence reads n online / n paper from one row);
* ``channel`` ("online" by default, or "paper") on ``ballot``, ``secret_ballot`` and
  ``survey_response`` — fixed once written (a trigger refuses changing it);
* ``paper_batch`` — a printed set of sheets for a survey round or a panel vote;
* ``paper_sheet`` — one sheet: its code's keyed digest, its person (or, for a secret
  vote, a keyed holder token and no person), and what was entered from it; frozen
  once its batch is attested, and never deleted;
* ``paper_certificate`` — the closure certificate of an attested batch: append-only.

Portable SQL (plain ALTER TABLE, triggers per engine); the downgrade drops all of it.

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from governance.storage.models import UtcDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL_TABLES = ("ballot", "secret_ballot", "survey_response")
SHEET_ATTESTED = "(SELECT attested_at FROM paper_batch WHERE id = OLD.batch_id) IS NOT NULL"


def _tables() -> None:
    op.create_table(
        "paper_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vote_id", sa.Integer(), nullable=True),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("secret", sa.Boolean(), nullable=False),
        sa.Column("sheets_issued", sa.Integer(), nullable=False),
        sa.Column("printed_by", sa.Integer(), nullable=False),
        sa.Column("printed_at", UtcDateTime(), nullable=False),
        sa.Column("attested_by", sa.Integer(), nullable=True),
        sa.Column("attested_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint("(vote_id IS NULL) <> (round_id IS NULL)", name=op.f("ck_paper_batch_one_act")),
        sa.ForeignKeyConstraint(["vote_id"], ["vote.id"], name=op.f("fk_paper_batch_vote_id_vote")),
        sa.ForeignKeyConstraint(["round_id"], ["survey_round.id"], name=op.f("fk_paper_batch_round_id_survey_round")),
        sa.ForeignKeyConstraint(["printed_by"], ["person.id"], name=op.f("fk_paper_batch_printed_by_person")),
        sa.ForeignKeyConstraint(["attested_by"], ["person.id"], name=op.f("fk_paper_batch_attested_by_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_batch")),
    )
    op.create_index("ix_paper_batch_vote", "paper_batch", ["vote_id"])
    op.create_index("ix_paper_batch_round", "paper_batch", ["round_id"])
    op.create_table(
        "paper_sheet",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("holder_token", sa.String(length=64), nullable=True),
        sa.Column("code_digest", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("answers_json", sa.Text(), nullable=True),
        sa.Column("entered_by", sa.Integer(), nullable=True),
        sa.Column("entered_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint("state IN ('issued', 'entered', 'spoiled')", name=op.f("ck_paper_sheet_state_known")),
        sa.CheckConstraint("(person_id IS NULL) <> (holder_token IS NULL)", name=op.f("ck_paper_sheet_one_holder")),
        sa.ForeignKeyConstraint(["batch_id"], ["paper_batch.id"], name=op.f("fk_paper_sheet_batch_id_paper_batch")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_paper_sheet_person_id_person")),
        sa.ForeignKeyConstraint(["entered_by"], ["person.id"], name=op.f("fk_paper_sheet_entered_by_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_sheet")),
        sa.UniqueConstraint("code_digest", name=op.f("uq_paper_sheet_code_digest")),
    )
    op.create_index("ix_paper_sheet_batch", "paper_sheet", ["batch_id", "state"])
    op.create_index("ix_paper_sheet_person", "paper_sheet", ["person_id"])
    op.create_index("ix_paper_sheet_holder", "paper_sheet", ["holder_token"])
    op.create_table(
        "paper_certificate",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("spoiled", sa.Integer(), nullable=False),
        sa.Column("entered", sa.Integer(), nullable=False),
        sa.Column("mismatch", sa.Text(), nullable=False),
        sa.Column("scan_sha256", sa.String(length=64), nullable=False),
        sa.Column("scan_filename", sa.String(length=200), nullable=False),
        sa.Column("entered_by_json", sa.Text(), nullable=False),
        sa.Column("attested_by", sa.Integer(), nullable=False),
        sa.Column("attested_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["paper_batch.id"],
                                name=op.f("fk_paper_certificate_batch_id_paper_batch")),
        sa.ForeignKeyConstraint(["attested_by"], ["person.id"], name=op.f("fk_paper_certificate_attested_by_person")),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_paper_certificate")),
    )


def _sqlite_guards() -> None:
    for table in CHANNEL_TABLES:
        op.execute(f"""
            CREATE TRIGGER {table}_channel_fixed BEFORE UPDATE OF channel ON {table}
            WHEN NEW.channel IS NOT OLD.channel
            BEGIN SELECT RAISE(ABORT, '{table}.channel is fixed once written'); END""")
    for verb in ("UPDATE", "DELETE"):
        op.execute(f"""
            CREATE TRIGGER paper_certificate_refuse_{verb.lower()} BEFORE {verb} ON paper_certificate
            BEGIN SELECT RAISE(ABORT, 'paper_certificate is append-only: {verb} refused'); END""")
    op.execute(f"""
        CREATE TRIGGER paper_sheet_refuse_attested_update BEFORE UPDATE ON paper_sheet
        WHEN {SHEET_ATTESTED}
        BEGIN SELECT RAISE(ABORT, 'the sheets of an attested paper batch are final'); END""")
    op.execute("""
        CREATE TRIGGER paper_sheet_refuse_delete BEFORE DELETE ON paper_sheet
        BEGIN SELECT RAISE(ABORT, 'paper_sheet is kept: DELETE refused'); END""")
    op.execute("""
        CREATE TRIGGER paper_batch_refuse_attested_update BEFORE UPDATE ON paper_batch
        WHEN OLD.attested_at IS NOT NULL
        BEGIN SELECT RAISE(ABORT, 'an attested paper batch is final'); END""")
    op.execute("""
        CREATE TRIGGER paper_batch_refuse_delete BEFORE DELETE ON paper_batch
        BEGIN SELECT RAISE(ABORT, 'paper_batch is kept: DELETE refused'); END""")


def _pg_function(name: str, body: str) -> None:
    op.execute(f"""
        CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          {body}
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$""")


def _raise(message: str) -> str:
    return f"RAISE EXCEPTION '{message}' USING ERRCODE = 'integrity_constraint_violation';"


def _postgresql_guards() -> None:
    _pg_function("governance_channel_fixed", f"""
          IF NEW.channel IS DISTINCT FROM OLD.channel THEN {_raise('the channel is fixed once written')} END IF;""")
    for table in CHANNEL_TABLES:
        op.execute(f"""CREATE TRIGGER {table}_channel_fixed BEFORE UPDATE ON {table}
                       FOR EACH ROW EXECUTE FUNCTION governance_channel_fixed()""")
    op.execute("""CREATE TRIGGER paper_certificate_refuse_change BEFORE UPDATE OR DELETE ON paper_certificate
                  FOR EACH ROW EXECUTE FUNCTION governance_refuse()""")
    _pg_function("paper_sheet_guard", f"""
          IF TG_OP = 'DELETE' THEN {_raise('paper_sheet is kept: DELETE refused')} END IF;
          IF {SHEET_ATTESTED} THEN {_raise('the sheets of an attested paper batch are final')} END IF;""")
    op.execute("""CREATE TRIGGER paper_sheet_guard BEFORE UPDATE OR DELETE ON paper_sheet
                  FOR EACH ROW EXECUTE FUNCTION paper_sheet_guard()""")
    _pg_function("paper_batch_guard", f"""
          IF TG_OP = 'DELETE' THEN {_raise('paper_batch is kept: DELETE refused')} END IF;
          IF OLD.attested_at IS NOT NULL THEN {_raise('an attested paper batch is final')} END IF;""")
    op.execute("""CREATE TRIGGER paper_batch_guard BEFORE UPDATE OR DELETE ON paper_batch
                  FOR EACH ROW EXECUTE FUNCTION paper_batch_guard()""")
    for table in ("paper_certificate", "paper_sheet", "paper_batch"):
        op.execute(f"""CREATE TRIGGER {table}_refuse_truncate BEFORE TRUNCATE ON {table}
                       FOR EACH STATEMENT EXECUTE FUNCTION governance_refuse()""")


def upgrade() -> None:
    op.add_column("survey_round", sa.Column("paper_responses", sa.Integer(), server_default="0", nullable=False))
    for table in CHANNEL_TABLES:
        op.add_column(table, sa.Column("channel", sa.String(length=10), server_default=sa.text("'online'"),
                                       nullable=False))
    _tables()
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_guards()
    else:
        _postgresql_guards()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        names = [f"{t}_channel_fixed" for t in CHANNEL_TABLES] + [
            "paper_certificate_refuse_update", "paper_certificate_refuse_delete", "paper_sheet_refuse_attested_update",
            "paper_sheet_refuse_delete", "paper_batch_refuse_attested_update", "paper_batch_refuse_delete"]
        for name in names:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for table in CHANNEL_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_channel_fixed ON {table}")
        for name, table in (("paper_certificate_refuse_change", "paper_certificate"),
                            ("paper_sheet_guard", "paper_sheet"), ("paper_batch_guard", "paper_batch"),
                            ("paper_certificate_refuse_truncate", "paper_certificate"),
                            ("paper_sheet_refuse_truncate", "paper_sheet"),
                            ("paper_batch_refuse_truncate", "paper_batch")):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for fn in ("governance_channel_fixed", "paper_sheet_guard", "paper_batch_guard"):
            op.execute(f"DROP FUNCTION IF EXISTS {fn}()")
    op.drop_table("paper_certificate")
    op.drop_index("ix_paper_sheet_holder", table_name="paper_sheet")
    op.drop_index("ix_paper_sheet_person", table_name="paper_sheet")
    op.drop_index("ix_paper_sheet_batch", table_name="paper_sheet")
    op.drop_table("paper_sheet")
    op.drop_index("ix_paper_batch_round", table_name="paper_batch")
    op.drop_index("ix_paper_batch_vote", table_name="paper_batch")
    op.drop_table("paper_batch")
    for table in CHANNEL_TABLES:
        op.execute(f"ALTER TABLE {table} DROP COLUMN channel")
    op.execute("ALTER TABLE survey_round DROP COLUMN paper_responses")

