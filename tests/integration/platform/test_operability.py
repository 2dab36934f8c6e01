"""What an operator learns from /health and /metrics: a stuck outbox or a stalled engine turns /health into a
503 naming the cause (thresholds are settings), and /metrics carries each series an operator graphs."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import update
from tests.integration.bus.events import OrderNoted, local_dispatcher, publish

from openem.auth.service import issue_token
from openem.bus.outbox import OutboxRow
from openem.bus.registry import Registry
from openem.core.time import iso, utcnow


def _scrape(world) -> str:
    from fastapi.testclient import TestClient

    return (
        TestClient(world.app, client=("127.0.0.1", 40000)).get("/metrics").text
    )  # a scraper on this machine


def _age_outbox(db, seconds: float) -> None:
    with db.uow() as uow:
        uow.session.execute(update(OutboxRow).values(created_at=utcnow() - timedelta(seconds=seconds)))


def test_health_is_ok_and_reports_outbox_and_engine_figures(world):
    body = world.client().get("/health").json()
    assert body["status"] == "ok" and body["problems"] == []
    assert body["outbox"] == {"pending": 0, "oldest_age_s": None}
    assert {"lag_s", "watermark", "watermark_lag_s", "last_batch_at", "last_batch_messages"} <= set(
        body["engine"]
    )


def test_a_stuck_outbox_message_makes_health_503_naming_the_outbox(world):
    publish(world.db, OrderNoted("ORD-STUCK", 1))  # nothing delivers it: the dispatcher is not running
    assert world.client().get("/health").status_code == 200  # young: within the threshold
    _age_outbox(world.db, 400)
    r = world.client().get("/health")
    assert r.status_code == 503
    body = r.json()
    assert (
        body["status"] == "failing"
        and body["outbox"]["pending"] == 1
        and body["outbox"]["oldest_age_s"] >= 400
    )
    assert any(p.startswith("outbox:") and "300 s" in p for p in body["problems"]), body["problems"]


def test_the_outbox_threshold_is_a_setting(world, tmp_path):
    from tests.conftest import make_settings

    from openem.server import create_app

    publish(world.db, OrderNoted("ORD-STUCK", 1))
    _age_outbox(world.db, 400)
    lenient = create_app(
        make_settings(tmp_path, str(world.db.engine.url), OPENEM_HEALTH_OUTBOX_MAX_AGE_S=3600),
        world.db,
        start_dispatcher=False,
    )
    from fastapi.testclient import TestClient

    assert TestClient(lenient).get("/health").status_code == 200


def test_a_stalled_engine_makes_health_503_naming_the_engine(world):
    live = world.app.state.live
    live.running, live.last_run = True, time.time() - 1000  # its ticker has not run for 1,000 s
    r = world.client().get("/health")
    assert r.status_code == 503 and r.json()["engine"]["lag_s"] >= 1000
    assert any(p.startswith("engine:") for p in r.json()["problems"])
    assert "openem_engine_lag_seconds" in _scrape(world)


def test_metrics_carry_each_series_an_operator_graphs(world):
    client = world.client()
    with world.db.uow() as uow:
        token = issue_token(uow.session, actor="test", name="gw", device_scope="gw-1")
    at = utcnow() - timedelta(minutes=5)
    batch = [
        {
            "v": 1,
            "device_id": "GPS-9",
            "seq": i,
            "type": "gps",
            "device_time": iso(at + timedelta(seconds=i)),
            "payload": {"lat": 53.8, "lon": -1.55, "accuracy_m": 8.0, "source": "GPS"},
        }
        for i in range(3)
    ]
    assert (
        client.post(
            "/api/telemetry/batch", json=batch, headers={"Authorization": f"Bearer {token}"}
        ).status_code
        < 300
    )
    live = world.app.state.live
    live._publish(
        [
            {
                "id": "ALR-metrics-test",
                "kind": "strap_tamper",
                "severity": "HIGH",
                "person_id": "PER-1",
                "order_ref": "ORD-1",
                "device_id": "GPS-9",
                "condition_id": "strap_tamper",
                "start": iso(at),
                "end": None,
                "detected_at": iso(at),
                "late_detected": False,
                "evidence": [],
                "details": {},
            }
        ]
    )
    registry = Registry()
    registry.on(OrderNoted.topic, "notes", lambda payload, uow: None)
    publish(world.db, OrderNoted("ORD-M", 1))
    local_dispatcher(world.db, registry).drain()
    client.get("/orders/ORD-NOPE")
    text = _scrape(world)
    series = {
        "ingest (acknowledged)": 'openem_telemetry_messages_acknowledged_total{outcome="accepted"}',
        "processed by the engine": "openem_engine_messages_processed_total",
        "engine lag": "openem_engine_lag_seconds",
        "watermark lag": "openem_engine_watermark_lag_seconds",
        "alerts by kind": 'openem_alerts_raised_total{kind="strap_tamper"}',
        "outbox depth": "openem_outbox_pending_messages",
        "outbox age": "openem_outbox_oldest_pending_seconds",
        "parked": "openem_bus_parked_messages",
        "deliveries by channel": 'openem_bus_deliveries_total{channel="inprocess",topic="test.OrderNoted"}',
        "latency by route template": 'openem_http_request_seconds_bucket{le="0.005",method="GET",route="/orders/{ref}"}',
    }
    missing = [name for name, line in series.items() if line not in text]
    assert not missing, missing
    assert "/orders/ORD-NOPE" not in text  # the raw path never becomes a label
