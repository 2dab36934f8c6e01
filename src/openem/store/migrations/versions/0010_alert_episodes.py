"""alert episodes: every alert opens an episode that rules update and close (decision 0020)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 06:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_episodes",
        sa.Column("episode_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        sa.Column("order_ref", sa.String(length=40), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("condition_id", sa.String(length=80), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("closed_reason", sa.String(length=20), nullable=True),
        sa.Column("confidence", sa.String(length=10), nullable=False),
        sa.Column("measure", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("episode_id", name=op.f("pk_alert_episodes")),
    )
    op.create_index(op.f("ix_alert_episodes_kind"), "alert_episodes", ["kind"])
    op.create_index(op.f("ix_alert_episodes_person_id"), "alert_episodes", ["person_id"])
    op.create_index(op.f("ix_alert_episodes_order_ref"), "alert_episodes", ["order_ref"])
    op.create_index(op.f("ix_alert_episodes_state"), "alert_episodes", ["state"])
    op.create_index("ix_alert_episodes_order_start", "alert_episodes", ["order_ref", "start"])


def downgrade() -> None:
    op.drop_table("alert_episodes")
