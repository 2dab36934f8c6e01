"""The alerts pages in a real browser: live list and the evidence map (Leaflet, no tiles)."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from tests.e2e.conftest import assert_accessible, click_and_wait, sign_in

from openem.alerts.service import store_alert
from openem.core.time import iso
from openem.store.db import Database
from openem.telemetry.tables import TelemetryMessageRow

pytestmark = pytest.mark.e2e


def _seed(server):
    db = Database(server.db_url)
    now = datetime.now(UTC).replace(microsecond=0)
    with db.uow() as uow:
        for i in range(3):
            uow.session.merge(
                TelemetryMessageRow(
                    device_id="GPS-E2E",
                    seq=i,
                    type="gps",
                    device_time=now - timedelta(minutes=3 - i),
                    receive_time=now,
                    payload={"lat": 53.8 + i * 0.0005, "lon": -1.55, "accuracy_m": 8.0, "source": "GPS"},
                    flags=[],
                    activation_id=None,
                    person_id=None,
                    batch_id=0,
                )
            )
        store_alert(
            uow.session,
            {
                "alert_id": "ALR-E2E-1",
                "kind": "exclusion_entry",
                "severity": "HIGH",
                "person_id": "",
                "order_ref": "",
                "device_id": "GPS-E2E",
                "condition_id": "Z1",
                "start": iso(now - timedelta(minutes=3)),
                "end": None,
                "detected_at": iso(now),
                "late_detected": False,
                "evidence": [["GPS-E2E", 0], ["GPS-E2E", 1], ["GPS-E2E", 2]],
                "details": {"zone_id": "Z1"},
            },
        )
    db.dispose()


def test_operator_sees_the_alert_list_and_the_evidence_map(page, server):
    _seed(server)
    sign_in(page, server, "demo-mc-operator")
    click_and_wait(page, page.get_by_role("link", name="Alerts").first)
    expect(page.get_by_role("heading", name="Alerts", exact=True)).to_be_visible()
    assert_accessible(page)
    click_and_wait(page, page.get_by_role("link", name="Entered an exclusion zone").first)
    page.wait_for_selector(".leaflet-interactive")
    assert page.locator(".leaflet-interactive").count() >= 4  # 3 accuracy circles + markers + the path
    assert "Evidence (3 messages)" in page.content()
    assert_accessible(page)
