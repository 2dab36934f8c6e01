"""field: officers' regions and two-officer partners for a region's day; devices: stock moves between depots

Revision ID: 0030
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "field_officers", sa.Column("region", sa.String(length=40), nullable=False, server_default="")
    )
    op.add_column(
        "field_visits", sa.Column("partner", sa.String(length=80), nullable=False, server_default="")
    )
    op.create_table(
        "device_transfers",
        sa.Column("transfer_id", sa.String(length=40), nullable=False),
        sa.Column("from_depot", sa.String(length=40), nullable=False),
        sa.Column("to_depot", sa.String(length=40), nullable=False),
        sa.Column("devices", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("sent_by", sa.String(length=80), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.String(length=80), nullable=False, server_default=""),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("transfer_id"),
    )
    op.create_index("ix_device_transfers_status", "device_transfers", ["status"])


def downgrade() -> None:
    op.drop_index("ix_device_transfers_status", table_name="device_transfers")
    op.drop_table("device_transfers")
    op.drop_column("field_visits", "partner")
    op.drop_column("field_officers", "region")
