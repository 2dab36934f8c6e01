"""The operator queue over HTTP: the page and API list incidents most urgent first; a second resolve on the
version the first operator saw is refused with 409."""

from __future__ import annotations

import re

import pytest

from openem.alerts.service import on_alert_for_triage
from openem.core.time import iso, utcnow


@pytest.fixture
def queued(world):
    now = iso(utcnow())
    with world.db.uow() as uow:
        for aid, kind in (("q1", "curfew_absent"), ("q2", "strap_tamper")):
            on_alert_for_triage({"alert_id": aid, "kind": kind, "severity": "HIGH", "person_id": "", "order_ref": "",
                                 "device_id": "D1", "condition_id": "", "start": now, "end": None}, uow)  # fmt: skip
    return world


def test_queue_page_and_api_and_optimistic_locking(queued):
    client = queued.signed_in("demo-mc-operator")
    page = client.get("/incidents")
    assert page.status_code == 200 and "Tamper" in page.text and "Action due" in page.text
    items = client.get("/api/incidents").json()["incidents"]
    assert [i["situation"] for i in items][0] == "tamper"  # tamper outranks the curfew night
    assert "T" not in items[0]["opened"] and " at " in items[0]["opened"]  # London time, GOV.UK style
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)
    target = items[1]
    url = f"/api/incidents/{target['incident_id']}/actions"
    body = {"action": "resolve", "version": target["version"], "reason": "authorised_absence"}
    first = client.post(url, json=body, headers={"X-CSRF-Token": token})
    second = client.post(url, json={**body, "reason": "no_breach"}, headers={"X-CSRF-Token": token})
    assert first.status_code == 200 and second.status_code == 409
    detail = client.get(f"/api/incidents/{target['incident_id']}").json()
    assert detail["state"] == "resolved" and detail["resolution"] == "authorised_absence"
