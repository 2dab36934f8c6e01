"""crime matching: batches, row errors, crimes and versions, match runs, matches, evidence

Revision ID: 0017
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crime_batches",
        sa.Column("batch_key", sa.String(length=40), primary_key=True, nullable=False),
        sa.Column("force", sa.String(length=40), nullable=False),
        sa.Column("batch_id", sa.String(length=60), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("sender", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.String(length=80), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("new_versions", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("file_errors", sa.JSON(), nullable=False),
    )
    op.create_index("ix_crime_batches_received_at", "crime_batches", ['received_at'], unique=False)
    op.create_index("ix_crime_batches_force", "crime_batches", ['force'], unique=False)
    op.create_table(
        "crime_row_errors",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True, nullable=False),
        sa.Column("batch_key", sa.String(length=40), sa.ForeignKey("crime_batches.batch_key"), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=300), nullable=False),
    )
    op.create_index("ix_crime_row_errors_batch_key", "crime_row_errors", ['batch_key'], unique=False)
    op.create_table(
        "crimes",
        sa.Column("crime_key", sa.String(length=100), primary_key=True, nullable=False),
        sa.Column("force", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=60), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("first_received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_crimes_force", "crimes", ['force'], unique=False)
    op.create_table(
        "crime_versions",
        sa.Column("version_key", sa.String(length=40), primary_key=True, nullable=False),
        sa.Column("crime_key", sa.String(length=100), sa.ForeignKey("crimes.crime_key"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("batch_key", sa.String(length=40), sa.ForeignKey("crime_batches.batch_key"), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("crime_type", sa.String(length=8), nullable=False),
        sa.Column("date_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("date_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("easting", sa.Float(), nullable=True),
        sa.Column("northing", sa.Float(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("changed", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_crime_versions_batch_key", "crime_versions", ['batch_key'], unique=False)
    op.create_index("ix_crime_versions_crime_key", "crime_versions", ['crime_key'], unique=False)
    op.create_table(
        "crime_match_runs",
        sa.Column("run_key", sa.String(length=40), primary_key=True, nullable=False),
        sa.Column("batch_key", sa.String(length=40), nullable=False),
        sa.Column("algorithm", sa.String(length=40), nullable=False),
        sa.Column("policy_version", sa.String(length=40), nullable=False),
        sa.Column("trigger", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("timings", sa.JSON(), nullable=False),
        sa.Column("crimes", sa.Integer(), nullable=False),
        sa.Column("matches", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.Column("started_by", sa.String(length=80), nullable=False),
    )
    op.create_index("ix_crime_match_runs_batch_key", "crime_match_runs", ['batch_key'], unique=False)
    op.create_table(
        "crime_matches",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True, nullable=False),
        sa.Column("run_key", sa.String(length=40), sa.ForeignKey("crime_match_runs.run_key"), nullable=False),
        sa.Column("version_key", sa.String(length=40), sa.ForeignKey("crime_versions.version_key"), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("pass_label", sa.String(length=8), nullable=False),
        sa.Column("closest_m", sa.Float(), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confidence", sa.String(length=10), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_crime_matches_person", "crime_matches", ['person_id'], unique=False)
    op.create_index("ix_crime_matches_run_key", "crime_matches", ['run_key'], unique=False)
    op.create_index("ix_crime_matches_version_key", "crime_matches", ['version_key'], unique=False)
    op.create_table(
        "crime_evidence",
        sa.Column("evidence_key", sa.String(length=40), primary_key=True, nullable=False),
        sa.Column("match_id", sa.Integer(), sa.ForeignKey("crime_matches.id"), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=80), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_crime_evidence_match_id", "crime_evidence", ['match_id'], unique=False)


def downgrade() -> None:
    op.drop_table("crime_evidence")
    op.drop_table("crime_matches")
    op.drop_table("crime_match_runs")
    op.drop_table("crime_versions")
    op.drop_table("crimes")
    op.drop_table("crime_row_errors")
    op.drop_table("crime_batches")
