"""The alerts page polls its list every 3 s: each poll must not write an audit row, yet every alert shown to
someone must be on record as shown to them (decision 0018)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from openem.alerts.service import store_alert
from openem.auth.service import issue_token
from openem.auth.tables import AuditRow, UserRow
from openem.core.time import iso


def add_alert(world, alert_id: str, minutes_ago: int = 0) -> None:
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes_ago)
    with world.db.uow() as uow:
        store_alert(
            uow.session,
            {
                "alert_id": alert_id,
                "kind": "low_battery",
                "severity": "LOW",
                "person_id": "",
                "order_ref": "",
                "device_id": "DEV-1",
                "condition_id": "",
                "start": iso(now),
                "end": None,
                "detected_at": iso(now),
                "late_detected": False,
                "evidence": [],
                "details": {},
            },
        )


def list_reads(world) -> list[AuditRow]:
    with world.db.uow() as uow:
        rows = (
            uow.session.execute(
                select(AuditRow).where(AuditRow.action == "alerts:list:read").order_by(AuditRow.seq)
            )
            .scalars()
            .all()
        )
        uow.session.expunge_all()
        return rows


def test_ten_polls_write_at_most_one_audit_row(world):
    add_alert(world, "ALR-P1", 2)
    add_alert(world, "ALR-P2", 1)
    operator = world.signed_in("demo-mc-operator")
    for _ in range(10):
        r = operator.get("/api/alerts?limit=50")
        assert r.status_code == 200 and {a["alert_id"] for a in r.json()} == {"ALR-P1", "ALR-P2"}
    [row] = list_reads(world)
    assert sorted(row.records) == ["ALR-P1", "ALR-P2"]


def test_the_page_view_is_audited_and_its_polls_add_only_new_alerts(world):
    add_alert(world, "ALR-V1", 5)
    operator = world.signed_in("demo-mc-operator")
    assert "ALR-V1" in operator.get("/alerts").text
    for _ in range(5):
        operator.get("/api/alerts?limit=50")
    assert [r.records for r in list_reads(world)] == [["ALR-V1"]]
    add_alert(world, "ALR-V2")
    for _ in range(5):
        assert "ALR-V2" in {a["alert_id"] for a in operator.get("/api/alerts?limit=50").json()}
    reads = list_reads(world)
    assert [r.records for r in reads] == [["ALR-V1"], ["ALR-V2"]]  # who saw the new alert, and when
    assert reads[1].details == {"polled": True, "shown": 2}
    operator.get("/alerts")  # a new page view is a new read
    assert len(list_reads(world)) == 3


def test_each_person_and_session_is_recorded_separately(world):
    add_alert(world, "ALR-S1")
    world.signed_in("demo-mc-operator").get("/api/alerts")
    world.signed_in("demo-mc-operator").get("/api/alerts")  # another browser
    world.signed_in("demo-police-officer").get(
        "/api/alerts"
    )  # sees nothing of this alert: nothing recorded for it
    assert [r.records for r in list_reads(world)] == [["ALR-S1"], ["ALR-S1"]]


def test_an_api_client_is_audited_on_every_call(world):
    add_alert(world, "ALR-T1")
    with world.db.uow() as uow:
        uid = uow.session.execute(
            select(UserRow.id).where(UserRow.username == "demo-mc-operator")
        ).scalar_one()
        token = issue_token(uow.session, actor=uid, name="integration", user_id=uid)
    c = world.client()
    for _ in range(3):
        assert c.get("/api/alerts", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with world.db.uow() as uow:
        n = uow.session.execute(
            select(func.count()).select_from(AuditRow).where(AuditRow.action == "alerts:list:read")
        ).scalar_one()
    assert n == 3
