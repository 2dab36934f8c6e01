"""A breach for a restriction-zone visit (CEMO's restriction zones are judged as exclusion zones and raise
`exclusion_entry`): the pack names the restriction zone in the order's conditions, says a restriction zone was
entered and labels the zone on its map as a restriction zone."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from html import unescape

from openem.alerts import queries as alert_queries
from openem.alerts.service import act_on_incident, on_alert_for_triage
from openem.breaches import queries
from openem.core.time import iso

from .conftest import load, order_doc, pump


def test_a_restriction_zone_breach_pack_shows_the_restriction_zone(db):
    doc = order_doc("ORD-BRRZ0001", "PER-BR-RZ", "COMMUNITY")
    zone = {**doc["conditions"].pop("exclusion_zones")[0], "id": "RZ1", "name": "Former partner's street"}
    doc["conditions"]["restriction_zones"] = [zone]
    load(db, doc)
    start = datetime.now(UTC) - timedelta(minutes=30)
    with db.uow() as uow:
        on_alert_for_triage({"alert_id": "A-RZ", "kind": "exclusion_entry", "severity": "HIGH",
                             "person_id": "PER-BR-RZ", "order_ref": "ORD-BRRZ0001", "device_id": "DEV-1",
                             "condition_id": "RZ1", "start": iso(start), "end": iso(start + timedelta(minutes=9)),
                             "detected_at": iso(start + timedelta(minutes=2)), "evidence": []}, uow)  # fmt: skip
        [inc] = alert_queries.incident_queue(uow.session, include_all=True)
        if inc["state"] not in ("escalated", "confirmed"):
            act_on_incident(uow, inc["incident_id"], inc["row_version"], "demo-mc-operator", "escalate",
                            "other", note="Seen on the map")  # fmt: skip
    pump(db)
    with db.uow() as uow:
        [b] = queries.breaches_where(uow.session)
        html = unescape(queries.pack_file(uow.session, b["breach_id"], None, "html")[0].decode())
        pack = json.loads(queries.pack_file(uow.session, b["breach_id"], None, "json")[0])
    assert "Restriction zone: Former partner's street" in pack["order"]["conditions"]
    assert pack["summary"]["headline"] == "Entered a restriction zone"
    drawn = html.split("<svg", 1)[1].split("</svg>")[0]
    assert "Restriction zone: Former partner's street" in drawn
