"""order match keys: the duplicate-check index (identifiers and date of birth per order version)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 09:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_match_keys",
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("ref", "version", "key", name=op.f("pk_order_match_keys")),
    )
    with op.batch_alter_table("order_match_keys", schema=None) as batch_op:
        batch_op.create_index("ix_order_match_keys_key", ["key"], unique=False)
    # Index the versions already stored (the keys are a pure function of each version's document).
    from openem.orders.rules.duplicates import match_keys

    bind = op.get_bind()
    versions = sa.table("order_versions", sa.column("ref"), sa.column("version"), sa.column("document", sa.JSON))
    keys = sa.table("order_match_keys", sa.column("ref"), sa.column("version"), sa.column("key"))
    rows = [{"ref": ref, "version": version, "key": k}
            for ref, version, document in bind.execute(sa.select(versions.c.ref, versions.c.version, versions.c.document))
            for k in sorted(match_keys(document or {}))]  # fmt: skip
    if rows:
        op.bulk_insert(keys, rows)


def downgrade() -> None:
    with op.batch_alter_table("order_match_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_order_match_keys_key")
    op.drop_table("order_match_keys")
