"""Alembic migrations, run programmatically (`openem db upgrade`). The same migrations run on SQLite and
PostgreSQL; the revision scripts live in `store/migrations/versions/`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from openem.store.db import normalise_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def current_heads(url: str) -> set[str]:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn)
        heads = set(ctx.get_current_heads())
    engine.dispose()
    return heads
