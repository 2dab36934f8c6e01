"""an index on activations.end, so that the activation probe (how many activations have ended) is an index
search and not a read of every activation on each ingested batch (issue 18)

Revision ID: 0023
Revises: 0018
"""

from alembic import op

revision = "0023"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_activations_end", "activations", ["end"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_activations_end", table_name="activations")
