"""A small hand-made world for the partition-worker tests: orders with or without an exclusion zone, GPS
tags, fixes at home or in the zone (never the simulator's people: no personal data)."""

import dataclasses
import json
import math
import os
from datetime import timedelta

from openem.core.time import iso, utcnow
from openem.devices.service import activate
from openem.orders import lifecycle
from openem.orders.model import RequestType
from openem.orders.repository import SqlOrderRepository
from openem.telemetry.ingest import ingest_batch

HOME = (53.800, -1.550)  # Leeds-ish


def nats_url() -> str:
    """The test NATS server's address: a failure in CI, a skip on a machine without one."""
    import pytest

    url = os.environ.get("OPENEM_TEST_NATS_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("OPENEM_TEST_NATS_URL not set")
        pytest.skip("no nats-server: run scripts/test.sh")
    return url


# ---- a small hand-made world -------------------------------------------------------------------------
def offset(north_m: float, east_m: float = 0.0) -> tuple[float, float]:
    lat, lon = HOME
    return lat + north_m / 111_320.0, lon + east_m / (111_320.0 * math.cos(math.radians(lat)))


ZONE = offset(1500)  # the centre of the exclusion zone: 1.5 km north of home


def zone(zone_id="Z1"):
    lat, lon = ZONE
    ring = [
        offset(1500 + dy, dx) for dx, dy in ((-200, -200), (200, -200), (200, 200), (-200, 200), (-200, -200))
    ]
    return {
        "id": zone_id,
        "name": "Victim's street",
        "geometry": {"type": "Polygon", "coordinates": [[[lo, la] for la, lo in ring]]},
    }


def order_doc(person, zones=(), around=None):
    now = around or utcnow()
    return {
        "person_id": person,
        "conditions": {"exclusion_zones": list(zones)},
        "addresses": [
            {"type": "PRIMARY", "line1": "1 Test St", "postcode": "LS1 1AA", "lat": HOME[0], "lon": HOME[1]}
        ],
        "monitoring": {"start": iso(now - timedelta(days=2)), "end": iso(now + timedelta(days=30))},
    }


def add_order(db, ref, zones=(), device=None):
    at = utcnow() - timedelta(hours=1)
    person = "PER-" + ref
    with db.uow() as uow:
        record = lifecycle.new_draft(ref, order_doc(person, zones), "test", at, person)
        for action in ("submit", "accept", "activate"):
            record = lifecycle.apply(record, action, at)
        SqlOrderRepository(uow.session).add(record)
        if device:
            fit(uow.session, ref, device, at)


def fit(session, ref, device, at):
    activate(
        session,
        actor="test",
        activation={
            "activation_id": "ACT-" + device,
            "device_id": device,
            "device_kind": "GPS_TAG",
            "order_ref": ref,
            "person_id": "PER-" + ref,
            "start": at,
        },
    )


def vary(db, ref, at, zones):
    """Accept a variation of the order (as the orders service does) stamped `at`."""
    with db.uow() as uow:
        repo = SqlOrderRepository(uow.session)
        record = lifecycle.add_version(repo.get(ref), RequestType.VARIATION, "test", at)
        doc = {**record.latest.document, "conditions": {"exclusion_zones": list(zones)}}
        record = record.replace_latest(dataclasses.replace(record.latest, document=doc))
        for action in ("submit", "accept"):
            record = lifecycle.apply(record, action, at)
        repo.save(record)


def end(db, ref):
    with db.uow() as uow:
        repo = SqlOrderRepository(uow.session)
        repo.save(lifecycle.apply(repo.get(ref), "end", utcnow()))


class Device:
    def __init__(self, device_id):
        self.device_id, self.seq = device_id, 0

    def fixes(self, at, n, where, step_s=15):
        out = []
        for i in range(n):
            self.seq += 1
            lat, lon = where
            out.append(
                {
                    "v": 1,
                    "device_id": self.device_id,
                    "seq": self.seq,
                    "type": "gps",
                    "device_time": iso(at + timedelta(seconds=i * step_s)),
                    "payload": {"lat": lat, "lon": lon, "accuracy_m": 5.0, "source": "GPS"},
                }
            )
        return out


def send(db, pub, messages):
    """What the server does: store the batch, then publish its new messages to their partitions."""
    with db.uow() as uow:
        result = ingest_batch(uow.session, json.dumps(messages).encode(), source="test")
    assert len(result.accepted) == len(messages), result.rejections
    pub(result)
