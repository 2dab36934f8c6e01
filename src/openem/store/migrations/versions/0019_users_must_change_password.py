"""users: a password given by someone else (a reset, the demo's one-off passwords) must be changed at the next
sign-in

Revision ID: 0019
Revises: 0028
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("must_change_password")
