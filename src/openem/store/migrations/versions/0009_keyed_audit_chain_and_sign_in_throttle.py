"""keyed audit chain (key id per row, sealed boundary of the unkeyed rows) and the sign-in throttle

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-01 22:30:00

Rows already in the log keep their unkeyed sha256 digest: the boundary (the head now) is sealed with the audit
key, so `openem audit verify` checks them with the old digest up to there and with the key after. Sealing
needs the key: in production set OPENEM_AUDIT_KEY before upgrading (decision 0016, docs/security.md).
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=40), nullable=True))
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.add_column(sa.Column("legacy_until", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                                      server_default="0", nullable=False))
        batch_op.add_column(sa.Column("legacy_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("legacy_key_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("legacy_seal", sa.String(length=64), nullable=True))
    op.create_table(
        "auth_throttle",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.Column("last_locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_auth_throttle")),
    )
    _seal_existing_rows()


def _seal_existing_rows() -> None:
    """The head row always exists from now on (writers lock it); rows already written become the sealed
    unkeyed part of the chain."""
    bind = op.get_bind()
    head = sa.table("audit_head", sa.column("id"), sa.column("seq"), sa.column("hash"), sa.column("legacy_until"),
                    sa.column("legacy_hash"), sa.column("legacy_key_id"), sa.column("legacy_seal"))
    found = bind.execute(sa.select(head.c.seq, head.c.hash).where(head.c.id == 1)).first()
    if found is None:
        op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS, "legacy_until": 0}])
        return
    if not found.seq:
        return
    from openem.auth.audit_digest import seal_message
    from openem.auth.audit_keys import load_keyring
    from openem.auth.audit_trust import settings_for

    settings = settings_for(bind.engine.url.render_as_string(hide_password=False))
    keys = load_keyring(settings.audit_key, settings.audit_key_file, create=not settings.production)
    bind.execute(head.update().where(head.c.id == 1).values(
        legacy_until=found.seq, legacy_hash=found.hash, legacy_key_id=keys.current_id,
        legacy_seal=keys.mac(keys.current_id, seal_message(found.seq, found.hash))))


def downgrade() -> None:
    op.drop_table("auth_throttle")
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.drop_column("legacy_seal")
        batch_op.drop_column("legacy_key_id")
        batch_op.drop_column("legacy_hash")
        batch_op.drop_column("legacy_until")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("key_id")
