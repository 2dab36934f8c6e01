"""The operator reads every alert in plain words from the one catalogue of kinds: the list, the alert's page and
the API agree with it, including kinds that had no label before (victim proximity, a curfew absence episode)."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import pytest

from openem.alerts.service import store_alert
from openem.core.time import iso
from openem.monitoring.catalogue import describe

KINDS = ["proximity", "curfew_absence", "order_unusable", "engine_input_rejected", "exclusion_entry"]


@pytest.fixture
def alerts(world):
    now = datetime.now(UTC)
    with world.db.uow() as uow:
        for i, kind in enumerate(KINDS):
            store_alert(
                uow.session,
                {
                    "alert_id": f"ALR-LBL-{i}",
                    "kind": kind,
                    "severity": describe(kind).severity,
                    "person_id": "",
                    "order_ref": "",
                    "device_id": f"DEV-{i}",
                    "condition_id": "",
                    "start": iso(now - timedelta(minutes=5)),
                    "end": None,
                    "detected_at": iso(now),
                    "late_detected": False,
                    "evidence": [],
                    "details": {},
                },
            )
    return world


def test_every_alert_reads_with_the_catalogue_label_on_the_list_the_page_and_the_api(alerts):
    client = alerts.signed_in("demo-mc-operator")
    listing = client.get("/alerts")
    assert listing.status_code == 200
    api = {a["alert_id"]: a for a in client.get("/api/alerts").json()}
    for i, kind in enumerate(KINDS):
        entry = describe(kind)
        assert entry.label != kind.replace("_", " ")  # a real label, not the fallback
        assert entry.label in html.unescape(listing.text)
        page = client.get(f"/alerts/ALR-LBL-{i}")
        assert page.status_code == 200
        text = html.unescape(page.text)
        assert f">{entry.label}</h1>" in text and entry.description in text
        assert api[f"ALR-LBL-{i}"]["label"] == entry.label
