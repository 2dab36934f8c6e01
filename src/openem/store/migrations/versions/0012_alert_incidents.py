"""alert incidents (triage)

Revision ID: 0012
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_incidents",
        sa.Column("incident_id", sa.String(length=40), primary_key=True),
        sa.Column("group_key", sa.String(length=200), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        sa.Column("order_ref", sa.String(length=40), nullable=False),
        sa.Column("situation", sa.String(length=120), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("needs_person", sa.Boolean(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assignee", sa.String(length=80), nullable=False),
        sa.Column("resolution", sa.String(length=40), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("episodes", sa.JSON(), nullable=False),
        sa.Column("decisions", sa.JSON(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
    )
    for col in ("group_key", "person_id", "state", "needs_person", "priority"):
        op.create_index(f"ix_alert_incidents_{col}", "alert_incidents", [col])


def downgrade() -> None:
    op.drop_table("alert_incidents")
