"""Survey rounds keep counts of their current responses; ballots are indexed by voter.

The counts let evidence (Compare, Home, decisions) read one row per round
instead of counting every response; existing rounds are counted once here.

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ANSWERS = ("very_disappointed", "somewhat_disappointed", "not_disappointed", "no_longer_use")


def upgrade() -> None:
    # Plain ALTER TABLE (both engines): a batch "copy and move" of survey_round
    # would be refused by the responses' foreign keys.
    op.add_column("survey_round", sa.Column("responses", sa.Integer(), server_default="0", nullable=False))
    for answer in ANSWERS:
        op.add_column("survey_round", sa.Column(answer, sa.Integer(), server_default="0", nullable=False))
    op.add_column("survey_round", sa.Column("sus_total", sa.Float(), server_default="0", nullable=False))
    op.add_column("survey_round", sa.Column("sus_responses", sa.Integer(), server_default="0", nullable=False))
    current = "FROM survey_response r WHERE r.round_id = survey_round.id AND r.is_current"
    counts = ", ".join(f"{a} = (SELECT count(*) {current} AND r.answer = '{a}')" for a in ANSWERS)
    op.execute(f"UPDATE survey_round SET responses = (SELECT count(*) {current}), {counts}, "
               f"sus_total = (SELECT coalesce(sum(r.sus_score), 0) {current}), "
               f"sus_responses = (SELECT count(r.sus_score) {current})")
    # Not in batch mode: recreating the ballot table would drop its guard triggers.
    op.create_index("ix_ballot_person", "ballot", ["person_id", "is_current"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ballot_person", table_name="ballot")
    for column in ("sus_responses", "sus_total", *ANSWERS, "responses"):
        op.execute(f"ALTER TABLE survey_round DROP COLUMN {column}")  # SQLite 3.35+ and PostgreSQL
