"""devices: a change counter for activations, kept by the database (`activation_changes`, one row, bumped by
triggers on every INSERT, UPDATE and DELETE of `activations`, and TRUNCATE on PostgreSQL), so that the
activation probe reads one row instead of counting every activation on each ingested batch (issue 18)

On PostgreSQL the bump is a deferred constraint trigger that runs once a transaction, at its commit: the
counter's row lock is held only while the transaction commits, so concurrent writers of activations queue for
it briefly and never deadlock on it, and the new value becomes visible with the change itself. (A sequence or a
max(updated) column would not do: sequence values are handed out before commit, so a transaction committing
after one with a higher value would be missed, and a DELETE leaves nothing behind.) SQLite has one writer at a
time: a row trigger per statement kind.

Revision ID: 0028
Revises: 0029
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0029"
branch_labels = None
depends_on = None

_PG_FUNCTION = """
CREATE FUNCTION openem_activation_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- once a transaction: the first of its deferred row events bumps, the others see the marker and return
    IF current_setting('openem.activation_changes_xact', true) IS DISTINCT FROM txid_current()::text THEN
        PERFORM set_config('openem.activation_changes_xact', txid_current()::text, true);
        UPDATE activation_changes SET changes = changes + 1 WHERE id = 1;
    END IF;
    RETURN NULL;
END
$$
"""
_PG_TRIGGERS = (
    "CREATE CONSTRAINT TRIGGER activation_changed AFTER INSERT OR UPDATE OR DELETE ON activations"
    " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION openem_activation_changed()",
    "CREATE TRIGGER activation_truncated AFTER TRUNCATE ON activations"
    " FOR EACH STATEMENT EXECUTE FUNCTION openem_activation_changed()",
)
_SQLITE_KINDS = ("insert", "update", "delete")


def upgrade() -> None:
    op.create_table(
        "activation_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("changes", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_activation_changes_one_row"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO activation_changes (id, changes) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for statement in _PG_TRIGGERS:
            op.execute(statement)
    else:
        for kind in _SQLITE_KINDS:
            op.execute(
                f"CREATE TRIGGER activation_changes_on_{kind} AFTER {kind.upper()} ON activations"
                " BEGIN UPDATE activation_changes SET changes = changes + 1 WHERE id = 1; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS activation_truncated ON activations")
        op.execute("DROP TRIGGER IF EXISTS activation_changed ON activations")
        op.execute("DROP FUNCTION IF EXISTS openem_activation_changed()")
    else:
        for kind in _SQLITE_KINDS:
            op.execute(f"DROP TRIGGER IF EXISTS activation_changes_on_{kind}")
    op.drop_table("activation_changes")
