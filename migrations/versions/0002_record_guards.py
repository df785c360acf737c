"""The database defends the record: triggers that refuse rewriting history.

Audit events, criteria locks, decisions and claims are append-only; the
chain head only moves forward; ballots are never deleted, only superseded
while their vote is open, and are frozen once it closes; survey responses
are never deleted and only superseded.

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("audit_event", "criteria_lock", "decision", "claim")

# Only "is_current" may change, and only from true to false, while the vote is open.
BALLOT_UPDATE_FORBIDDEN = (
    "NEW.id <> OLD.id OR NEW.vote_id <> OLD.vote_id OR NEW.person_id <> OLD.person_id "
    "OR NEW.voting_group <> OLD.voting_group OR NEW.option <> OLD.option "
    "OR NEW.cast_at <> OLD.cast_at OR (NEW.is_current AND NOT OLD.is_current)"
)
RESPONSE_UPDATE_FORBIDDEN = (
    "NEW.id <> OLD.id OR NEW.round_id <> OLD.round_id OR NEW.person_id <> OLD.person_id "
    "OR NEW.answer <> OLD.answer OR NEW.submitted_at <> OLD.submitted_at "
    "OR (NEW.is_current AND NOT OLD.is_current)"
)


def _sqlite_upgrade() -> None:
    for table in APPEND_ONLY:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER {table}_refuse_{verb.lower()} BEFORE {verb} ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END""")
    op.execute("""
        CREATE TRIGGER audit_chain_head_forward_only BEFORE UPDATE ON audit_chain_head
        WHEN NEW.seq <= OLD.seq
        BEGIN SELECT RAISE(ABORT, 'audit_chain_head only moves forward'); END""")
    op.execute("""
        CREATE TRIGGER audit_chain_head_refuse_delete BEFORE DELETE ON audit_chain_head
        BEGIN SELECT RAISE(ABORT, 'audit_chain_head is append-only: DELETE refused'); END""")
    op.execute("""
        CREATE TRIGGER ballot_refuse_insert_closed BEFORE INSERT ON ballot
        WHEN (SELECT status FROM vote WHERE id = NEW.vote_id) <> 'open'
        BEGIN SELECT RAISE(ABORT, 'ballot refused: the vote is closed'); END""")
    op.execute(f"""
        CREATE TRIGGER ballot_refuse_update BEFORE UPDATE ON ballot
        WHEN (SELECT status FROM vote WHERE id = OLD.vote_id) <> 'open' OR {BALLOT_UPDATE_FORBIDDEN}
        BEGIN SELECT RAISE(ABORT, 'ballots are kept as cast: UPDATE refused'); END""")
    op.execute("""
        CREATE TRIGGER ballot_refuse_delete BEFORE DELETE ON ballot
        BEGIN SELECT RAISE(ABORT, 'ballot is append-only: DELETE refused'); END""")
    op.execute(f"""
        CREATE TRIGGER survey_response_refuse_update BEFORE UPDATE ON survey_response
        WHEN {RESPONSE_UPDATE_FORBIDDEN}
        BEGIN SELECT RAISE(ABORT, 'survey responses are kept as given: UPDATE refused'); END""")
    op.execute("""
        CREATE TRIGGER survey_response_refuse_delete BEFORE DELETE ON survey_response
        BEGIN SELECT RAISE(ABORT, 'survey_response is append-only: DELETE refused'); END""")


def _postgresql_upgrade() -> None:
    op.execute("""
        CREATE FUNCTION governance_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
        END $$""")
    for table in APPEND_ONLY:
        op.execute(f"""CREATE TRIGGER {table}_refuse_change BEFORE UPDATE OR DELETE ON {table}
                       FOR EACH ROW EXECUTE FUNCTION governance_refuse()""")
        op.execute(f"""CREATE TRIGGER {table}_refuse_truncate BEFORE TRUNCATE ON {table}
                       FOR EACH STATEMENT EXECUTE FUNCTION governance_refuse()""")
    op.execute("""
        CREATE FUNCTION governance_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' OR NEW.seq <= OLD.seq THEN
            RAISE EXCEPTION 'audit_chain_head only moves forward: % refused', TG_OP
              USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          RETURN NEW;
        END $$""")
    op.execute("""CREATE TRIGGER audit_chain_head_forward_only BEFORE UPDATE OR DELETE ON audit_chain_head
                  FOR EACH ROW EXECUTE FUNCTION governance_head_forward_only()""")
    op.execute("""CREATE TRIGGER audit_chain_head_refuse_truncate BEFORE TRUNCATE ON audit_chain_head
                  FOR EACH STATEMENT EXECUTE FUNCTION governance_refuse()""")
    op.execute(f"""
        CREATE FUNCTION governance_ballot_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'ballot is append-only: DELETE refused'
              USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          IF (SELECT status FROM vote WHERE id = NEW.vote_id) <> 'open' THEN
            RAISE EXCEPTION 'ballot refused: the vote is closed'
              USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          IF TG_OP = 'UPDATE' AND ({BALLOT_UPDATE_FORBIDDEN}) THEN
            RAISE EXCEPTION 'ballots are kept as cast: UPDATE refused'
              USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          RETURN NEW;
        END $$""")
    op.execute("""CREATE TRIGGER ballot_guard BEFORE INSERT OR UPDATE OR DELETE ON ballot
                  FOR EACH ROW EXECUTE FUNCTION governance_ballot_guard()""")
    op.execute(f"""
        CREATE FUNCTION governance_response_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' OR ({RESPONSE_UPDATE_FORBIDDEN}) THEN
            RAISE EXCEPTION 'survey responses are kept as given: % refused', TG_OP
              USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          RETURN NEW;
        END $$""")
    op.execute("""CREATE TRIGGER survey_response_guard BEFORE UPDATE OR DELETE ON survey_response
                  FOR EACH ROW EXECUTE FUNCTION governance_response_guard()""")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_upgrade()
    elif dialect == "postgresql":
        _postgresql_upgrade()
    else:
        raise NotImplementedError(f"no record guards for {dialect}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        names = [f"{t}_refuse_{v}" for t in APPEND_ONLY for v in ("update", "delete")] + [
            "audit_chain_head_forward_only", "audit_chain_head_refuse_delete",
            "ballot_refuse_insert_closed", "ballot_refuse_update", "ballot_refuse_delete",
            "survey_response_refuse_update", "survey_response_refuse_delete"]
        for name in names:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        return
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_change ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_truncate ON {table}")
    op.execute("DROP TRIGGER IF EXISTS audit_chain_head_forward_only ON audit_chain_head")
    op.execute("DROP TRIGGER IF EXISTS audit_chain_head_refuse_truncate ON audit_chain_head")
    op.execute("DROP TRIGGER IF EXISTS ballot_guard ON ballot")
    op.execute("DROP TRIGGER IF EXISTS survey_response_guard ON survey_response")
    for fn in ("governance_refuse", "governance_head_forward_only", "governance_ballot_guard",
               "governance_response_guard"):
        op.execute(f"DROP FUNCTION IF EXISTS {fn}()")
