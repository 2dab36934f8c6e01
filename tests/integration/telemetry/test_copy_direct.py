"""PostgreSQL's straight COPY (decision 0032's follow-up): a fitted wearer's batch is stored with its trail exactly as the
INSERT path stores it, text with COPY's special characters arrives intact, and a resend (also one racing the
original's transaction) is stored once and reported as duplicates."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, text

from openem.core.time import iso
from openem.devices.tables import ActivationRow
from openem.telemetry.ingest import ActivationIndex, ingest_batch
from openem.telemetry.tables import TelemetryMessageRow, TrailPointRow

pytestmark = pytest.mark.postgres
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def _fit(db, *devices):
    with db.uow() as uow:
        uow.session.execute(insert(ActivationRow), [
            {"activation_id": f"ACT-{d}", "device_id": d, "device_kind": "GPS_TAG", "order_ref": f"ORD-{d}",
             "person_id": f"PER-{d}", "role": "WEARER", "start": T0 - timedelta(days=1), "end": None}
            for d in devices
        ])  # fmt: skip


def _batch(device, seqs, tag="tag-1"):
    out = []
    for i in seqs:
        if i % 2:
            out.append({"v": 1, "device_id": device, "seq": i, "type": "rf", "device_time": iso(T0 + timedelta(seconds=i)),
                        "payload": {"present": True, "tag_id": tag}})  # fmt: skip
        else:
            out.append({"v": 1, "device_id": device, "seq": i, "type": "gps", "device_time": iso(T0 + timedelta(seconds=i)),
                        "payload": {"lat": 53.8 + i * 1e-5, "lon": -1.55, "accuracy_m": 8.5, "source": "GPS"}})  # fmt: skip
    return json.dumps(out).encode()


def _stored(db, device):
    with db.sessions() as s:
        msgs = s.scalars(select(TelemetryMessageRow).where(TelemetryMessageRow.device_id == device)).all()
        trail = s.scalars(select(TrailPointRow).where(TrailPointRow.device_id == device)).all()
        return (
            {m.seq: (m.type, m.device_time, m.payload, m.flags, m.activation_id, m.person_id) for m in msgs},
            {t.seq: (t.person_id, t.activation_id, t.device_time, t.lat, t.lon, t.accuracy_m) for t in trail},
        )


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_copy_stores_what_insert_stores_trail_and_awkward_text_included(db):
    awkward = 'back\\slash\ttab "quote" \u00e9\u4e2d'
    _fit(db, "cp-a", "cp-b")
    index = ActivationIndex()
    with db.uow() as uow:
        copied = ingest_batch(
            uow.session, _batch("cp-a", range(200), awkward), source="http", copy=True, index=index
        )
    with db.uow() as uow:
        inserted = ingest_batch(
            uow.session, _batch("cp-b", range(200), awkward), source="http", copy=False, index=index
        )
    assert (len(copied.accepted), copied.duplicates, copied.no_activation) == (200, 0, 0)
    assert len(inserted.accepted) == 200
    a_msgs, a_trail = _stored(db, "cp-a")
    b_msgs, b_trail = _stored(db, "cp-b")
    assert len(a_msgs) == 200 and len(a_trail) == 100
    assert a_msgs[1][2]["tag_id"] == awkward
    assert {k: v[:4] for k, v in a_msgs.items()} == {k: v[:4] for k, v in b_msgs.items()}
    assert a_msgs[0][4:] == ("ACT-cp-a", "PER-cp-a")
    assert {k: v[2:] for k, v in a_trail.items()} == {k: v[2:] for k, v in b_trail.items()}


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_resend_is_stored_once_and_its_new_fixes_get_their_trail(db):
    _fit(db, "cp-r")
    index = ActivationIndex()
    with db.uow() as uow:
        first = ingest_batch(uow.session, _batch("cp-r", range(100)), source="http", copy=True, index=index)
    with db.uow() as uow:
        again = ingest_batch(uow.session, _batch("cp-r", range(120)), source="http", copy=True, index=index)
    assert (len(first.accepted), len(again.accepted), again.duplicates) == (100, 20, 100)
    msgs, trail = _stored(db, "cp-r")
    assert sorted(msgs) == list(range(120)) and sorted(trail) == list(range(0, 120, 2))


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_resend_racing_the_original_is_stored_once(db):
    _fit(db, "cp-x")
    body = _batch("cp-x", range(100))
    results = []
    with db.uow() as uow:
        results.append(ingest_batch(uow.session, body, source="http", copy=True))
        # the same batch from a second gateway while the first's transaction is open: it waits on the keys
        racer = threading.Thread(target=lambda: results.append(_ingest(db, body)))
        racer.start()
        _until_waiting_on_a_lock(db)
    racer.join()
    assert sorted((len(r.accepted), r.duplicates) for r in results) == [(0, 100), (100, 0)]
    msgs, trail = _stored(db, "cp-x")
    assert len(msgs) == 100 and len(trail) == 50


def _until_waiting_on_a_lock(db):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with db.sessions() as s:
            if s.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")):
                return
    raise AssertionError("the second gateway's batch never waited on the first's keys")


def _ingest(db, body):
    with db.uow() as uow:
        return ingest_batch(uow.session, body, source="http", copy=True)
