"""Identity and set-up: the organisation row, the charter's country, sessions and
sign-in throttling; account lockout removed.

* ``organisation`` — the one row ``python -m governance init`` writes.
* ``charter.country`` — whose public holidays are not working days
  (existing charters: "" = Monday–Friday only, as before).
* ``person.password_temporary`` — a password set by an administrator or by
  ``init``: it works once and must then be replaced.
* ``sign_in_session``, ``sign_in_throttle``, ``known_address`` — signed-cookie
  sessions, growing delays instead of lockouts.
* ``person.failed_sign_ins`` / ``person.locked_until`` — the lockout — dropped.

Self-contained and reversible: the downgrade restores the lockout columns
(empty) and drops what this revision added.

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from governance.storage.models import UtcDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_organisation_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
    )
    op.create_table(
        "sign_in_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("ticket_sha256", sa.String(length=64), nullable=True),
        sa.Column("ticket_expires_at", UtcDateTime(), nullable=True),
        sa.Column("ticket_binding", sa.String(length=64), nullable=True),
        sa.Column("token_sha256", sa.String(length=64), nullable=True),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.Column("revoked_reason", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_sign_in_session_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_session")),
        sa.UniqueConstraint("ticket_sha256", name=op.f("uq_sign_in_session_ticket_sha256")),
    )
    op.create_index("ix_sign_in_session_person", "sign_in_session", ["person_id", "revoked_at"])
    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", UtcDateTime(), nullable=True),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_throttle")),
    )
    op.create_table(
        "known_address",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("address_key", sa.String(length=60), nullable=False),
        sa.Column("last_success_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_known_address_person_id_person")),
        sa.PrimaryKeyConstraint("person_id", "address_key", name=op.f("pk_known_address")),
    )
    # Plain ALTER TABLE on both engines (SQLite 3.35+ drops columns): a batch
    # "copy and move" of person would be refused by the many foreign keys to it.
    op.add_column("charter", sa.Column("country", sa.String(length=2), server_default=sa.text("''"), nullable=False))
    op.add_column("person", sa.Column("password_temporary", sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    op.execute("ALTER TABLE person DROP COLUMN failed_sign_ins")
    op.execute("ALTER TABLE person DROP COLUMN locked_until")


def downgrade() -> None:
    op.add_column("person", sa.Column("failed_sign_ins", sa.Integer(), server_default="0", nullable=False))
    op.add_column("person", sa.Column("locked_until", UtcDateTime(), nullable=True))
    op.execute("ALTER TABLE person DROP COLUMN password_temporary")
    op.execute("ALTER TABLE charter DROP COLUMN country")
    op.drop_table("known_address")
    op.drop_index("ix_sign_in_session_person", table_name="sign_in_session")
    op.drop_table("sign_in_session")
    op.drop_table("sign_in_throttle")
    op.drop_table("organisation")
