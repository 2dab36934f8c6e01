"""field: officers' trainings, what a visit needs of its officers, photos of fitted equipment

Revision ID: 0021
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "field_visits", sa.Column("needs_skill", sa.String(length=20), nullable=False, server_default="")
    )
    op.add_column(
        "field_visits", sa.Column("officers_needed", sa.Integer(), nullable=False, server_default="1")
    )
    op.create_table(
        "field_officers",
        sa.Column("officer", sa.String(length=80), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("officer"),
    )
    op.create_table(
        "field_attempt_photos",
        sa.Column("photo_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.String(length=60), nullable=False),
        sa.Column("media_type", sa.String(length=20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=80), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("photo_id"),
    )
    op.create_index("ix_field_attempt_photos_attempt_id", "field_attempt_photos", ["attempt_id"])
    op.create_index("ix_field_attempt_photos_visit_id", "field_attempt_photos", ["visit_id"])


def downgrade() -> None:
    op.drop_index("ix_field_attempt_photos_visit_id", table_name="field_attempt_photos")
    op.drop_index("ix_field_attempt_photos_attempt_id", table_name="field_attempt_photos")
    op.drop_table("field_attempt_photos")
    op.drop_table("field_officers")
    op.drop_column("field_visits", "officers_needed")
    op.drop_column("field_visits", "needs_skill")
