"""Devices through their lifecycle and field visits from order events: fit first time, recover every device."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from openem.core.errors import Conflict, Invalid
from openem.devices import queries as dq
from openem.devices import service as ds
from openem.devices.rules import check_transition
from openem.field import queries as fq
from openem.field import service as fs
from openem.field.rules import fitting_measure
from openem.field.scheduler import check, greedy, parse_solomon, route_distance, solve_pyvrp

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def session(sqlite_url: str) -> Iterator[Session]:
    engine = sa.create_engine(sqlite_url)
    with Session(engine) as s:
        yield s
    engine.dispose()


def _accepted(ref: str, lat: float | None = 51.5) -> dict[str, object]:
    addr = {"type": "PRIMARY", "lat": lat, "lon": -0.1} if lat is not None else {"type": "PRIMARY"}
    return {"order_ref": ref, "request_type": "NEW", "accepted_at": T0.isoformat(),
            "order": {"person_id": "P1", "addresses": [addr]}}  # fmt: skip


def test_device_lifecycle_refuses_impossible_moves() -> None:
    assert check_transition("IN_STOCK", "FITTED") is None
    assert check_transition("IN_STOCK", "RECOVERED") == "A device cannot go from IN_STOCK to RECOVERED"
    assert check_transition("FITTED", "BROKEN") == "Unknown device state 'BROKEN'"


def test_order_start_fit_end_recover_with_device_history(session: Session) -> None:
    ds.register_devices(session, actor="stock", devices=[{"device_id": "TAG1", "device_kind": "RF_TAG"}])
    uow = SimpleNamespace(session=session, events=[], add_event=lambda e: None)
    fs.on_order_accepted(_accepted("ORD1"), uow)
    fs.on_order_accepted(_accepted("ORD1"), uow)  # redelivered: still one visit
    visits = fq.open_visits(session, "FIT")
    assert [v["visit_id"] for v in visits] == ["FIT-ORD1"]
    assert visits[0]["due_by"] == datetime(2026, 12, 3, tzinfo=UTC)
    assert visits[0]["lat"] == 51.5

    fs.record_attempt(session, actor="fo1", visit_id="FIT-ORD1", outcome="NOT_AT_HOME", at=T0)
    with pytest.raises(Invalid, match="serial"):
        fs.record_attempt(session, actor="fo1", visit_id="FIT-ORD1", outcome="FITTED", at=T0)
    with pytest.raises(Invalid, match="cannot end RECOVERED"):
        fs.record_attempt(session, actor="fo1", visit_id="FIT-ORD1", outcome="RECOVERED", at=T0)
    fs.record_attempt(session, actor="fo1", visit_id="FIT-ORD1", outcome="FITTED", at=T0 + timedelta(hours=3),
                      device_id="TAG1")  # fmt: skip
    assert dq.device_status(session, "TAG1") == "FITTED"
    assert [a.device_id for a in dq.activations_of_order(session, "ORD1")] == ["TAG1"]
    with pytest.raises(Conflict):
        fs.record_attempt(
            session, actor="fo1", visit_id="FIT-ORD1", outcome="FITTED", at=T0, device_id="TAG1"
        )

    end = {"order_ref": "ORD1", "ended_at": (T0 + timedelta(days=30)).isoformat(), "person_id": "P1"}
    fs.on_order_ended(end, uow)
    assert dq.device_status(session, "TAG1") == "AWAITING_RETURN"
    rec = fq.outstanding_recoveries(session, T0 + timedelta(days=33))
    assert [(r["visit_id"], r["device_id"], r["days_outstanding"]) for r in rec] == [
        ("RECOVER-ORD1", "TAG1", 3)
    ]

    assert fs.send_recovery_reminders(session, actor="sys", now=T0 + timedelta(days=31)) == []
    assert fs.send_recovery_reminders(session, actor="sys", now=T0 + timedelta(days=33)) == ["RECOVER-ORD1"]
    assert fs.send_recovery_reminders(session, actor="sys", now=T0 + timedelta(days=34)) == []

    fs.record_attempt(
        session, actor="fo2", visit_id="RECOVER-ORD1", outcome="RECOVERED", at=T0 + timedelta(days=35)
    )
    assert dq.device_status(session, "TAG1") == "RECOVERED"
    assert [h["to"] for h in dq.device_history(session, "TAG1")] == ["FITTED", "AWAITING_RETURN", "RECOVERED"]
    assert fq.outstanding_recoveries(session, T0 + timedelta(days=40)) == []
    assert fq.recovery_rate(session) == (1, 1)
    kpi = fq.fitting_kpi(session)
    assert (kpi.fittings, kpi.fitted_within_standard) == (1, 1)


def test_device_already_fitted_elsewhere_is_refused(session: Session) -> None:
    ds.register_devices(session, actor="stock", devices=[{"device_id": "TAG2", "device_kind": "RF_TAG"}])
    uow = SimpleNamespace(session=session, events=[], add_event=lambda e: None)
    fs.on_order_accepted(_accepted("A"), uow)
    fs.on_order_accepted(_accepted("B", lat=None), uow)
    fs.record_attempt(session, actor="fo", visit_id="FIT-A", outcome="FITTED", at=T0, device_id="TAG2")
    with pytest.raises(Conflict, match="TAG2 is FITTED"):
        fs.record_attempt(session, actor="fo", visit_id="FIT-B", outcome="FITTED", at=T0, device_id="TAG2")
    with pytest.raises(Invalid, match="No device"):
        fs.record_attempt(session, actor="fo", visit_id="FIT-B", outcome="FITTED", at=T0, device_id="NOPE")
    with pytest.raises(Invalid, match="500"):
        fs.record_attempt(session, actor="fo", visit_id="FIT-B", outcome="REFUSED", at=T0, note="x" * 501)
    assert fq.visit(session, "FIT-B")["attempts"] == 0  # type: ignore[index]


def test_lost_device_after_recovery_gives_up(session: Session) -> None:
    ds.register_devices(session, actor="stock", devices=[{"device_id": "T3", "device_kind": "RF_TAG"}])
    uow = SimpleNamespace(session=session, events=[], add_event=lambda e: None)
    fs.on_order_accepted(_accepted("C"), uow)
    fs.record_attempt(session, actor="fo", visit_id="FIT-C", outcome="FITTED", at=T0, device_id="T3")
    fs.on_order_ended({"order_ref": "C", "ended_at": (T0 + timedelta(days=2)).isoformat()}, uow)
    fs.mark_lost(session, actor="fo", visit_id="RECOVER-C", at=T0 + timedelta(days=60), reason="absconded")
    assert dq.device_status(session, "T3") == "LOST"
    assert fq.recovery_rate(session) == (1, 0)


def test_success_measure_differs_from_attempt_measure() -> None:
    m = fitting_measure(
        [["FITTED"], ["NOT_AT_HOME", "FITTED"], ["REFUSED", "NO_ACCESS", "FITTED"], ["REFUSED"]]
    )
    assert (m.fittings, m.fitted_within_standard, m.attempts_made_within_standard, m.fitted_at_all) == (
        4,
        2,
        3,
        3,
    )
    assert m.success_rate == 0.5 and m.attempt_rate == 0.75


def test_scheduler_on_a_solomon_instance(tmp_path: Path) -> None:
    path = Path("/work/shared/benchmarks/vrptw/solomon/C101.txt")
    if not path.exists():
        pytest.skip("Solomon instances not present")
    inst = parse_solomon(path)
    g = greedy(inst)
    assert check(inst, g) == []
    p = solve_pyvrp(inst, 1.0)
    assert check(inst, p) == []
    assert sum(route_distance(inst, r) for r in p) <= sum(route_distance(inst, r) for r in g)
    late = [[c] for c in range(1, len(inst.x))]
    assert check(inst, late[:-1]) and "not visited" in check(inst, late[:-1])[0]
    bad = tmp_path / "bad.txt"
    bad.write_text("nothing here\n")
    with pytest.raises(ValueError, match="not a Solomon instance"):
        parse_solomon(bad)


def test_cli_vrptw_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from openem.cli import main

    path = Path("/work/shared/benchmarks/vrptw/solomon/C101.txt")
    if not path.exists():
        pytest.skip("Solomon instances not present")
    assert main(["field", "vrptw", str(path), "--seconds", "0.5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["vehicles"] == len(out["routes"]) and sorted(c for r in out["routes"] for c in r) == list(
        range(1, 101)
    )
    bad = tmp_path / "x.txt"
    bad.write_text("junk")
    assert main(["field", "vrptw", str(bad)]) == 2
    assert "not a Solomon instance" in capsys.readouterr().err


def test_plan_route_orders_an_officers_day(session: Session) -> None:
    uow = SimpleNamespace(session=session, events=[], add_event=lambda e: None)
    for i, lat in enumerate([51.50, 51.52, 51.51, 51.53]):
        fs.create_visit(session, actor="t", kind="FIT", order_ref=f"R{i}", at=T0, lat=lat, lon=-0.1)
    fs.on_order_accepted(_accepted("NOPOS", lat=None), uow)  # no position: cannot be routed
    planned = fs.plan_route(session, actor="t", officer="fo1", day="2026-12-01", seconds=0.2)
    assert sorted(planned) == ["FIT-R0", "FIT-R1", "FIT-R2", "FIT-R3"]
    lats = [fq.visit(session, v)["lat"] for v in planned]  # type: ignore[index]
    assert lats in ([51.50, 51.51, 51.52, 51.53], [51.53, 51.52, 51.51, 51.50])  # a sweep, not a zig-zag
    assert [v["visit_id"] for v in fq.todays_visits(session, "fo1", "2026-12-01")] == planned
