"""engine checkpoint deltas: incremental checkpoints after each partition's full one (decision 0033)

Revision ID: 0029
Revises: 0030
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "engine_checkpoint_deltas",
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("delta", sa.JSON(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("partition", "n", name=op.f("pk_engine_checkpoint_deltas")),
    )


def downgrade() -> None:
    op.drop_table("engine_checkpoint_deltas")
