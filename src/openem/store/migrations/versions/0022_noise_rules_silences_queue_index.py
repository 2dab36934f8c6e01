"""noise rules and silences as data; queue and per-wearer incident indexes (triage, issue 12)

Revision ID: 0022
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_noise_rules",
        sa.Column("rule_id", sa.String(length=60), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("match", sa.JSON(), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("window_minutes", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("author", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "alert_silences",
        sa.Column("silence_id", sa.String(length=40), primary_key=True),
        sa.Column("match", sa.JSON(), nullable=False),
        sa.Column("starts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_by", sa.String(length=80), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_alert_silences_ends", "alert_silences", ["ends"])
    op.create_index(
        "ix_alert_incidents_queue",
        "alert_incidents",
        ["needs_person", sa.text("priority DESC"), "opened_at", "incident_id"],
    )
    op.create_index("ix_alert_incidents_assignee", "alert_incidents", ["assignee", "needs_person"])
    op.create_index("ix_alert_incidents_person_key", "alert_incidents", ["person_id", "group_key"])


def downgrade() -> None:
    op.drop_index("ix_alert_incidents_person_key", "alert_incidents")
    op.drop_index("ix_alert_incidents_assignee", "alert_incidents")
    op.drop_index("ix_alert_incidents_queue", "alert_incidents")
    op.drop_table("alert_silences")
    op.drop_table("alert_noise_rules")
