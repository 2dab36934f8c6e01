"""Alembic environment: the metadata of every capability's tables (collected in openem.wiring)."""

from typing import Any

from alembic import context
from sqlalchemy import create_engine, pool

from openem.wiring import load_all_tables

target_metadata = load_all_tables()
config = context.config


def render_item(type_: str, obj: Any, autogen_context: Any) -> Any:
    """Render openem's column types as their plain SQLAlchemy equivalents, so revisions import nothing of ours."""
    from openem.store.types import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("alembic: no sqlalchemy.url (openem.store.migrate sets it)")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
