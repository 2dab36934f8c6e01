"""field and stock: address checks, contract rule, install at source, appointments, re-plans; device holder

Revision ID: 0020
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0016"
branch_labels = None
depends_on = None

_VISIT_COLUMNS = [
    ("postcode", sa.String(length=12), ""),
    ("address_check", sa.String(length=20), ""),
    ("address_message", sa.String(length=200), ""),
    ("location", sa.String(length=20), "HOME"),
    ("rule", sa.String(length=10), "ADULT"),
    ("appointment_by", sa.String(length=80), ""),
    ("reminders_sent", sa.String(length=40), ""),
]


def upgrade() -> None:
    with op.batch_alter_table("field_visits", schema=None) as batch_op:
        for name, type_, default in _VISIT_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=False, server_default=default))
        batch_op.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("appointment_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holder", sa.String(length=80), nullable=False, server_default=""))
    op.create_table(
        "field_replans",
        sa.Column("replan_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("officer", sa.String(length=80), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("visits", sa.JSON(), nullable=False),
        sa.Column("unplanned", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("replan_id", name=op.f("pk_field_replans")),
    )
    op.create_index(op.f("ix_field_replans_officer"), "field_replans", ["officer"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_field_replans_officer"), table_name="field_replans")
    op.drop_table("field_replans")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_column("holder")
    with op.batch_alter_table("field_visits", schema=None) as batch_op:
        batch_op.drop_column("appointment_at")
        batch_op.drop_column("priority")
        for name, _, _ in reversed(_VISIT_COLUMNS):
            batch_op.drop_column(name)
