"""A restriction-zone visit (CEMO's restriction zones are judged as exclusion zones and raise `exclusion_entry`)
on the incident page: the operator sees the restriction zone in the order's conditions, beside the episode it
is about and, named as a restriction zone, on the evidence map."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape
from typing import Any

from tests.integration.alerts.queue_world import HOME, add_order, alert

from openem.alerts import queries
from openem.alerts.service import on_alert_for_triage, store_alert
from openem.core.time import iso, utcnow

LAT, LON = HOME
STREET = {"type": "Polygon", "coordinates": [[[LON + 0.03, LAT], [LON + 0.032, LAT], [LON + 0.032, LAT + 0.002],
                                              [LON + 0.03, LAT + 0.002], [LON + 0.03, LAT]]]}  # fmt: skip


def test_a_restriction_zone_entry_shows_its_zone_on_the_incident_page(world: Any) -> None:
    add_order(world.db, "EM-R1", "PER-R1",
              restriction_zones=[{"id": "R1", "name": "Former partner's street", "geometry": STREET}])  # fmt: skip
    now = utcnow()
    with world.db.uow() as uow:
        on_alert_for_triage(alert("r-entry", "exclusion_entry", now - timedelta(minutes=20), person="PER-R1",
                                  order="EM-R1", condition_id="R1"), uow)  # fmt: skip
        [inc] = queries.incident_queue(uow.session, include_all=True)
    raw = world.signed_in("demo-mc-operator").get(f"/incidents/{inc['incident_id']}").text
    page = unescape(raw)
    conditions = page.split(">Conditions<")[1].split("</dd>")[0]
    assert "Restriction zone: Former partner's street" in conditions
    happened = page.split("What happened")[1].split("</ol>")[0]
    assert "Zone: Restriction zone: Former partner's street" in happened
    context = json.loads(unescape(re.search(r'data-context="([^"]*)"', raw).group(1)))
    assert context["zones"] == [{"kind": "restriction_zones", "name": "Restriction zone: Former partner's street",
                                 "geometry": STREET}]  # fmt: skip


def test_the_alert_page_names_the_restriction_zone_on_its_map(world: Any) -> None:
    add_order(world.db, "EM-R2", "PER-R2",
              restriction_zones=[{"id": "R1", "name": "Former partner's street", "geometry": STREET}])  # fmt: skip
    with world.db.uow() as uow:
        store_alert(uow.session, {**alert("r-alert", "exclusion_entry", utcnow() - timedelta(minutes=20),
                                          person="PER-R2", order="EM-R2", condition_id="R1"),
                                  "detected_at": iso(utcnow()), "evidence": [], "details": {}})  # fmt: skip
    raw = world.signed_in("demo-mc-operator").get("/alerts/r-alert").text
    context = json.loads(unescape(re.search(r'data-context="([^"]*)"', raw).group(1)))
    assert [z["name"] for z in context["zones"]] == ["Restriction zone: Former partner's street"]
