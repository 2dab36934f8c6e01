"""field: where each address of an order is (pins placed from the postcode, corrected by the order's creator)

Revision ID: 0025
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "field_address_pins",
        sa.Column("order_ref", sa.String(length=40), nullable=False),
        sa.Column("address_type", sa.String(length=20), nullable=False),
        sa.Column("postcode", sa.String(length=12), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("check", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("message", sa.String(length=200), nullable=False),
        sa.Column("corrected_by", sa.String(length=80), nullable=False),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_ref", "address_type"),
    )


def downgrade() -> None:
    op.drop_table("field_address_pins")
