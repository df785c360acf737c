"""The last mile: personal one-time links, reminders by email, and reminder opt-outs.

* ``personal_link`` — a link for one person and one act (a survey round or a vote);
  only the SHA-256 of its token is kept; it expires, works once, and is revoked
  when a newer one is issued.
* ``reminder_sent`` — one row per reminder per person per thing: what makes
  "never twice" hold (unique person, kind, subject), with failed attempts kept.
* ``reminder_opt_out`` — people who turned reminders off for themselves.

Self-contained and reversible: the downgrade drops the three tables.

Revision ID: 0007
Revises: 0005 (re-chained after 0006 at merge)
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from governance.storage.models import UtcDateTime

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "personal_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("vote_id", sa.Integer(), nullable=True),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=False),
        sa.Column("issued_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("used_at", UtcDateTime(), nullable=True),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint("(vote_id IS NULL) <> (round_id IS NULL)", name=op.f("ck_personal_link_one_act")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_personal_link_person_id_person")),
        sa.ForeignKeyConstraint(["issued_by"], ["person.id"], name=op.f("fk_personal_link_issued_by_person")),
        sa.ForeignKeyConstraint(["vote_id"], ["vote.id"], name=op.f("fk_personal_link_vote_id_vote")),
        sa.ForeignKeyConstraint(["round_id"], ["survey_round.id"],
                                name=op.f("fk_personal_link_round_id_survey_round")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_link")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_personal_link_token_sha256")),
    )
    op.create_index("ix_personal_link_person", "personal_link", ["person_id"])
    op.create_table(
        "reminder_sent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("subject", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_reminder_sent_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_sent")),
        sa.UniqueConstraint("person_id", "kind", "subject", name=op.f("uq_reminder_sent_person_id_kind_subject")),
    )
    op.create_table(
        "reminder_opt_out",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("opted_out_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_reminder_opt_out_person_id_person")),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_reminder_opt_out")),
    )


def downgrade() -> None:
    op.drop_table("reminder_opt_out")
    op.drop_table("reminder_sent")
    op.drop_index("ix_personal_link_person", table_name="personal_link")
    op.drop_table("personal_link")
