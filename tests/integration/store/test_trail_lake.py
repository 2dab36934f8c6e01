"""Trail history to Parquet partitioned by London date, read back with DuckDB (SQLite and PostgreSQL)."""

from datetime import UTC, date, datetime, timedelta

from openem.store.lake import day_bounds, export_trail, query_trail
from openem.telemetry.tables import TrailPointRow


def test_a_clock_change_day_is_25_hours():
    start, end = day_bounds(date(2026, 10, 25))
    assert end - start == timedelta(hours=25)


def test_export_a_day_and_query_a_persons_trail(db, tmp_path):
    # 25 October 2026 (clocks go back): London midnight is 23:00 UTC the day before
    base = datetime(2026, 10, 24, 23, 0, tzinfo=UTC)
    with db.uow() as uow:
        for i in range(0, 26 * 60, 30):  # every 30 min for 26 hours, from London midnight
            for person in ("PER-A", "PER-B"):
                uow.session.add(
                    TrailPointRow(
                        device_id=f"GPS-{person}",
                        seq=i,
                        person_id=person,
                        activation_id="ACT",
                        device_time=base + timedelta(minutes=i),
                        lat=53.8,
                        lon=-1.5,
                        accuracy_m=5,
                    )
                )
    with db.engine.connect() as conn:
        rows = export_trail(conn, TrailPointRow.__table__, tmp_path, date(2026, 10, 25))
    assert rows == 2 * 50  # 25 hours at 2 per hour for each of two people; the 26th hour is the next day
    assert (tmp_path / "date=2026-10-25" / "part-0.parquet").exists()
    trail = query_trail(tmp_path, "PER-A", base, base + timedelta(hours=3))
    assert trail.num_rows == 6
    assert set(trail.column("person_id").to_pylist()) == {"PER-A"}
    # exporting again rewrites the day rather than duplicating it
    with db.engine.connect() as conn:
        assert export_trail(conn, TrailPointRow.__table__, tmp_path, date(2026, 10, 25)) == 100
    assert query_trail(tmp_path, "PER-B", base, base + timedelta(days=2)).num_rows == 50
