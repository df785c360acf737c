"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-21 04:30:05.566024
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import governance.storage.models


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_audit_chain_head_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    op.create_table('audit_event',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('occurred_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=120), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('entity_type', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_event')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_event_hash'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_action', ['action'], unique=False)
        batch_op.create_index('ix_audit_event_actor', ['actor_id'], unique=False)
        batch_op.create_index('ix_audit_event_entity', ['entity_type', 'entity_id'], unique=False)
        batch_op.create_index('ix_audit_event_occurred_at', ['occurred_at'], unique=False)

    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=300), nullable=True),
    sa.Column('failed_sign_ins', sa.Integer(), nullable=False),
    sa.Column('locked_until', governance.storage.models.UtcDateTime(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person')),
    sa.UniqueConstraint('email', name=op.f('uq_person_email'))
    )
    op.create_table('programme',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme')),
    sa.UniqueConstraint('name', name=op.f('uq_programme_name'))
    )
    op.create_table('charter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('weight_frontline', sa.Float(), nullable=False),
    sa.Column('weight_commissioning', sa.Float(), nullable=False),
    sa.Column('weight_steering', sa.Float(), nullable=False),
    sa.Column('quorum_frontline', sa.Float(), nullable=False),
    sa.Column('quorum_commissioning', sa.Float(), nullable=False),
    sa.Column('quorum_steering', sa.Float(), nullable=False),
    sa.Column('frontline_veto', sa.Boolean(), nullable=False),
    sa.Column('evaluation_window_days', sa.Integer(), nullable=False),
    sa.Column('min_survey_responses', sa.Integer(), nullable=False),
    sa.Column('indispensability_threshold', sa.Float(), nullable=False),
    sa.Column('allow_adopt_override', sa.Boolean(), nullable=False),
    sa.Column('feedback_response_working_days', sa.Integer(), nullable=False),
    sa.Column('adopted_by', sa.Integer(), nullable=True),
    sa.Column('adopted_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.CheckConstraint('evaluation_window_days >= 1', name=op.f('ck_charter_window_positive')),
    sa.CheckConstraint('feedback_response_working_days >= 1', name=op.f('ck_charter_response_time_positive')),
    sa.CheckConstraint('indispensability_threshold > 0 AND indispensability_threshold <= 1', name=op.f('ck_charter_threshold_in_range')),
    sa.CheckConstraint('min_survey_responses >= 5', name=op.f('ck_charter_min_responses_at_least_5')),
    sa.CheckConstraint('quorum_frontline >= 0 AND quorum_frontline <= 1 AND quorum_commissioning >= 0 AND quorum_commissioning <= 1 AND quorum_steering >= 0 AND quorum_steering <= 1', name=op.f('ck_charter_quorums_in_range')),
    sa.CheckConstraint('weight_frontline >= 0 AND weight_frontline <= 1 AND weight_commissioning >= 0 AND weight_commissioning <= 1 AND weight_steering >= 0 AND weight_steering <= 1', name=op.f('ck_charter_weights_in_range')),
    sa.ForeignKeyConstraint(['adopted_by'], ['person.id'], name=op.f('fk_charter_adopted_by_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_charter')),
    sa.UniqueConstraint('version', name=op.f('uq_charter_version'))
    )
    op.create_table('panel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('area', sa.String(length=200), nullable=False),
    sa.Column('site', sa.String(length=200), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=True),
    sa.Column('created_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_panel_programme_id_programme')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_panel')),
    sa.UniqueConstraint('name', name=op.f('uq_panel_name'))
    )
    op.create_table('person_role',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.CheckConstraint("role IN ('frontline', 'facilitator', 'commissioning', 'steering', 'auditor', 'admin')", name=op.f('ck_person_role_role_known')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_role_person_id_person')),
    sa.PrimaryKeyConstraint('person_id', 'role', name=op.f('pk_person_role'))
    )
    op.create_table('panel_membership',
    sa.Column('panel_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('panel_role', sa.String(length=20), nullable=False),
    sa.Column('joined_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.CheckConstraint("panel_role IN ('member', 'facilitator')", name=op.f('ck_panel_membership_panel_role_known')),
    sa.ForeignKeyConstraint(['panel_id'], ['panel.id'], name=op.f('fk_panel_membership_panel_id_panel')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_panel_membership_person_id_person')),
    sa.PrimaryKeyConstraint('panel_id', 'person_id', name=op.f('pk_panel_membership'))
    )
    with op.batch_alter_table('panel_membership', schema=None) as batch_op:
        batch_op.create_index('ix_panel_membership_person', ['person_id'], unique=False)

    op.create_table('problem',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('panel_id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('current_version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.CheckConstraint("state IN ('draft', 'ratified', 'reopened', 'retired')", name=op.f('ck_problem_state_known')),
    sa.ForeignKeyConstraint(['created_by'], ['person.id'], name=op.f('fk_problem_created_by_person')),
    sa.ForeignKeyConstraint(['panel_id'], ['panel.id'], name=op.f('fk_problem_panel_id_panel')),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_problem_programme_id_programme')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_problem'))
    )
    with op.batch_alter_table('problem', schema=None) as batch_op:
        batch_op.create_index('ix_problem_panel_state', ['panel_id', 'state'], unique=False)

    op.create_table('problem_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_problem_comment_person_id_person')),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_problem_comment_problem_id_problem')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_problem_comment'))
    )
    with op.batch_alter_table('problem_comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_problem_comment_problem_id'), ['problem_id'], unique=False)

    op.create_table('problem_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.Column('ratified_at', governance.storage.models.UtcDateTime(), nullable=True),
    sa.Column('ratified_by_vote_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('version >= 1', name=op.f('ck_problem_version_version_positive')),
    sa.ForeignKeyConstraint(['created_by'], ['person.id'], name=op.f('fk_problem_version_created_by_person')),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_problem_version_problem_id_problem')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_problem_version')),
    sa.UniqueConstraint('problem_id', 'version', name=op.f('uq_problem_version_problem_id_version'))
    )
    op.create_table('criterion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('problem_version_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('measurement_method', sa.Text(), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('direction', sa.String(length=20), nullable=False),
    sa.Column('target', sa.Float(), nullable=False),
    sa.Column('minimum_evidence', sa.Integer(), nullable=False),
    sa.Column('is_indispensability', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.CheckConstraint("direction IN ('higher_is_better', 'lower_is_better')", name=op.f('ck_criterion_direction_known')),
    sa.CheckConstraint('NOT is_indispensability OR (target > 0 AND target <= 1)', name=op.f('ck_criterion_threshold_in_range')),
    sa.CheckConstraint('minimum_evidence >= 1', name=op.f('ck_criterion_minimum_evidence_positive')),
    sa.ForeignKeyConstraint(['created_by'], ['person.id'], name=op.f('fk_criterion_created_by_person')),
    sa.ForeignKeyConstraint(['problem_version_id'], ['problem_version.id'], name=op.f('fk_criterion_problem_version_id_problem_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_criterion')),
    sa.UniqueConstraint('problem_version_id', 'name', name=op.f('uq_criterion_problem_version_id_name'))
    )
    with op.batch_alter_table('criterion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_criterion_problem_version_id'), ['problem_version_id'], unique=False)

    op.create_table('pilot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('problem_version_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('registered_by', sa.Integer(), nullable=False),
    sa.Column('registered_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('ready_at', governance.storage.models.UtcDateTime(), nullable=True),
    sa.Column('real_use_started_at', governance.storage.models.UtcDateTime(), nullable=True),
    sa.Column('metrics_sha256', sa.String(length=64), nullable=True),
    sa.Column('metrics_json', sa.Text(), nullable=True),
    sa.Column('evaluating_since', governance.storage.models.UtcDateTime(), nullable=True),
    sa.Column('decided_at', governance.storage.models.UtcDateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('adopt', 'iterate', 'revisit_problem', 'stop')", name=op.f('ck_pilot_outcome_known')),
    sa.CheckConstraint("state IN ('registered', 'ready', 'in_use', 'evaluating', 'decided')", name=op.f('ck_pilot_state_known')),
    sa.ForeignKeyConstraint(['owner_id'], ['person.id'], name=op.f('fk_pilot_owner_id_person')),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_pilot_problem_id_problem')),
    sa.ForeignKeyConstraint(['problem_version_id'], ['problem_version.id'], name=op.f('fk_pilot_problem_version_id_problem_version')),
    sa.ForeignKeyConstraint(['registered_by'], ['person.id'], name=op.f('fk_pilot_registered_by_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pilot')),
    sa.UniqueConstraint('title', name=op.f('uq_pilot_title'))
    )
    with op.batch_alter_table('pilot', schema=None) as batch_op:
        batch_op.create_index('ix_pilot_problem', ['problem_id'], unique=False)
        batch_op.create_index('ix_pilot_state', ['state'], unique=False)

    op.create_table('commissioning_metric',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pilot_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('direction', sa.String(length=20), nullable=False),
    sa.Column('target', sa.Float(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.CheckConstraint("direction IN ('higher_is_better', 'lower_is_better')", name=op.f('ck_commissioning_metric_direction_known')),
    sa.ForeignKeyConstraint(['created_by'], ['person.id'], name=op.f('fk_commissioning_metric_created_by_person')),
    sa.ForeignKeyConstraint(['pilot_id'], ['pilot.id'], name=op.f('fk_commissioning_metric_pilot_id_pilot')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commissioning_metric')),
    sa.UniqueConstraint('pilot_id', 'name', name=op.f('uq_commissioning_metric_pilot_id_name'))
    )
    with op.batch_alter_table('commissioning_metric', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commissioning_metric_pilot_id'), ['pilot_id'], unique=False)

    op.create_table('feedback_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pilot_id', sa.Integer(), nullable=False),
    sa.Column('raised_by', sa.Integer(), nullable=False),
    sa.Column('raised_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('responded_by', sa.Integer(), nullable=True),
    sa.Column('responded_at', governance.storage.models.UtcDateTime(), nullable=True),
    sa.CheckConstraint("kind IN ('wrong_output', 'workaround', 'workflow_change', 'other')", name=op.f('ck_feedback_item_kind_known')),
    sa.ForeignKeyConstraint(['pilot_id'], ['pilot.id'], name=op.f('fk_feedback_item_pilot_id_pilot')),
    sa.ForeignKeyConstraint(['raised_by'], ['person.id'], name=op.f('fk_feedback_item_raised_by_person')),
    sa.ForeignKeyConstraint(['responded_by'], ['person.id'], name=op.f('fk_feedback_item_responded_by_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_item'))
    )
    with op.batch_alter_table('feedback_item', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_item_open_due', ['responded_at', 'due_on'], unique=False)
        batch_op.create_index('ix_feedback_item_pilot', ['pilot_id'], unique=False)

    op.create_table('pilot_team_member',
    sa.Column('pilot_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_pilot_team_member_person_id_person')),
    sa.ForeignKeyConstraint(['pilot_id'], ['pilot.id'], name=op.f('fk_pilot_team_member_pilot_id_pilot')),
    sa.PrimaryKeyConstraint('pilot_id', 'person_id', name=op.f('pk_pilot_team_member'))
    )
    with op.batch_alter_table('pilot_team_member', schema=None) as batch_op:
        batch_op.create_index('ix_pilot_team_member_person', ['person_id'], unique=False)

    op.create_table('problem_reopening',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('problem_version_id', sa.Integer(), nullable=False),
    sa.Column('pilot_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('reopened_by', sa.Integer(), nullable=True),
    sa.Column('reopened_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['pilot_id'], ['pilot.id'], name=op.f('fk_problem_reopening_pilot_id_pilot')),
    sa.ForeignKeyConstraint(['problem_version_id'], ['problem_version.id'], name=op.f('fk_problem_reopening_problem_version_id_problem_version')),
    sa.ForeignKeyConstraint(['reopened_by'], ['person.id'], name=op.f('fk_problem_reopening_reopened_by_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_problem_reopening')),
    sa.UniqueConstraint('problem_version_id', name=op.f('uq_problem_reopening_problem_version_id'))
    )
    op.create_table('readiness_record',
    sa.Column('pilot_id', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=True),
    sa.Column('recorded_by', sa.Integer(), nullable=False),
    sa.Column('recorded_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.CheckConstraint("item IN ('owner', 'training_plan', 'old_process_retirement', 'escalation_path', 'low_connectivity_test')", name=op.f('ck_readiness_record_item_known')),
    sa.ForeignKeyConstraint(['pilot_id'], ['pilot.id'], name=op.f('fk_readiness_record_pilot_id_pilot')),
    sa.ForeignKeyConstraint(['recorded_by'], ['person.id'], name=op.f('fk_readiness_record_recorded_by_person')),
    sa.PrimaryKeyConstraint('pilot_id', 'item', name=op.f('pk_readiness_record'))
    )
    op.create_table('readiness_waiver',
    sa.Column('pilot_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('waived_by', sa.Integer(), nullable=False),
    sa.Column('waived_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['pilot_id'], ['pilot.id'], name=op.f('fk_readiness_waiver_pilot_id_pilot')),
    sa.ForeignKeyConstraint(['waived_by'], ['person.id'], name=op.f('fk_readiness_waiver_waived_by_person')),
    sa.PrimaryKeyConstraint('pilot_id', name=op.f('pk_readiness_waiver'))
    )
    op.create_table('roster_entry',
    sa.Column('pilot_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('added_by', sa.Integer(), nullable=False),
    sa.Column('added_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['added_by'], ['person.id'], name=op.f('fk_roster_entry_added_by_person')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_roster_entry_person_id_person')),
    sa.ForeignKeyConstraint(['pilot_id'], ['pilot.id'], name=op.f('fk_roster_entry_pilot_id_pilot')),
    sa.PrimaryKeyConstraint('pilot_id', 'person_id', name=op.f('pk_roster_entry'))
    )
    with op.batch_alter_table('roster_entry', schema=None) as batch_op:
        batch_op.create_index('ix_roster_entry_person', ['person_id'], unique=False)

    op.create_table('source_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pilot_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('byte_size', sa.Integer(), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('imported_by', sa.Integer(), nullable=False),
    sa.Column('imported_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['imported_by'], ['person.id'], name=op.f('fk_source_file_imported_by_person')),
    sa.ForeignKeyConstraint(['pilot_id'], ['pilot.id'], name=op.f('fk_source_file_pilot_id_pilot')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source_file'))
    )
    with op.batch_alter_table('source_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_source_file_pilot_id'), ['pilot_id'], unique=False)

    op.create_table('survey_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pilot_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('opened_by', sa.Integer(), nullable=False),
    sa.Column('opened_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.Column('closed_by', sa.Integer(), nullable=True),
    sa.Column('closed_at', governance.storage.models.UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['closed_by'], ['person.id'], name=op.f('fk_survey_round_closed_by_person')),
    sa.ForeignKeyConstraint(['opened_by'], ['person.id'], name=op.f('fk_survey_round_opened_by_person')),
    sa.ForeignKeyConstraint(['pilot_id'], ['pilot.id'], name=op.f('fk_survey_round_pilot_id_pilot')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_round')),
    sa.UniqueConstraint('pilot_id', 'number', name=op.f('uq_survey_round_pilot_id_number'))
    )
    op.create_table('amendment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=True),
    sa.Column('metric_id', sa.Integer(), nullable=True),
    sa.Column('before_json', sa.Text(), nullable=False),
    sa.Column('after_json', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('proposed_by', sa.Integer(), nullable=False),
    sa.Column('proposed_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.Column('decided_at', governance.storage.models.UtcDateTime(), nullable=True),
    sa.Column('after_real_use', sa.Boolean(), nullable=False),
    sa.Column('resulting_sha256', sa.String(length=64), nullable=True),
    sa.CheckConstraint("status IN ('proposed', 'applied', 'rejected')", name=op.f('ck_amendment_status_known')),
    sa.CheckConstraint('(criterion_id IS NULL) <> (metric_id IS NULL)', name=op.f('ck_amendment_one_subject')),
    sa.ForeignKeyConstraint(['criterion_id'], ['criterion.id'], name=op.f('fk_amendment_criterion_id_criterion')),
    sa.ForeignKeyConstraint(['metric_id'], ['commissioning_metric.id'], name=op.f('fk_amendment_metric_id_commissioning_metric')),
    sa.ForeignKeyConstraint(['proposed_by'], ['person.id'], name=op.f('fk_amendment_proposed_by_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_amendment'))
    )
    with op.batch_alter_table('amendment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_amendment_criterion_id'), ['criterion_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_amendment_metric_id'), ['metric_id'], unique=False)

    op.create_table('measurement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pilot_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=True),
    sa.Column('metric_id', sa.Integer(), nullable=True),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('source_file_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by', sa.Integer(), nullable=False),
    sa.Column('recorded_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.CheckConstraint("source IN ('entered', 'imported')", name=op.f('ck_measurement_source_known')),
    sa.CheckConstraint('(criterion_id IS NULL) <> (metric_id IS NULL)', name=op.f('ck_measurement_one_subject')),
    sa.ForeignKeyConstraint(['criterion_id'], ['criterion.id'], name=op.f('fk_measurement_criterion_id_criterion')),
    sa.ForeignKeyConstraint(['metric_id'], ['commissioning_metric.id'], name=op.f('fk_measurement_metric_id_commissioning_metric')),
    sa.ForeignKeyConstraint(['pilot_id'], ['pilot.id'], name=op.f('fk_measurement_pilot_id_pilot')),
    sa.ForeignKeyConstraint(['recorded_by'], ['person.id'], name=op.f('fk_measurement_recorded_by_person')),
    sa.ForeignKeyConstraint(['source_file_id'], ['source_file.id'], name=op.f('fk_measurement_source_file_id_source_file')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measurement'))
    )
    with op.batch_alter_table('measurement', schema=None) as batch_op:
        batch_op.create_index('ix_measurement_criterion_date', ['criterion_id', 'observed_on'], unique=False)
        batch_op.create_index('ix_measurement_metric_date', ['metric_id', 'observed_on'], unique=False)
        batch_op.create_index('ix_measurement_pilot', ['pilot_id'], unique=False)

    op.create_table('survey_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('answer', sa.String(length=30), nullable=False),
    sa.Column('sus_1', sa.SmallInteger(), nullable=True),
    sa.Column('sus_2', sa.SmallInteger(), nullable=True),
    sa.Column('sus_3', sa.SmallInteger(), nullable=True),
    sa.Column('sus_4', sa.SmallInteger(), nullable=True),
    sa.Column('sus_5', sa.SmallInteger(), nullable=True),
    sa.Column('sus_6', sa.SmallInteger(), nullable=True),
    sa.Column('sus_7', sa.SmallInteger(), nullable=True),
    sa.Column('sus_8', sa.SmallInteger(), nullable=True),
    sa.Column('sus_9', sa.SmallInteger(), nullable=True),
    sa.Column('sus_10', sa.SmallInteger(), nullable=True),
    sa.Column('sus_score', sa.Float(), nullable=True),
    sa.Column('use_instead', sa.Text(), nullable=False),
    sa.Column('main_benefit', sa.Text(), nullable=False),
    sa.Column('submitted_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.CheckConstraint("answer IN ('very_disappointed', 'somewhat_disappointed', 'not_disappointed', 'no_longer_use')", name=op.f('ck_survey_response_answer_known')),
    sa.CheckConstraint('(sus_1 IS NULL OR sus_1 BETWEEN 1 AND 5) AND (sus_2 IS NULL OR sus_2 BETWEEN 1 AND 5) AND (sus_3 IS NULL OR sus_3 BETWEEN 1 AND 5) AND (sus_4 IS NULL OR sus_4 BETWEEN 1 AND 5) AND (sus_5 IS NULL OR sus_5 BETWEEN 1 AND 5) AND (sus_6 IS NULL OR sus_6 BETWEEN 1 AND 5) AND (sus_7 IS NULL OR sus_7 BETWEEN 1 AND 5) AND (sus_8 IS NULL OR sus_8 BETWEEN 1 AND 5) AND (sus_9 IS NULL OR sus_9 BETWEEN 1 AND 5) AND (sus_10 IS NULL OR sus_10 BETWEEN 1 AND 5)', name=op.f('ck_survey_response_sus_items_in_range')),
    sa.CheckConstraint('sus_score IS NULL OR (sus_score >= 0 AND sus_score <= 100)', name=op.f('ck_survey_response_sus_in_range')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_survey_response_person_id_person')),
    sa.ForeignKeyConstraint(['round_id'], ['survey_round.id'], name=op.f('fk_survey_response_round_id_survey_round')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_response'))
    )
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.create_index('ix_survey_response_person', ['person_id'], unique=False)
        batch_op.create_index('ix_survey_response_round_current', ['round_id', 'is_current', 'answer'], unique=False)
        batch_op.create_index('uq_survey_response_current', ['round_id', 'person_id'], unique=True, sqlite_where=sa.text('is_current'), postgresql_where=sa.text('is_current'))

    op.create_table('usage_week',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pilot_id', sa.Integer(), nullable=False),
    sa.Column('week_start', sa.Date(), nullable=False),
    sa.Column('active_users', sa.Integer(), nullable=False),
    sa.Column('eligible_users', sa.Integer(), nullable=False),
    sa.Column('source_file_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('active_users >= 0 AND eligible_users >= 0 AND active_users <= eligible_users', name=op.f('ck_usage_week_counts_in_range')),
    sa.ForeignKeyConstraint(['pilot_id'], ['pilot.id'], name=op.f('fk_usage_week_pilot_id_pilot')),
    sa.ForeignKeyConstraint(['source_file_id'], ['source_file.id'], name=op.f('fk_usage_week_source_file_id_source_file')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_week')),
    sa.UniqueConstraint('pilot_id', 'week_start', name=op.f('uq_usage_week_pilot_id_week_start'))
    )
    op.create_table('vote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('pilot_id', sa.Integer(), nullable=True),
    sa.Column('problem_version_id', sa.Integer(), nullable=True),
    sa.Column('amendment_id', sa.Integer(), nullable=True),
    sa.Column('panel_id', sa.Integer(), nullable=True),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('charter_id', sa.Integer(), nullable=False),
    sa.Column('proposed_outcome', sa.String(length=20), nullable=True),
    sa.Column('adopt_available', sa.Boolean(), nullable=False),
    sa.Column('evidence_json', sa.Text(), nullable=True),
    sa.Column('opened_by', sa.Integer(), nullable=False),
    sa.Column('opened_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.Column('deadline', governance.storage.models.UtcDateTime(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('closed_by', sa.Integer(), nullable=True),
    sa.Column('closed_at', governance.storage.models.UtcDateTime(), nullable=True),
    sa.Column('result_json', sa.Text(), nullable=True),
    sa.Column('quorum_met', sa.Boolean(), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.CheckConstraint("kind IN ('outcome', 'ratify_problem', 'lock_criteria', 'amend_criterion')", name=op.f('ck_vote_kind_known')),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_vote_status_known')),
    sa.ForeignKeyConstraint(['amendment_id'], ['amendment.id'], name=op.f('fk_vote_amendment_id_amendment')),
    sa.ForeignKeyConstraint(['charter_id'], ['charter.id'], name=op.f('fk_vote_charter_id_charter')),
    sa.ForeignKeyConstraint(['closed_by'], ['person.id'], name=op.f('fk_vote_closed_by_person')),
    sa.ForeignKeyConstraint(['opened_by'], ['person.id'], name=op.f('fk_vote_opened_by_person')),
    sa.ForeignKeyConstraint(['panel_id'], ['panel.id'], name=op.f('fk_vote_panel_id_panel')),
    sa.ForeignKeyConstraint(['pilot_id'], ['pilot.id'], name=op.f('fk_vote_pilot_id_pilot')),
    sa.ForeignKeyConstraint(['problem_version_id'], ['problem_version.id'], name=op.f('fk_vote_problem_version_id_problem_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vote'))
    )
    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.create_index('ix_vote_pilot', ['pilot_id'], unique=False)
        batch_op.create_index('ix_vote_status_deadline', ['status', 'deadline'], unique=False)

    op.create_table('ballot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vote_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('voting_group', sa.String(length=20), nullable=False),
    sa.Column('option', sa.String(length=20), nullable=False),
    sa.Column('cast_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.CheckConstraint("option IN ('adopt', 'iterate', 'revisit_problem', 'stop', 'approve', 'reject')", name=op.f('ck_ballot_option_known')),
    sa.CheckConstraint("voting_group IN ('frontline', 'commissioning', 'steering')", name=op.f('ck_ballot_group_known')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_ballot_person_id_person')),
    sa.ForeignKeyConstraint(['vote_id'], ['vote.id'], name=op.f('fk_ballot_vote_id_vote')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot'))
    )
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.create_index('ix_ballot_vote_current', ['vote_id', 'is_current', 'voting_group', 'option'], unique=False)
        batch_op.create_index('uq_ballot_current', ['vote_id', 'person_id'], unique=True, sqlite_where=sa.text('is_current'), postgresql_where=sa.text('is_current'))

    op.create_table('criteria_lock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('problem_version_id', sa.Integer(), nullable=False),
    sa.Column('locked_by', sa.Integer(), nullable=True),
    sa.Column('locked_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.Column('vote_id', sa.Integer(), nullable=True),
    sa.Column('criteria_sha256', sa.String(length=64), nullable=False),
    sa.Column('criteria_json', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['locked_by'], ['person.id'], name=op.f('fk_criteria_lock_locked_by_person')),
    sa.ForeignKeyConstraint(['problem_version_id'], ['problem_version.id'], name=op.f('fk_criteria_lock_problem_version_id_problem_version')),
    sa.ForeignKeyConstraint(['vote_id'], ['vote.id'], name=op.f('fk_criteria_lock_vote_id_vote')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_criteria_lock')),
    sa.UniqueConstraint('problem_version_id', name=op.f('uq_criteria_lock_problem_version_id'))
    )
    op.create_table('decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vote_id', sa.Integer(), nullable=False),
    sa.Column('pilot_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('basis_json', sa.Text(), nullable=False),
    sa.Column('basis_sha256', sa.String(length=64), nullable=False),
    sa.Column('adopt_override', sa.Boolean(), nullable=False),
    sa.Column('declared_by', sa.Integer(), nullable=True),
    sa.Column('declared_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.Column('chain_head_seq', sa.Integer(), nullable=False),
    sa.Column('chain_head_hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint("outcome IN ('adopt', 'iterate', 'revisit_problem', 'stop')", name=op.f('ck_decision_outcome_known')),
    sa.ForeignKeyConstraint(['declared_by'], ['person.id'], name=op.f('fk_decision_declared_by_person')),
    sa.ForeignKeyConstraint(['pilot_id'], ['pilot.id'], name=op.f('fk_decision_pilot_id_pilot')),
    sa.ForeignKeyConstraint(['vote_id'], ['vote.id'], name=op.f('fk_decision_vote_id_vote')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision')),
    sa.UniqueConstraint('vote_id', name=op.f('uq_decision_vote_id'))
    )
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_pilot_id'), ['pilot_id'], unique=False)

    op.create_table('vote_eligibility',
    sa.Column('vote_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('voting_group', sa.String(length=20), nullable=False),
    sa.CheckConstraint("voting_group IN ('frontline', 'commissioning', 'steering')", name=op.f('ck_vote_eligibility_group_known')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_vote_eligibility_person_id_person')),
    sa.ForeignKeyConstraint(['vote_id'], ['vote.id'], name=op.f('fk_vote_eligibility_vote_id_vote')),
    sa.PrimaryKeyConstraint('vote_id', 'person_id', name=op.f('pk_vote_eligibility'))
    )
    with op.batch_alter_table('vote_eligibility', schema=None) as batch_op:
        batch_op.create_index('ix_vote_eligibility_person', ['person_id'], unique=False)

    op.create_table('claim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pilot_id', sa.Integer(), nullable=False),
    sa.Column('made_by', sa.Integer(), nullable=False),
    sa.Column('made_at', governance.storage.models.UtcDateTime(), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('asserts_success', sa.Boolean(), nullable=False),
    sa.Column('citations_json', sa.Text(), nullable=False),
    sa.Column('checks_json', sa.Text(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['decision_id'], ['decision.id'], name=op.f('fk_claim_decision_id_decision')),
    sa.ForeignKeyConstraint(['made_by'], ['person.id'], name=op.f('fk_claim_made_by_person')),
    sa.ForeignKeyConstraint(['pilot_id'], ['pilot.id'], name=op.f('fk_claim_pilot_id_pilot')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim'))
    )
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_pilot_id'), ['pilot_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_pilot_id'))

    op.drop_table('claim')
    with op.batch_alter_table('vote_eligibility', schema=None) as batch_op:
        batch_op.drop_index('ix_vote_eligibility_person')

    op.drop_table('vote_eligibility')
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_pilot_id'))

    op.drop_table('decision')
    op.drop_table('criteria_lock')
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.drop_index('uq_ballot_current', sqlite_where=sa.text('is_current'), postgresql_where=sa.text('is_current'))
        batch_op.drop_index('ix_ballot_vote_current')

    op.drop_table('ballot')
    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.drop_index('ix_vote_status_deadline')
        batch_op.drop_index('ix_vote_pilot')

    op.drop_table('vote')
    op.drop_table('usage_week')
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.drop_index('uq_survey_response_current', sqlite_where=sa.text('is_current'), postgresql_where=sa.text('is_current'))
        batch_op.drop_index('ix_survey_response_round_current')
        batch_op.drop_index('ix_survey_response_person')

    op.drop_table('survey_response')
    with op.batch_alter_table('measurement', schema=None) as batch_op:
        batch_op.drop_index('ix_measurement_pilot')
        batch_op.drop_index('ix_measurement_metric_date')
        batch_op.drop_index('ix_measurement_criterion_date')

    op.drop_table('measurement')
    with op.batch_alter_table('amendment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_amendment_metric_id'))
        batch_op.drop_index(batch_op.f('ix_amendment_criterion_id'))

    op.drop_table('amendment')
    op.drop_table('survey_round')
    with op.batch_alter_table('source_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_source_file_pilot_id'))

    op.drop_table('source_file')
    with op.batch_alter_table('roster_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_roster_entry_person')

    op.drop_table('roster_entry')
    op.drop_table('readiness_waiver')
    op.drop_table('readiness_record')
    op.drop_table('problem_reopening')
    with op.batch_alter_table('pilot_team_member', schema=None) as batch_op:
        batch_op.drop_index('ix_pilot_team_member_person')

    op.drop_table('pilot_team_member')
    with op.batch_alter_table('feedback_item', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_item_pilot')
        batch_op.drop_index('ix_feedback_item_open_due')

    op.drop_table('feedback_item')
    with op.batch_alter_table('commissioning_metric', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commissioning_metric_pilot_id'))

    op.drop_table('commissioning_metric')
    with op.batch_alter_table('pilot', schema=None) as batch_op:
        batch_op.drop_index('ix_pilot_state')
        batch_op.drop_index('ix_pilot_problem')

    op.drop_table('pilot')
    with op.batch_alter_table('criterion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_criterion_problem_version_id'))

    op.drop_table('criterion')
    op.drop_table('problem_version')
    with op.batch_alter_table('problem_comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_problem_comment_problem_id'))

    op.drop_table('problem_comment')
    with op.batch_alter_table('problem', schema=None) as batch_op:
        batch_op.drop_index('ix_problem_panel_state')

    op.drop_table('problem')
    with op.batch_alter_table('panel_membership', schema=None) as batch_op:
        batch_op.drop_index('ix_panel_membership_person')

    op.drop_table('panel_membership')
    op.drop_table('person_role')
    op.drop_table('panel')
    op.drop_table('charter')
    op.drop_table('programme')
    op.drop_table('person')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_occurred_at')
        batch_op.drop_index('ix_audit_event_entity')
        batch_op.drop_index('ix_audit_event_actor')
        batch_op.drop_index('ix_audit_event_action')

    op.drop_table('audit_event')
    op.drop_table('audit_chain_head')
