"""PostgreSQL COPY ingest: stores what the INSERT path stores, and a resent batch is all duplicates."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from openem.core.time import iso
from openem.telemetry.ingest import ingest_batch
from openem.telemetry.tables import TelemetryMessageRow

pytestmark = pytest.mark.postgres


def _batch(device, n, t0):
    return json.dumps([
        {"v": 1, "device_id": device, "seq": i, "type": "gps", "device_time": iso(t0 + timedelta(seconds=i)),
         "payload": {"lat": 53.8, "lon": -1.55, "accuracy_m": 8.0, "source": "GPS"}}
        for i in range(n)
    ]).encode()  # fmt: skip


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_copy_path_stores_once_and_counts_resends_as_duplicates(db):
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    with db.uow() as uow:
        first = ingest_batch(uow.session, _batch("copy-1", 120, t0), source="http", copy=True)
    with db.uow() as uow:
        again = ingest_batch(uow.session, _batch("copy-1", 130, t0), source="http", copy=True)
    with db.uow() as uow:
        plain = ingest_batch(uow.session, _batch("copy-2", 120, t0), source="http", copy=False)
    assert (len(first.accepted), first.duplicates) == (120, 0)
    assert (len(again.accepted), again.duplicates) == (10, 120)
    with db.sessions() as s:

        def stored(dev):
            q = select(TelemetryMessageRow).where(
                TelemetryMessageRow.device_id == dev, TelemetryMessageRow.seq == 5
            )
            return s.scalars(q).one()

        a, b = stored("copy-1"), stored("copy-2")
        assert (a.payload, a.flags, a.device_time) == (b.payload, b.flags, b.device_time)
        n = s.scalar(
            select(func.count())
            .select_from(TelemetryMessageRow)
            .where(TelemetryMessageRow.device_id == "copy-1")
        )
        assert n == 130 and len(plain.accepted) == 120
