"""outbox keys and parking: order per key, backoff, parked messages (decision 0014)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key", sa.String(length=120), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("retries", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_index("ix_outbox_key", ["key"], unique=False)
        batch_op.create_index("ix_outbox_parked_at", ["parked_at"], unique=False)
    # Key the rows still to be delivered (delivered rows are never ordered again, so they keep "").
    # Their failures so far were counted without a cap: start them afresh under the new one.
    from openem.bus.messages import key_of_payload

    bind = op.get_bind()
    outbox = sa.table("outbox", sa.column("seq"), sa.column("topic"), sa.column("payload", sa.JSON),
                      sa.column("delivered_at"), sa.column("key"), sa.column("attempts"))
    pending = bind.execute(sa.select(outbox.c.seq, outbox.c.topic, outbox.c.payload)
                           .where(outbox.c.delivered_at.is_(None))).all()
    for seq, topic, payload in pending:
        bind.execute(sa.update(outbox).where(outbox.c.seq == seq)
                     .values(key=key_of_payload(topic, payload or {}), attempts=0))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_parked_at")
        batch_op.drop_index("ix_outbox_key")
        batch_op.drop_column("retries")
        batch_op.drop_column("parked_at")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("key")
