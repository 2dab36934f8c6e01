"""Ingest resolves activations from memory, and a fitting committed before a message is always seen: the
in-memory index gives the activation the per-batch query gives, for every message."""

import json
from datetime import UTC, datetime, timedelta

from openem.core.time import iso
from openem.devices.service import activate
from openem.telemetry.ingest import ActivationIndex, ingest_batch


def _fix(device, seq, t):
    return {"v": 1, "device_id": device, "seq": seq, "type": "gps", "device_time": iso(t),
            "payload": {"lat": 53.8, "lon": -1.55, "accuracy_m": 8.0, "source": "GPS"}}  # fmt: skip


def _fit(db, act, device, start, end=None):
    with db.uow() as uow:
        activate(uow.session, actor="test", activation={"activation_id": act, "device_id": device,
                 "device_kind": "GPS_TAG", "order_ref": "ORD-" + act, "person_id": "PER-" + act,
                 "start": start, "end": end})  # fmt: skip


def test_the_index_follows_fittings_and_agrees_with_the_query(db):
    now = datetime.now(UTC).replace(microsecond=0)
    index = ActivationIndex()
    seq = iter(range(1, 10_000))

    def send(device, t, use_index=True):
        with db.uow() as uow:
            return ingest_batch(uow.session, json.dumps([_fix(device, next(seq), t)]).encode(), source="t",
                                index=index if use_index else None)  # fmt: skip

    first = send("DEV-A", now - timedelta(minutes=5))
    assert first.no_activation == 1
    _fit(db, "A1", "DEV-A", now - timedelta(hours=2), now - timedelta(hours=1))
    _fit(db, "A2", "DEV-A", now - timedelta(minutes=30))
    reloads = index.reloads
    at = [now - timedelta(minutes=90), now - timedelta(minutes=45), now - timedelta(minutes=5)]
    got = [send("DEV-A", t).activation_of for t in at]
    assert index.reloads == reloads + 1  # reloaded once, after the fittings; not again for the same state
    want = [send("DEV-A", t, use_index=False).activation_of for t in at]
    assert [list(g.values()) for g in got] == [list(w.values()) for w in want]
    assert [next(iter(g.values()), (None,))[0] for g in got] == ["A1", None, "A2"]
    _fit(db, "B1", "DEV-B", now - timedelta(minutes=10))  # fitted between two batches: seen by the next one
    assert list(send("DEV-B", now - timedelta(minutes=1)).activation_of.values())[0][0] == "B1"
