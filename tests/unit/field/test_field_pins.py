"""Issue 14: the order's page shows where each address was placed, and the order's creator corrects the pin;
the correction is audited, published, and used by the field visits (routing) at once."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from openem.auth.tables import AuditRow, UserRow
from openem.core.errors import Invalid, NotFound
from openem.core.time import FrozenClock
from openem.field import queries as fq
from openem.field import service as fs

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def session(sqlite_url: str) -> Iterator[Session]:
    engine = sa.create_engine(sqlite_url)
    with Session(engine) as s:
        yield s
    engine.dispose()


def _uow(session: Session) -> Any:
    events: list[Any] = []
    return SimpleNamespace(session=session, events=events, add_event=events.append)


def _payload(ref: str, primary_pc: str = "CF10 1AA") -> dict[str, Any]:
    return {"order_ref": ref, "request_type": "NEW", "accepted_at": T0.isoformat(),
            "order": {"person_id": "P1", "addresses": [
                {"type": "PRIMARY", "line1": "1 Test Street", "postcode": primary_pc},
                {"type": "SECONDARY", "line1": "2 Other Road", "postcode": "SW1A 1AA", "lat": 51.5, "lon": -0.14},
                {"type": "TERTIARY", "line1": "3 Nowhere", "postcode": "ZZ99 9ZZ"}]}}  # fmt: skip


def test_each_address_of_an_order_is_placed_and_says_how(session: Session) -> None:
    fs.on_order_accepted(_payload("ORD-P"), _uow(session))
    pins = {p["address_type"]: p for p in fq.pins_of_order(session, "ORD-P")}
    assert pins["PRIMARY"]["placed"] and pins["PRIMARY"]["how"] == "From the postcode (Code-Point Open)"
    assert abs(pins["PRIMARY"]["lat"] - 51.479) < 0.002
    assert pins["SECONDARY"]["how"] == "Given with the order" and pins["SECONDARY"]["lat"] == 51.5
    assert not pins["TERTIARY"]["placed"] and "not in the postcode list" in pins["TERTIARY"]["message"]


def test_a_corrected_pin_moves_the_visit_is_audited_and_published(session: Session) -> None:
    fs.on_order_accepted(_payload("ORD-P"), _uow(session))
    uow = _uow(session)
    fs.correct_pin(session, actor="creator", order_ref="ORD-P", address_type="PRIMARY", lat=51.4801, lon=-3.1801,
                   at=T0 + timedelta(hours=1), publish=uow.add_event)  # fmt: skip
    v = fq.visit(session, "FIT-ORD-P")
    assert v is not None and (v["lat"], v["lon"]) == (51.4801, -3.1801) and not v["needs_address_check"]
    (event,) = uow.events
    assert event.topic == "field.AddressPinCorrected" and (event.lat, event.lon) == (51.4801, -3.1801)
    assert event.before_lat is not None and abs(event.before_lat - 51.479) < 0.002
    row = session.execute(select(AuditRow).where(AuditRow.action == "field:ORD-P:pin")).scalar_one()
    assert row.actor == "creator"
    pin = next(p for p in fq.pins_of_order(session, "ORD-P") if p["address_type"] == "PRIMARY")
    assert pin["how"] == "Corrected by hand" and pin["corrected_by"] == "creator"


def test_a_correction_holds_through_a_variation_until_the_postcode_changes(session: Session) -> None:
    fs.on_order_accepted(_payload("ORD-P"), _uow(session))
    fs.correct_pin(session, actor="creator", order_ref="ORD-P", address_type="PRIMARY", lat=51.4801, lon=-3.1801,
                   at=T0, publish=lambda e: None)  # fmt: skip
    varied = {"order_ref": "ORD-P", "effective_at": T0.isoformat(), "diff": [{"field": "addresses[2].line1"}],
              "order": _payload("ORD-P")["order"]}  # fmt: skip
    fs.on_order_varied(varied, _uow(session))
    assert fq.visit(session, "FIT-ORD-P")["lat"] == 51.4801  # type: ignore[index]
    moved = {**varied, "order": _payload("ORD-P", primary_pc="SW1A 1AA")["order"]}
    fs.on_order_varied(moved, _uow(session))
    v = fq.visit(session, "FIT-ORD-P")
    assert v is not None and abs(v["lat"] - 51.501) < 0.002  # the new postcode's position, not the old pin


@pytest.mark.parametrize("lat,lon", [(48.0, -3.0), (51.0, 5.0), (float("nan"), -3.0), (float("inf"), 0.0)])
def test_a_pin_outside_great_britain_is_refused(session: Session, lat: float, lon: float) -> None:
    fs.on_order_accepted(_payload("ORD-P"), _uow(session))
    with pytest.raises(Invalid, match="Great Britain"):
        fs.correct_pin(session, actor="c", order_ref="ORD-P", address_type="PRIMARY", lat=lat, lon=lon, at=T0,
                       publish=lambda e: None)  # fmt: skip
    with pytest.raises(NotFound):
        fs.correct_pin(session, actor="c", order_ref="ORD-P", address_type="NOPE", lat=51.0, lon=-3.0, at=T0,
                       publish=lambda e: None)  # fmt: skip


# ---- the pages ---------------------------------------------------------------------------------------------
def _accepted_order(world: Any) -> str:
    from openem.orders.repository import SqlOrderRepository
    from openem.orders.samples import sample_order
    from openem.orders.service import OrderService

    now = datetime.now(UTC)
    doc = sample_order(now, random.Random(7), cohort="COURT_BAIL")
    for a in doc["addresses"]:
        a.pop("lat", None), a.pop("lon", None)
    doc["addresses"][0]["postcode"] = "CF10 1AA"
    with world.db.uow() as uow:
        creator = uow.session.execute(
            select(UserRow).where(UserRow.username == "demo-order-creator-court")
        ).scalar_one()
        svc = OrderService(SqlOrderRepository(uow.session), FrozenClock(now), unit=uow)
        ref = svc.create_draft(creator.id, doc).record.ref
        svc.submit(creator.id, ref)
        accepted = svc.accept("operator", ref).events[0]
        fs.on_order_accepted(_as_payload(accepted), uow)
    return str(ref)


def _as_payload(event: Any) -> dict[str, Any]:
    import dataclasses
    import json

    return json.loads(json.dumps(dataclasses.asdict(event), default=str))


def _token(text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]*)"', text).group(1)  # type: ignore[union-attr]


def test_the_creator_sees_the_pins_and_corrects_one_without_javascript(world: Any) -> None:
    ref = _accepted_order(world)
    c = world.signed_in("demo-order-creator-court")
    page = c.get(f"/orders/{ref}")
    assert page.status_code == 200 and 'id="pins"' in page.text and "From the postcode" in page.text
    kind = re.search(rf'href="/field/orders/{ref}/pins/(\w+)"', page.text).group(1)  # type: ignore[union-attr]
    form = c.get(f"/field/orders/{ref}/pins/{kind}")
    assert form.status_code == 200 and 'id="lat"' in form.text
    bad = c.post(
        f"/field/orders/{ref}/pins/{kind}", data={"csrf_token": _token(form.text), "lat": "north", "lon": "1"}
    )
    assert bad.status_code == 422 and "as numbers" in bad.text
    far = c.post(
        f"/field/orders/{ref}/pins/{kind}", data={"csrf_token": _token(form.text), "lat": "40", "lon": "1"}
    )
    assert far.status_code == 422 and "Great Britain" in far.text
    ok = c.post(f"/field/orders/{ref}/pins/{kind}",
                data={"csrf_token": _token(form.text), "lat": "51.48123", "lon": "-3.18234"})  # fmt: skip
    assert ok.status_code == 200 and "The pin was moved" in ok.text and "51.48123, -3.18234" in ok.text
    assert "Corrected by hand" in ok.text
    with world.db.uow() as uow:
        v = fq.visit(uow.session, f"FIT-{ref}")
        assert v is not None and (v["lat"], v["lon"]) == (51.48123, -3.18234)


def test_someone_who_did_not_create_the_order_cannot_move_its_pins(world: Any) -> None:
    ref = _accepted_order(world)
    other = world.signed_in("demo-field-officer")
    assert other.get(f"/field/orders/{ref}/pins/PRIMARY").status_code == 404
    assert world.client().get(f"/field/orders/{ref}/pins/PRIMARY", follow_redirects=False).status_code in (
        302,
        303,
        401,
    )


def test_a_region_day_with_more_work_than_officers_plans_what_fits_without_an_error() -> None:
    from openem.field.planning import Stop, plan_region_day

    horizon = 4 * 60  # four hours: at most 8 visits of 30 minutes an officer

    stops = [Stop(f"V{i}", 51.48 + i * 0.002, -3.18 + i * 0.002, 0, horizon, 20_000) for i in range(40)]
    routes = plan_region_day((51.48, -3.18), 2, stops, horizon, 1.0)
    planned = [v for r in routes for v in r]
    assert len(routes) == 2 and 0 < len(planned) < 40 and len(set(planned)) == len(planned)
    assert plan_region_day((51.48, -3.18), 2, [], horizon, 1.0) == [[], []]


def test_the_monitoring_engine_follows_a_corrected_pin(world: Any) -> None:
    from openem.monitoring.engine import Engine
    from openem.scale.follow import OrderFollower, apply_change

    ref = _accepted_order(world)
    engine = Engine()
    follower = OrderFollower(world.db, lambda r: 0, full_every_s=0.0)
    for ch in follower.changes({0: engine}).get(0, []):
        apply_change(engine, ch)
    assert ref in engine.orders and "_pins_at" not in engine.orders[ref].doc
    assert follower.changes({0: engine}) == {}  # nothing new
    with world.db.uow() as uow:
        fs.correct_pin(uow.session, actor="creator", order_ref=ref, address_type="PRIMARY", lat=51.4811,
                       lon=-3.1822, at=datetime.now(UTC), publish=uow.add_event)  # fmt: skip
    changes = follower.changes({0: engine})[0]
    assert [c.kind for c in changes] == ["order"]
    apply_change(engine, changes[0])
    primary = next(
        a for a in engine.orders[ref].doc["addresses"] if (a.get("type") or "PRIMARY") == "PRIMARY"
    )
    assert (primary["lat"], primary["lon"]) == (51.4811, -3.1822)
    assert follower.changes({0: engine}) == {}  # applied once
