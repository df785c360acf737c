"""No side doors (R15, R16), secret ballots (R17), a record that holds against its operators (R18).

Adds: team invitations and a team that freezes at real use; roster changes
kept with their reasons; charter terms for vote deadlines and secret groups;
secret ballots (no person column) and vote participation; signed checkpoints
and their witnesses; the scheduled job's lease and run log. And the database
guards for everything frozen: criteria of a locked version (changed only by
the amendment being applied), locks, amendments, commissioning metrics once
real use started, closed votes, closed survey rounds and their responses,
secret ballots, participation, eligibility, checkpoints and witnesses.

Votes opened before this revision keep ``secret_groups`` NULL: they were
open ballots, and stay so (shown as "open ballot (before secret ballots existed)").

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import governance.storage.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = governance.storage.models.UtcDateTime
OPTIONS = "'adopt', 'iterate', 'revisit_problem', 'stop', 'approve', 'reject'"
GROUPS = "'frontline', 'commissioning', 'steering'"

APPEND_ONLY = ("roster_change", "checkpoint", "checkpoint_witness", "vote_participation", "vote_eligibility")

# --------------------------------------------------------------- conditions
# Shared by both engines: plain SQL over NEW/OLD. ``J(col, key)`` extracts a
# JSON value (json_extract on SQLite, ->> on PostgreSQL), filled in per engine.
CRITERION_LOCKED = "EXISTS (SELECT 1 FROM criteria_lock l WHERE l.problem_version_id = OLD.problem_version_id)"
CRITERION_TEXT = ("name", "definition", "measurement_method", "unit", "direction")
METRIC_TEXT = ("name", "definition", "unit", "direction")
METRIC_LOCKED = "EXISTS (SELECT 1 FROM pilot p WHERE p.id = OLD.pilot_id AND p.real_use_started_at IS NOT NULL)"
AMENDMENT_IMMUTABLE = ("id", "criterion_id", "metric_id", "before_json", "after_json", "reason",
                       "proposed_by", "proposed_at")


def _same(cols: Sequence[str]) -> str:
    return " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in cols)


def _matches_amendment(subject: str, text_cols: Sequence[str], j: str, num: str, intval: str) -> str:
    """NEW equals OLD patched by the after_json of an applied amendment still being applied."""
    fields = [f"NEW.{c} = COALESCE({j.format(col='a.after_json', key=c)}, OLD.{c})" for c in text_cols]
    fields.append(f"NEW.target = COALESCE({num.format(col='a.after_json', key='target')}, OLD.target)")
    if subject == "criterion":
        fields.append("NEW.minimum_evidence = COALESCE("
                      f"{intval.format(col='a.after_json', key='minimum_evidence')}, OLD.minimum_evidence)")
        fields += ["NEW.id = OLD.id", "NEW.problem_version_id = OLD.problem_version_id",
                   "NEW.is_indispensability = OLD.is_indispensability"]
        key = "criterion_id"
    else:
        fields += ["NEW.id = OLD.id", "NEW.pilot_id = OLD.pilot_id"]
        key = "metric_id"
    return (f"EXISTS (SELECT 1 FROM amendment a WHERE a.{key} = OLD.id AND a.status = 'applied' "
            f"AND a.resulting_sha256 IS NULL AND {' AND '.join(fields)})")


def _amendment_update_ok() -> str:
    return (f"({_same(AMENDMENT_IMMUTABLE)}) AND ("
            "(OLD.status = 'proposed' AND NEW.status IN ('applied', 'rejected') AND NEW.resulting_sha256 IS NULL)"
            " OR (OLD.status = 'applied' AND OLD.resulting_sha256 IS NULL AND NEW.status = 'applied'"
            " AND NEW.resulting_sha256 IS NOT NULL AND NEW.decided_at IS NOT DISTINCT FROM OLD.decided_at"
            " AND NEW.after_real_use = OLD.after_real_use))")


SECRET_BALLOT_UPDATE_OK = ("NEW.id = OLD.id AND NEW.vote_id = OLD.vote_id AND NEW.voter_token = OLD.voter_token "
                           "AND NEW.voting_group = OLD.voting_group AND NEW.option = OLD.option "
                           "AND NEW.receipt = OLD.receipt AND NOT (NEW.is_current AND NOT OLD.is_current)")


def _tables() -> None:
    op.create_table(
        "team_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pilot_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("invited_by", sa.Integer(), nullable=False),
        sa.Column("invited_at", UTC_TIME(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("responded_at", UTC_TIME(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'accepted', 'declined', 'void')",
                           name=op.f("ck_team_invitation_status_known")),
        sa.ForeignKeyConstraint(["invited_by"], ["person.id"], name=op.f("fk_team_invitation_invited_by_person")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_team_invitation_person_id_person")),
        sa.ForeignKeyConstraint(["pilot_id"], ["pilot.id"], name=op.f("fk_team_invitation_pilot_id_pilot")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_invitation")),
    )
    op.create_index("ix_team_invitation_person", "team_invitation", ["person_id", "status"], unique=False)
    op.create_index("uq_team_invitation_pending", "team_invitation", ["pilot_id", "person_id"], unique=True,
                    sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
    op.create_table(
        "roster_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pilot_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("changed_by", sa.Integer(), nullable=False),
        sa.Column("changed_at", UTC_TIME(), nullable=False),
        sa.Column("after_real_use", sa.Boolean(), nullable=False),
        sa.CheckConstraint("change IN ('added', 'removed')", name=op.f("ck_roster_change_change_known")),
        sa.ForeignKeyConstraint(["changed_by"], ["person.id"], name=op.f("fk_roster_change_changed_by_person")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_roster_change_person_id_person")),
        sa.ForeignKeyConstraint(["pilot_id"], ["pilot.id"], name=op.f("fk_roster_change_pilot_id_pilot")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_change")),
    )
    op.create_index("ix_roster_change_pilot", "roster_change", ["pilot_id", "after_real_use"], unique=False)
    op.create_table(
        "secret_ballot",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("voter_token", sa.String(length=64), nullable=False),
        sa.Column("voting_group", sa.String(length=20), nullable=False),
        sa.Column("option", sa.String(length=20), nullable=False),
        sa.Column("receipt", sa.String(length=16), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.CheckConstraint(f"option IN ({OPTIONS})", name=op.f("ck_secret_ballot_option_known")),
        sa.CheckConstraint(f"voting_group IN ({GROUPS})", name=op.f("ck_secret_ballot_group_known")),
        sa.ForeignKeyConstraint(["vote_id"], ["vote.id"], name=op.f("fk_secret_ballot_vote_id_vote")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secret_ballot")),
    )
    op.create_index("ix_secret_ballot_vote_current", "secret_ballot",
                    ["vote_id", "is_current", "voting_group", "option"], unique=False)
    op.create_index("uq_secret_ballot_current", "secret_ballot", ["vote_id", "voter_token"], unique=True,
                    sqlite_where=sa.text("is_current"), postgresql_where=sa.text("is_current"))
    op.create_table(
        "vote_participation",
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_vote_participation_person_id_person")),
        sa.ForeignKeyConstraint(["vote_id"], ["vote.id"], name=op.f("fk_vote_participation_vote_id_vote")),
        sa.PrimaryKeyConstraint("vote_id", "person_id", name=op.f("pk_vote_participation")),
    )
    op.create_table(
        "checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=120), nullable=False),
        sa.Column("key_id", sa.String(length=8), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("made_at", UTC_TIME(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoint")),
    )
    op.create_index("ix_checkpoint_seq", "checkpoint", ["seq"], unique=False)
    op.create_table(
        "checkpoint_witness",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checkpoint_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("witness_name", sa.String(length=120), nullable=False),
        sa.Column("key_id", sa.String(length=8), nullable=False),
        sa.Column("public_key", sa.String(length=100), nullable=False),
        sa.Column("cosignature", sa.Text(), nullable=False),
        sa.Column("witnessed_at", UTC_TIME(), nullable=False),
        sa.ForeignKeyConstraint(["checkpoint_id"], ["checkpoint.id"],
                                name=op.f("fk_checkpoint_witness_checkpoint_id_checkpoint")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_checkpoint_witness_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoint_witness")),
        sa.UniqueConstraint("checkpoint_id", "key_id", name=op.f("uq_checkpoint_witness_checkpoint_id_key_id")),
    )
    op.create_table(
        "job_lease",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=False),
        sa.Column("expires_at", UTC_TIME(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_lease")),
    )
    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", UTC_TIME(), nullable=False),
        sa.Column("finished_at", UTC_TIME(), nullable=True),
        sa.Column("holder", sa.String(length=120), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_run")),
    )


def _columns() -> None:
    # Plain ALTER TABLE (both engines): a batch copy would drop the tables' guard triggers.
    op.add_column("pilot_team_member", sa.Column("joined_at", UTC_TIME(), nullable=True))
    op.add_column("pilot_team_member", sa.Column("removed_at", UTC_TIME(), nullable=True))
    op.add_column("pilot_team_member", sa.Column("removed_by", sa.Integer(), nullable=True))
    op.add_column("pilot_team_member", sa.Column("removed_reason", sa.Text(), nullable=True))
    op.execute("UPDATE pilot_team_member SET joined_at = "
               "(SELECT p.registered_at FROM pilot p WHERE p.id = pilot_team_member.pilot_id)")
    op.add_column("charter", sa.Column("vote_min_days", sa.Integer(), server_default="3", nullable=False))
    op.add_column("charter", sa.Column("vote_max_days", sa.Integer(), server_default="30", nullable=False))
    op.add_column("charter", sa.Column("secret_groups", sa.Text(), server_default='["frontline"]', nullable=False))
    op.add_column("vote", sa.Column("secret_groups", sa.Text(), nullable=True))
    # Events written before this revision have no MAC; checkpoints cover them from the first one on.
    op.add_column("audit_event", sa.Column("mac", sa.String(length=64), nullable=True))
    if op.get_bind().dialect.name == "postgresql":  # SQLite cannot add a CHECK to an existing table
        op.create_check_constraint("vote_days_in_range", "charter",
                                   "vote_min_days >= 1 AND vote_max_days >= vote_min_days")


# ------------------------------------------------------------------ SQLite
def _sqlite_guard(name: str, table: str, verb: str, when: str, message: str) -> None:
    op.execute(f"CREATE TRIGGER {name} BEFORE {verb} ON {table} WHEN {when} "
               f"BEGIN SELECT RAISE(ABORT, '{message}'); END")


def _sqlite_triggers() -> list[str]:
    j, num, intval = "json_extract({col}, '$.{key}')", "json_extract({col}, '$.{key}')", \
        "json_extract({col}, '$.{key}')"
    made = []

    def guard(name: str, table: str, verb: str, when: str, message: str) -> None:
        _sqlite_guard(name, table, verb, when, message)
        made.append(name)

    for table in APPEND_ONLY:
        for verb in ("UPDATE", "DELETE"):
            guard(f"{table}_refuse_{verb.lower()}", table, verb, "1", f"{table} is append-only: {verb} refused")
    guard("criterion_refuse_locked_update", "criterion", "UPDATE",
          f"{CRITERION_LOCKED} AND NOT {_matches_amendment('criterion', CRITERION_TEXT, j, num, intval)}",
          "criteria of a locked version change only by an approved amendment: UPDATE refused")
    guard("criterion_refuse_locked_delete", "criterion", "DELETE", CRITERION_LOCKED,
          "criteria of a locked version are kept: DELETE refused")
    guard("metric_refuse_locked_update", "commissioning_metric", "UPDATE",
          f"{METRIC_LOCKED} AND NOT {_matches_amendment('metric', METRIC_TEXT, j, num, intval)}",
          "commissioning metrics lock at real use; change only by an amendment: UPDATE refused")
    guard("metric_refuse_locked_delete", "commissioning_metric", "DELETE", METRIC_LOCKED,
          "commissioning metrics lock at real use: DELETE refused")
    guard("amendment_refuse_update", "amendment", "UPDATE", f"NOT ({_amendment_update_ok()})",
          "amendments are kept as decided: UPDATE refused")
    guard("amendment_refuse_delete", "amendment", "DELETE", "1", "amendment is append-only: DELETE refused")
    guard("vote_refuse_closed_update", "vote", "UPDATE", "OLD.status = 'closed'",
          "a closed vote is final: UPDATE refused")
    guard("vote_refuse_delete", "vote", "DELETE", "1", "vote is append-only: DELETE refused")
    guard("survey_round_refuse_closed_update", "survey_round", "UPDATE", "OLD.closed_at IS NOT NULL",
          "a closed survey round is final: UPDATE refused")
    guard("survey_round_refuse_delete", "survey_round", "DELETE", "1",
          "survey_round is append-only: DELETE refused")
    closed_round = "(SELECT closed_at FROM survey_round WHERE id = {ref}.round_id) IS NOT NULL"
    guard("survey_response_refuse_insert_closed", "survey_response", "INSERT", closed_round.format(ref="NEW"),
          "survey response refused: the round is closed")
    guard("survey_response_refuse_closed_update", "survey_response", "UPDATE", closed_round.format(ref="OLD"),
          "responses of a closed round are final: UPDATE refused")
    vote_closed = "(SELECT status FROM vote WHERE id = {ref}.vote_id) <> 'open'"
    guard("secret_ballot_refuse_insert_closed", "secret_ballot", "INSERT", vote_closed.format(ref="NEW"),
          "ballot refused: the vote is closed")
    guard("secret_ballot_refuse_update", "secret_ballot", "UPDATE",
          f"{vote_closed.format(ref='OLD')} OR NOT ({SECRET_BALLOT_UPDATE_OK})",
          "ballots are kept as cast: UPDATE refused")
    guard("secret_ballot_refuse_delete", "secret_ballot", "DELETE", "1",
          "secret_ballot is append-only: DELETE refused")
    guard("vote_participation_refuse_insert_closed", "vote_participation", "INSERT",
          vote_closed.format(ref="NEW"), "participation refused: the vote is closed")
    return made


# -------------------------------------------------------------- PostgreSQL
def _pg_guard(name: str, table: str, verbs: str, body: str) -> None:
    op.execute(f"""
        CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          {body}
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$""")
    op.execute(f"CREATE TRIGGER {name} BEFORE {verbs} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()")


def _raise(message: str) -> str:
    return f"RAISE EXCEPTION '{message}' USING ERRCODE = 'integrity_constraint_violation';"


def _pg_triggers() -> list[str]:
    j = "({col})::jsonb ->> '{key}'"
    num = "(({col})::jsonb ->> '{key}')::double precision"
    intval = "(({col})::jsonb ->> '{key}')::integer"
    made = []

    def guard(name: str, table: str, verbs: str, body: str) -> None:
        _pg_guard(name, table, verbs, body)
        made.append(name)

    for table in APPEND_ONLY:
        op.execute(f"""CREATE TRIGGER {table}_refuse_change BEFORE UPDATE OR DELETE ON {table}
                       FOR EACH ROW EXECUTE FUNCTION governance_refuse()""")
        op.execute(f"""CREATE TRIGGER {table}_refuse_truncate BEFORE TRUNCATE ON {table}
                       FOR EACH STATEMENT EXECUTE FUNCTION governance_refuse()""")
        made += [f"{table}_refuse_change", f"{table}_refuse_truncate"]
    guard("criterion_guard", "criterion", "UPDATE OR DELETE", f"""
          IF {CRITERION_LOCKED} THEN
            IF TG_OP = 'DELETE' THEN {_raise('criteria of a locked version are kept: DELETE refused')} END IF;
            IF NOT {_matches_amendment('criterion', CRITERION_TEXT, j, num, intval)} THEN
              {_raise('criteria of a locked version change only by an approved amendment: UPDATE refused')}
            END IF;
          END IF;""")
    guard("metric_guard", "commissioning_metric", "UPDATE OR DELETE", f"""
          IF {METRIC_LOCKED} THEN
            IF TG_OP = 'DELETE' THEN {_raise('commissioning metrics lock at real use: DELETE refused')} END IF;
            IF NOT {_matches_amendment('metric', METRIC_TEXT, j, num, intval)} THEN
              {_raise('commissioning metrics lock at real use; change only by an amendment: UPDATE refused')}
            END IF;
          END IF;""")
    guard("amendment_guard", "amendment", "UPDATE OR DELETE", f"""
          IF TG_OP = 'DELETE' OR NOT ({_amendment_update_ok()}) THEN
            {_raise('amendments are kept as decided: % refused')}
          END IF;""".replace("'amendments are kept as decided: % refused'",
                             "'amendments are kept as decided: % refused', TG_OP"))
    guard("vote_guard", "vote", "UPDATE OR DELETE", f"""
          IF TG_OP = 'DELETE' OR OLD.status = 'closed' THEN {_raise('a closed vote is final: % refused')} END IF;"""
          .replace("'a closed vote is final: % refused'", "'a closed vote is final: % refused', TG_OP"))
    guard("survey_round_guard", "survey_round", "UPDATE OR DELETE", f"""
          IF TG_OP = 'DELETE' OR OLD.closed_at IS NOT NULL THEN
            {_raise('a closed survey round is final')}
          END IF;""")
    guard("survey_response_closed_guard", "survey_response", "INSERT OR UPDATE", f"""
          IF (SELECT closed_at FROM survey_round WHERE id = NEW.round_id) IS NOT NULL
             OR (TG_OP = 'UPDATE' AND (SELECT closed_at FROM survey_round WHERE id = OLD.round_id) IS NOT NULL) THEN
            {_raise('responses of a closed round are final')}
          END IF;""")
    guard("secret_ballot_guard", "secret_ballot", "INSERT OR UPDATE OR DELETE", f"""
          IF TG_OP = 'DELETE' THEN {_raise('secret_ballot is append-only: DELETE refused')} END IF;
          IF (SELECT status FROM vote WHERE id = NEW.vote_id) <> 'open' THEN
            {_raise('ballot refused: the vote is closed')}
          END IF;
          IF TG_OP = 'UPDATE' AND NOT ({SECRET_BALLOT_UPDATE_OK}) THEN
            {_raise('ballots are kept as cast: UPDATE refused')}
          END IF;""")
    guard("vote_participation_guard", "vote_participation", "INSERT", f"""
          IF (SELECT status FROM vote WHERE id = NEW.vote_id) <> 'open' THEN
            {_raise('participation refused: the vote is closed')}
          END IF;""")
    for table in ("secret_ballot", "survey_response", "survey_round", "vote", "criterion", "amendment",
                  "commissioning_metric", "ballot"):
        op.execute(f"""CREATE TRIGGER {table}_refuse_truncate BEFORE TRUNCATE ON {table}
                       FOR EACH STATEMENT EXECUTE FUNCTION governance_refuse()""")
        made.append(f"{table}_refuse_truncate")
    return made


def _report_role_conflicts() -> None:
    """R15: the auditor role may no longer be held with a voting role. Existing holders are not
    changed by a migration (that is an administrator's decision): they are reported here, and
    flagged on the Admin page until an administrator resolves them."""
    rows = op.get_bind().execute(sa.text(
        "SELECT p.id, p.name FROM person p WHERE EXISTS (SELECT 1 FROM person_role r WHERE r.person_id = p.id "
        "AND r.role = 'auditor') AND EXISTS (SELECT 1 FROM person_role r WHERE r.person_id = p.id AND r.role IN "
        "('frontline', 'facilitator', 'commissioning', 'steering')) ORDER BY p.id")).all()
    for person_id, name in rows:
        print(f"R15: person #{person_id} ({name}) holds the auditor role with a voting role; an administrator "
              "must choose one (the Admin page flags them).")


def upgrade() -> None:
    _tables()
    _columns()
    _report_role_conflicts()
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_triggers()
    elif dialect == "postgresql":
        _pg_triggers()
    else:
        raise NotImplementedError(f"no record guards for {dialect}")


def _pg_trigger_tables() -> dict[str, str]:
    names = {f"{t}_refuse_change": t for t in APPEND_ONLY} | {f"{t}_refuse_truncate": t for t in APPEND_ONLY}
    names |= {"criterion_guard": "criterion", "metric_guard": "commissioning_metric",
              "amendment_guard": "amendment", "vote_guard": "vote", "survey_round_guard": "survey_round",
              "survey_response_closed_guard": "survey_response", "secret_ballot_guard": "secret_ballot",
              "vote_participation_guard": "vote_participation"}
    names |= {f"{t}_refuse_truncate": t for t in ("secret_ballot", "survey_response", "survey_round", "vote",
                                                  "criterion", "amendment", "commissioning_metric", "ballot")}
    return names


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        rows = op.get_bind().execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars()
        keep = {"audit_event_refuse_update", "audit_event_refuse_delete", "criteria_lock_refuse_update",
                "criteria_lock_refuse_delete", "decision_refuse_update", "decision_refuse_delete",
                "claim_refuse_update", "claim_refuse_delete", "audit_chain_head_forward_only",
                "audit_chain_head_refuse_delete", "ballot_refuse_insert_closed", "ballot_refuse_update",
                "ballot_refuse_delete", "survey_response_refuse_update", "survey_response_refuse_delete"}
        for name in rows:
            if name not in keep:
                op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for name, table in _pg_trigger_tables().items():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for fn in ("criterion_guard", "metric_guard", "amendment_guard", "vote_guard", "survey_round_guard",
                   "survey_response_closed_guard", "secret_ballot_guard", "vote_participation_guard"):
            op.execute(f"DROP FUNCTION IF EXISTS {fn}()")
        op.drop_constraint(op.f("ck_charter_vote_days_in_range"), "charter", type_="check")
    op.drop_column("vote", "secret_groups")
    op.drop_column("audit_event", "mac")
    for column in ("secret_groups", "vote_max_days", "vote_min_days"):
        op.drop_column("charter", column)
    for column in ("removed_reason", "removed_by", "removed_at", "joined_at"):
        op.drop_column("pilot_team_member", column)
    for table in ("job_run", "job_lease", "checkpoint_witness", "checkpoint", "vote_participation",
                  "secret_ballot", "roster_change", "team_invitation"):
        op.drop_table(table)
