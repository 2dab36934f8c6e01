"""insights: practitioner notes about a person

Revision ID: 0018
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "insights_person_notes",
        sa.Column("note_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        sa.Column("order_ref", sa.String(length=40), nullable=False),
        sa.Column("author", sa.String(length=80), nullable=False),
        sa.Column("author_name", sa.String(length=120), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("note_id", name=op.f("pk_insights_person_notes")),
    )
    op.create_index(
        "ix_insights_person_notes_person", "insights_person_notes", ["person_id", "written_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_insights_person_notes_person", table_name="insights_person_notes")
    op.drop_table("insights_person_notes")
