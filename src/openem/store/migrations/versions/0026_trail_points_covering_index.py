"""telemetry: a covering index for a person's trail (issue 15: a 90-day trail read from the index alone)

Revision ID: 0026
Revises: 0018
"""

from alembic import op

revision = "0026"
down_revision = "0021"
branch_labels = None
depends_on = None

COLUMNS = ["person_id", "device_time", "seq", "device_id", "lat", "lon", "accuracy_m"]


def upgrade() -> None:
    op.create_index("ix_trail_person_time_cover", "trail_points", COLUMNS, unique=False)
    op.drop_index("ix_trail_person_time", table_name="trail_points")


def downgrade() -> None:
    op.create_index("ix_trail_person_time", "trail_points", ["person_id", "device_time"], unique=False)
    op.drop_index("ix_trail_person_time_cover", table_name="trail_points")
