"""devices: phone enrolments (the SHA-256 of each phone's ingest token, revocable)

Revision ID: 0027
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_enrolments",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_device_enrolments")),
    )
    op.create_index(op.f("ix_device_enrolments_device_id"), "device_enrolments", ["device_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_device_enrolments_device_id"), table_name="device_enrolments")
    op.drop_table("device_enrolments")
