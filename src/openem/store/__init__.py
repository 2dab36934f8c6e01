"""Storage: database engine (SQLite embedded default, PostgreSQL in production), migrations, unit of work,
and the trail lake (Parquet)."""
