"""The migrations build exactly the schema the table classes describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from openem.wiring import load_all_tables


def test_a_migrated_database_has_every_table_column_and_index_of_the_models(db_url) -> None:
    metadata = load_all_tables()
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": False})
            diff = compare_metadata(ctx, metadata)
    finally:
        engine.dispose()
    # PostGIS brings its own tables; only openem's own are compared.
    ours = {t.name for t in metadata.sorted_tables}
    drift = [d for d in diff if _table_of(d) in ours or _table_of(d) is None]
    assert drift == []


def _table_of(item) -> str | None:  # noqa: ANN001
    op = item[0] if isinstance(item, list) else item
    for part in op[1:] if isinstance(op, tuple) else ():
        if isinstance(part, sa.Table):
            return part.name
        if isinstance(part, sa.Index | sa.Column) and part.table is not None:
            return part.table.name
        if isinstance(part, str):
            return part
    return None
