"""device lifecycle events, depot, field visits and attempts

Revision ID: 0014
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("depot", sa.String(length=40), nullable=False, server_default=""))
    op.create_table(
        "device_events",
        sa.Column("event_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=False),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_device_events")),
    )
    op.create_index(op.f("ix_device_events_device_id"), "device_events", ["device_id"], unique=False)
    op.create_table(
        "field_visits",
        sa.Column("visit_id", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("order_ref", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("officer", sa.String(length=80), nullable=False),
        sa.Column("planned_for", sa.String(length=10), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_outcome", sa.String(length=20), nullable=False),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.Column("last_reminder_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("visit_id", name=op.f("pk_field_visits")),
    )
    op.create_index(op.f("ix_field_visits_order_ref"), "field_visits", ["order_ref"], unique=False)
    op.create_index(op.f("ix_field_visits_officer"), "field_visits", ["officer"], unique=False)
    op.create_index("ix_field_visits_status_kind", "field_visits", ["status", "kind"], unique=False)
    op.create_table(
        "field_attempts",
        sa.Column("attempt_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("visit_id", sa.String(length=60), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("officer", sa.String(length=80), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("attempt_id", name=op.f("pk_field_attempts")),
    )
    op.create_index(op.f("ix_field_attempts_visit_id"), "field_attempts", ["visit_id"], unique=False)


def downgrade() -> None:
    op.drop_table("field_attempts")
    op.drop_table("field_visits")
    op.drop_table("device_events")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_column("depot")
