"""Field visit use cases: visits created from order events (an order starting needs a fitting, an order ending
needs a recovery), attempts with outcomes, a fitting recorded on a visit creating the device's activation, and
recovery reminders for devices not yet back."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openem.auth import audit
from openem.core.errors import Conflict, Invalid, NotFound
from openem.core.time import iso, parse_instant, utcnow
from openem.devices import queries as device_queries
from openem.devices import service as device_service
from openem.field import contract, geocode
from openem.field.events import AddressCheckNeeded, AddressLocated, AddressPinCorrected, OrderErrorReported
from openem.field.rules import KINDS, NEEDS_ADDRESS_CHECK, check_outcome, is_success
from openem.field.tables import AddressPinRow, AttemptPhotoRow, AttemptRow, OfficerRow, VisitRow

REMINDER_EVERY = timedelta(days=2)
DUPLICATE_WITHIN_S = 120  # the same outcome again within two minutes is a double submission


def _due_by(at: datetime) -> datetime:
    """The adult contract deadline: midnight (Europe/London) at the end of the day after the order is received."""
    return contract.deadline("ADULT", at)


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _address(order: dict[str, Any], location: str) -> dict[str, Any] | None:
    """The address the visit goes to: the installation address for an install at source, else the home (the
    primary address; an installation address when no primary is given)."""
    addresses = [a for a in order.get("addresses") or [] if isinstance(a, dict)]
    wanted = ("INSTALLATION",) if location != "HOME" else (None, "PRIMARY", "INSTALLATION")
    for t in wanted:
        for a in addresses:
            if a.get("type") == t:
                return a
    return None


def place_address(address: dict[str, Any] | None) -> tuple[str, float | None, float | None, str, str]:
    """(check, lat, lon, postcode, message): coordinates given with the address win; else the postcode is
    looked up offline. check is GIVEN, LOCATED, NO_ADDRESS, NO_POSTCODE, MALFORMED or UNKNOWN."""
    if address is None:
        return (
            "NO_ADDRESS",
            None,
            None,
            "",
            "The order gives no address for this visit: check it with the order",
        )
    raw_pc = address.get("postcode")
    postcode = str(raw_pc)[:12] if isinstance(raw_pc, str) else ""
    lat, lon = address.get("lat"), address.get("lon")
    if isinstance(lat, int | float) and isinstance(lon, int | float) and _number(lat) and _number(lon):
        if math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180:
            return "GIVEN", float(lat), float(lon), postcode, ""
    if not postcode.strip():
        return "NO_POSTCODE", None, None, "", "The address has no postcode: check the address before planning"
    found = geocode.geocoder().locate(postcode)
    if isinstance(found, geocode.Located):
        return "LOCATED", found.lat, found.lon, found.postcode, ""
    return (
        found.reason,
        None,
        None,
        found.postcode[:12],
        found.message + ": check the address before planning",
    )


def create_visit(
    session: Session,
    *,
    actor: str,
    kind: str,
    order_ref: str,
    at: datetime,
    person_id: str = "",
    device_id: str = "",
    lat: float | None = None,
    lon: float | None = None,
    rule: str = "ADULT",
    due_by: datetime | None = None,
    location: str = "HOME",
    priority: int = 0,
    appointment_at: datetime | None = None,
) -> VisitRow:
    """One open visit of a kind per order (idempotent: a redelivered event creates nothing new)."""
    if kind not in KINDS:
        raise Invalid(f"Unknown visit kind {kind!r}", field="kind")
    visit_id = f"{kind}-{order_ref}"[:60]
    row = session.get(VisitRow, visit_id)
    if row is not None:
        return row
    row = VisitRow(
        visit_id=visit_id,
        kind=kind,
        order_ref=order_ref,
        person_id=person_id or "",
        device_id=device_id,
        status="OPEN",
        created_at=at,
        due_by=due_by or contract.deadline(rule, at),
        lat=lat,
        lon=lon,
        attempts=0,
        last_outcome="",
        reminders=0,
        rule=rule,
        location=location,
        priority=priority,
        appointment_at=appointment_at,
        appointment_by="order" if appointment_at else "",
        postcode="",
        address_check="",
        address_message="",
        reminders_sent="",
        officer="",
        planned_for="",
        sequence=0,
        needs_skill="",
        officers_needed=1,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action=f"field:{visit_id}:create", records=[order_ref])
    return row


def _set_address(row: VisitRow, placed: tuple[str, float | None, float | None, str, str]) -> None:
    check, lat, lon, postcode, message = placed
    row.address_check, row.lat, row.lon, row.postcode, row.address_message = (
        check,
        lat,
        lon,
        postcode,
        message,
    )


def _address_event(uow: Any, row: VisitRow) -> None:
    if row.address_check in NEEDS_ADDRESS_CHECK:
        uow.add_event(AddressCheckNeeded(order_ref=row.order_ref, visit_id=row.visit_id, postcode=row.postcode,
                                         reason=row.address_check, message=row.address_message))  # fmt: skip
    elif row.address_check == "LOCATED" and row.lat is not None and row.lon is not None:
        uow.add_event(AddressLocated(order_ref=row.order_ref, visit_id=row.visit_id, postcode=row.postcode,
                                     lat=row.lat, lon=row.lon, source=geocode.geocoder().name))  # fmt: skip


def on_order_accepted(payload: dict[str, Any], uow: Any) -> None:
    """Bus handler for `orders.OrderAccepted`: a new order needs a fitting (a variation does not), under the
    contract rule of the order (adult, youth, special), at home or at source, with the address placed."""
    if payload.get("request_type") not in (None, "NEW"):
        return
    order = payload.get("order") or {}
    ref = str(payload["order_ref"])
    if uow.session.get(VisitRow, f"FIT-{ref}"[:60]) is not None:
        return  # redelivered
    at = parse_instant(str(payload["accepted_at"]))
    rule = contract.rule_of(order, at)
    place = contract.install_place(order)
    rules = contract.load_contract()["rules"]
    row = create_visit(
        uow.session,
        actor="field",
        kind="FIT",
        order_ref=ref,
        at=at,
        person_id=str(order.get("person_id") or ""),
        rule=rule,
        due_by=place.due_by,
        location=place.location,
        priority=max(place.priority, int(rules[rule].get("priority", 0))),
        appointment_at=place.appointment,
    )
    row.needs_skill, row.officers_needed = contract.needs_of(order)
    pins = place_pins(uow.session, ref, order, at)
    _set_address(row, _visit_place(order, place.location, pins))
    uow.session.flush()
    _address_event(uow, row)


def on_order_varied(payload: dict[str, Any], uow: Any) -> None:
    """Bus handler for `orders.OrderVaried`: an open visit follows the order's new address."""
    order = payload.get("order") or {}
    ref = str(payload["order_ref"])
    changed = any(str(d.get("field", "")).startswith("addresses") for d in payload.get("diff") or []
                  if isinstance(d, dict))  # fmt: skip
    if not changed:
        return
    pins = place_pins(
        uow.session, ref, order, parse_instant(str(payload.get("effective_at") or iso(utcnow())))
    )
    for kind in KINDS:
        row = uow.session.get(VisitRow, f"{kind}-{ref}"[:60])
        if row is not None and row.status == "OPEN":
            _set_address(row, _visit_place(order, row.location, pins))
            uow.session.flush()
            _address_event(uow, row)


def on_order_ended(payload: dict[str, Any], uow: Any) -> None:
    """Bus handler for `orders.OrderEnded`: the equipment must be recovered; fitted devices await return."""
    session: Session = uow.session
    ref = str(payload["order_ref"])
    at = parse_instant(str(payload["ended_at"]))
    fit = session.get(VisitRow, f"FIT-{ref}"[:60])
    devices = [a for a in device_queries.activations_of_order(session, ref) if a.role == "WEARER"]
    device_id = devices[0].device_id if devices else (fit.device_id if fit else "")
    if fit is not None and fit.status == "OPEN":
        fit.status = "CANCELLED"
    for a in devices:
        if device_queries.device_status(session, a.device_id) == "FITTED":
            device_service.transition(
                session,
                actor="field",
                device_id=a.device_id,
                to="AWAITING_RETURN",
                at=at,
                reason="order ended",
            )
    create_visit(
        session,
        actor="field",
        kind="RECOVER",
        order_ref=ref,
        at=at,
        person_id=str(payload.get("person_id") or ""),
        device_id=device_id,
        lat=fit.lat if fit else None,
        lon=fit.lon if fit else None,
    )


def record_attempt(
    session: Session,
    *,
    actor: str,
    visit_id: str,
    outcome: str,
    at: datetime,
    device_id: str = "",
    note: str = "",
    publish: Callable[[Any], None] | None = None,
) -> AttemptRow:
    """Record one attempt at a visit. FITTED needs a device serial and creates the activation; RECOVERED marks
    the device recovered. A failed attempt leaves the visit open for the next attempt; a wrong or unsafe
    address puts the visit on address check; an order error is fed back to order entry (`publish`, the unit of
    work's add_event, carries `field.OrderErrorReported`)."""
    visit = session.get(VisitRow, visit_id)
    if visit is None:
        raise NotFound(f"No visit {visit_id!r}")
    if visit.status != "OPEN":
        raise Conflict(f"Visit {visit_id} is {visit.status.lower()}, not open")
    problem = check_outcome(visit.kind, outcome)
    if problem is not None:
        raise Invalid(problem, field="outcome")
    if len(note) > 500:
        raise Invalid("The note is longer than 500 characters", field="note")
    if outcome == "ORDER_ERROR" and publish is None:
        raise RuntimeError("an order error must be published: pass publish=uow.add_event")
    last = (
        session.execute(
            select(AttemptRow).where(AttemptRow.visit_id == visit_id).order_by(AttemptRow.attempt_id.desc())
        )
        .scalars()
        .first()
    )
    if (
        last is not None
        and last.outcome == outcome
        and abs((at - last.at).total_seconds()) < DUPLICATE_WITHIN_S
    ):
        raise Conflict(
            f"{outcome.replace('_', ' ').capitalize()} was already recorded for this visit just now"
        )
    device_id = (device_id or visit.device_id).strip()[:64]
    if outcome == "FITTED":
        if not device_id:
            raise Invalid("Enter the serial of the device fitted", field="device_id")
        holder = device_queries.device_holder(session, device_id)
        if holder and holder != actor:
            raise Conflict(f"Device {device_id} is in another officer's stock, not yours")
        status = device_queries.device_status(session, device_id)
        if status is None:
            raise Invalid(f"No device {device_id!r} in the inventory", field="device_id")
        if status not in ("IN_STOCK", "ALLOCATED"):
            raise Conflict(f"Device {device_id} is {status}, not in stock")
        kind = device_queries.device_kind(session, device_id) or "RF_TAG"
        device_service.transition(
            session,
            actor=actor,
            device_id=device_id,
            to="FITTED",
            at=at,
            reason=f"fitted on {visit.visit_id}",
        )
        device_service.activate(
            session,
            actor=actor,
            activation={
                "activation_id": f"ACT-{visit.visit_id}-{visit.attempts + 1}"[:40],
                "device_id": device_id,
                "device_kind": kind,
                "order_ref": visit.order_ref,
                "person_id": visit.person_id or "UNKNOWN",
                "start": at,
            },
        )
    elif outcome == "RECOVERED" and device_id:
        if device_queries.device_status(session, device_id) not in (None, "RECOVERED"):
            device_service.transition(
                session,
                actor=actor,
                device_id=device_id,
                to="RECOVERED",
                at=at,
                reason=f"recovered on {visit_id}",
            )
    attempt = AttemptRow(
        visit_id=visit_id, at=at, officer=actor, outcome=outcome, device_id=device_id, note=note
    )
    session.add(attempt)
    visit.attempts += 1
    visit.last_outcome = outcome
    if device_id:
        visit.device_id = device_id
    if is_success(visit.kind, outcome):
        visit.status = "DONE"
    elif outcome in ("WRONG_ADDRESS", "UNSAFE_ADDRESS"):
        visit.address_check = "WRONG_ADDRESS"
        visit.address_message = (f"The officer found the address {outcome.split('_')[0].lower()} at the last attempt:"
                                 " check it with the order before the next attempt")[:200]  # fmt: skip
    if outcome == "ORDER_ERROR" and publish is not None:
        publish(OrderErrorReported(order_ref=visit.order_ref, visit_id=visit_id, person_id=visit.person_id,
                                   reported_by=actor, reported_at=iso(at), note=note))  # fmt: skip
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"field:{visit_id}:attempt",
        records=[visit.order_ref, visit.person_id],
        purpose="record a field visit outcome",
        details={"outcome": outcome},
    )
    return attempt


def plan_day(session: Session, *, actor: str, officer: str, day: str, visit_ids: list[str]) -> None:
    """Assign visits to an officer for a day in this order (the scheduler's route)."""
    for i, vid in enumerate(visit_ids):
        v = session.get(VisitRow, vid)
        if v is None:
            raise NotFound(f"No visit {vid!r}")
        v.officer, v.planned_for, v.sequence = officer, day, i + 1
    session.flush()
    audit.record(
        session, actor=actor, action=f"field:plan:{officer}:{day}", details={"visits": len(visit_ids)}
    )


def send_recovery_reminders(session: Session, *, actor: str, now: datetime) -> list[str]:
    """Open recovery visits whose last reminder (or creation) is older than REMINDER_EVERY get a reminder;
    returns their visit ids (the notify capability sends them when it exists)."""
    due: list[str] = []
    rows = session.execute(
        select(VisitRow).where(VisitRow.kind == "RECOVER", VisitRow.status == "OPEN")
    ).scalars()
    for v in rows:
        last = v.last_reminder_at or v.created_at
        if now - last >= REMINDER_EVERY:
            v.reminders += 1
            v.last_reminder_at = now
            due.append(v.visit_id)
    session.flush()
    if due:
        audit.record(session, actor=actor, action="field:recovery:remind", records=due)
    return due


def mark_lost(session: Session, *, actor: str, visit_id: str, at: datetime, reason: str) -> None:
    """Give up on a recovery: the device is recorded lost and the visit closed."""
    v = session.get(VisitRow, visit_id)
    if v is None or v.kind != "RECOVER":
        raise NotFound(f"No recovery visit {visit_id!r}")
    if v.device_id and device_queries.device_status(session, v.device_id) not in (None, "LOST"):
        device_service.transition(
            session, actor=actor, device_id=v.device_id, to="LOST", at=at, reason=reason
        )
    v.status = "CANCELLED"
    v.last_outcome = "LOST"
    session.flush()


ROAD_FACTOR = 1.3  # straight line to road distance
SPEED_KMH = 30.0
SERVICE_MINUTES = 30
SHIFT_MINUTES = 8 * 60


def plan_route(session: Session, *, actor: str, officer: str, day: str, seconds: float = 1.0) -> list[str]:
    """Plan the open visits with a position (and none planned yet for another day) into one officer's shift
    from the first visit's area, in the order PyVRP gives (travel time = straight line x road factor / speed).
    Visits that do not fit the shift stay unplanned. Returns the planned visit ids in route order."""
    from openem.field.scheduler import Instance, solve_pyvrp

    skills = officer_skills(session, officer)
    rows = [
        v
        for v in session.execute(select(VisitRow).where(VisitRow.status == "OPEN").order_by(VisitRow.due_by))
        .scalars()
        .all()
        if v.lat is not None
        and v.lon is not None
        and v.planned_for in ("", day)
        and v.address_check not in NEEDS_ADDRESS_CHECK
        and (not v.needs_skill or v.needs_skill in skills)  # an alcohol visit only for a trained officer
        and v.officers_needed < 2  # two-officer visits: planning.plan_region pairs officers
    ]
    if not rows:
        return []
    import math

    lat0 = sum(float(v.lat or 0) for v in rows) / len(rows)
    per_min = 60.0 / SPEED_KMH * ROAD_FACTOR  # minutes per straight-line km
    xs = [(float(v.lon or 0)) * 111.32 * math.cos(math.radians(lat0)) * per_min for v in rows]
    ys = [(float(v.lat or 0)) * 110.57 * per_min for v in rows]
    inst = Instance(
        name=f"{officer}-{day}",
        vehicles=1,
        capacity=len(rows),
        x=[sum(xs) / len(xs), *xs],  # the officer starts from the middle of the day's work
        y=[sum(ys) / len(ys), *ys],
        demand=[0] + [1] * len(rows),
        ready=[0] * (len(rows) + 1),
        due=[SHIFT_MINUTES] * (len(rows) + 1),
        service=[0] + [SERVICE_MINUTES] * len(rows),
    )
    routes = solve_pyvrp(inst, seconds) if len(rows) > 1 else [[1]]
    order = [rows[c - 1].visit_id for r in routes[:1] for c in r]
    plan_day(session, actor=actor, officer=officer, day=day, visit_ids=order)
    return order


def correct_address(
    session: Session,
    *,
    actor: str,
    visit_id: str,
    postcode: str = "",
    lat: float | None = None,
    lon: float | None = None,
    publish: Callable[[Any], None],
) -> VisitRow:
    """An address check resolved: a corrected postcode (looked up) or a pin (coordinates). A postcode that still
    cannot be placed is refused with why; the visit stays on address check."""
    v = session.get(VisitRow, visit_id)
    if v is None:
        raise NotFound(f"No visit {visit_id!r}")
    if v.status != "OPEN":
        raise Conflict(f"Visit {visit_id} is {v.status.lower()}: its address is no longer used")
    address: dict[str, Any] = {"postcode": postcode[:16]}
    if lat is not None or lon is not None:
        if lat is None or lon is None or not (49.8 <= lat <= 60.9 and -8.7 <= lon <= 1.8):
            raise Invalid(
                "Place the pin in Great Britain (latitude 49.8 to 60.9, longitude -8.7 to 1.8)", field="lat"
            )
        address.update(lat=lat, lon=lon)
    elif not postcode.strip():
        raise Invalid("Enter the postcode, or place the pin", field="postcode")
    placed = place_address(address)
    if placed[0] in NEEDS_ADDRESS_CHECK:
        raise Invalid(placed[4].split(": check")[0], field="postcode")
    before = (v.postcode, v.lat, v.lon)
    _set_address(v, placed)
    session.flush()
    audit.record(session, actor=actor, action=f"field:{visit_id}:address", records=[v.order_ref],
                 purpose="check a visit's address", details={"before": list(before), "check": v.address_check})  # fmt: skip
    _address_event(SimpleNamespace(add_event=publish), v)
    return v


# ---- pins: where each address of an order is, and the creator's correction ---------------------------------
GB_BOUNDS = (49.8, 60.9, -8.7, 1.8)  # lat min, lat max, lon min, lon max


def _address_type(a: dict[str, Any]) -> str:
    t = a.get("type")
    return str(t)[:20] if isinstance(t, str) and t.strip() else "PRIMARY"


def place_pins(session: Session, ref: str, order: dict[str, Any], at: datetime) -> dict[str, AddressPinRow]:
    """Place every address of the order (coordinates given win, else the postcode through the geocoder); a pin
    the order's creator corrected holds while the address keeps its postcode. Returns type -> pin."""
    out: dict[str, AddressPinRow] = {}
    for a in order.get("addresses") or []:
        if not isinstance(a, dict):
            continue
        kind = _address_type(a)
        if kind in out:
            continue
        check, lat, lon, postcode, message = place_address(a)
        pin = session.get(AddressPinRow, (ref[:40], kind))
        if pin is None:
            pin = AddressPinRow(order_ref=ref[:40], address_type=kind, corrected_by="", corrected_at=None)
            session.add(pin)
        elif pin.check == "CORRECTED" and pin.postcode == postcode and check != "GIVEN":
            out[kind] = pin
            continue
        source = {"GIVEN": "order", "LOCATED": geocode.geocoder().name}.get(check, "")
        pin.postcode, pin.lat, pin.lon, pin.check, pin.source = postcode, lat, lon, check, source[:60]
        pin.message, pin.updated_at = message[:200], at
        if check != "CORRECTED":
            pin.corrected_by, pin.corrected_at = "", None
        out[kind] = pin
    session.flush()
    return out


def _visit_address_type(location: str, types: list[str]) -> str | None:
    """The address a visit goes to, as in `_address`: the installation address at source, else the primary."""
    wanted = ("INSTALLATION",) if location != "HOME" else ("PRIMARY", "INSTALLATION")
    return next((t for t in wanted if t in types), None)


def _visit_place(order: dict[str, Any], location: str, pins: dict[str, AddressPinRow]
                 ) -> tuple[str, float | None, float | None, str, str]:  # fmt: skip
    kind = _visit_address_type(location, list(pins))
    pin = pins.get(kind) if kind else None
    if pin is None:
        return place_address(_address(order, location))
    return pin.check, pin.lat, pin.lon, pin.postcode, pin.message


def correct_pin(
    session: Session,
    *,
    actor: str,
    order_ref: str,
    address_type: str,
    lat: float,
    lon: float,
    at: datetime,
    publish: Callable[[Any], None],
) -> AddressPinRow:
    """The order's creator puts the pin of one address where it really is (inside Great Britain). Audited
    (before and after); open visits to that address use it at once (routing); `field.AddressPinCorrected`."""
    pin = session.get(AddressPinRow, (order_ref[:40], address_type[:20]))
    if pin is None:
        raise NotFound(f"Order {order_ref} has no {address_type.lower()} address to place")
    lat_min, lat_max, lon_min, lon_max = GB_BOUNDS
    if not all(math.isfinite(v) for v in (lat, lon)) or not (
        lat_min <= lat <= lat_max and lon_min <= lon <= lon_max
    ):
        raise Invalid(
            "Place the pin in Great Britain (latitude 49.8 to 60.9, longitude -8.7 to 1.8)", field="lat"
        )
    lat, lon = round(lat, 6), round(lon, 6)
    before = (pin.lat, pin.lon)
    pin.lat, pin.lon, pin.check, pin.source, pin.message = lat, lon, "CORRECTED", "corrected", ""
    pin.corrected_by, pin.corrected_at, pin.updated_at = actor[:80], at, at
    types = [p.address_type for p in session.execute(
        select(AddressPinRow).where(AddressPinRow.order_ref == pin.order_ref)).scalars()]  # fmt: skip
    moved = []
    for kind in KINDS:
        v = session.get(VisitRow, f"{kind}-{pin.order_ref}"[:60])
        if (
            v is not None
            and v.status == "OPEN"
            and _visit_address_type(v.location, types) == pin.address_type
        ):
            _set_address(v, ("CORRECTED", lat, lon, pin.postcode, ""))
            moved.append(v.visit_id)
    session.flush()
    audit.record(session, actor=actor, action=f"field:{pin.order_ref}:pin", records=[pin.order_ref],
                 purpose="correct where an order's address is",
                 details={"address_type": pin.address_type, "before": list(before), "after": [lat, lon],
                          "visits": moved})  # fmt: skip
    publish(AddressPinCorrected(order_ref=pin.order_ref, address_type=pin.address_type, postcode=pin.postcode,
                                lat=lat, lon=lon, before_lat=before[0], before_lon=before[1],
                                corrected_by=actor[:80], corrected_at=iso(at)))  # fmt: skip
    return pin


def set_officer_skills(
    session: Session, *, actor: str, officer: str, skills: list[str], at: datetime
) -> OfficerRow:
    """The officer's trainings (data on the officer record; "ALCOHOL" only for now), audited before/after."""
    known = {"ALCOHOL"}
    bad = [k for k in skills if k not in known]
    if bad:
        raise Invalid(
            f"Unknown training {bad[0]!r}: known trainings are {', '.join(sorted(known))}", field="skills"
        )
    if not officer.strip():
        raise Invalid("Say which officer", field="officer")
    row = session.get(OfficerRow, officer)
    before = list(row.skills) if row else []
    if row is None:
        row = OfficerRow(officer=officer, skills=[], updated_at=at, updated_by=actor)
        session.add(row)
    row.skills, row.updated_at, row.updated_by = sorted(set(skills)), at, actor
    session.flush()
    audit.record(session, actor=actor, action=f"field:officer:{officer}:skills", records=[officer],
                 details={"before": before, "after": row.skills})  # fmt: skip
    return row


def officer_skills(session: Session, officer: str) -> frozenset[str]:
    row = session.get(OfficerRow, officer)
    return frozenset(row.skills) if row else frozenset()


PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_TYPES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


def check_photo(content: bytes) -> str:
    """The photo's media type from its first bytes (a file's name or declared type is not trusted); refused with
    why when empty, over 5 MB, or not JPEG or PNG."""
    if not content:
        raise Invalid("The photo is empty: take or choose the photo again", field="photo")
    if len(content) > PHOTO_MAX_BYTES:
        raise Invalid("The photo must be 5 MB or smaller", field="photo")
    for magic, media in PHOTO_TYPES.items():
        if content.startswith(magic):
            return media
    raise Invalid(
        "The photo must be a JPEG or PNG image (this file is not, whatever its name)", field="photo"
    )


PHOTO_MAX_PIXELS = 50_000_000  # a phone camera is ~12-50 MP; more is a decompression bomb


def clean_photo(content: bytes) -> tuple[bytes, str]:
    """The photo as it is kept: checked (`check_photo`), decoded (a file that only starts like an image is
    refused), turned upright by its orientation tag, then written again **without its metadata**: EXIF (the
    phone's GPS position, the time, the camera's serial), XMP, comments and PNG text chunks are not kept."""
    import io
    import warnings

    from PIL import Image, ImageOps, UnidentifiedImageError

    media = check_photo(content)
    fmt = "JPEG" if media == "image/jpeg" else "PNG"
    refused = Invalid(
        "The photo could not be read as an image: take or choose the photo again", field="photo"
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content), formats=[fmt]) as img:
                if img.width * img.height > PHOTO_MAX_PIXELS:
                    raise Invalid("The photo has too many pixels (at most 50 megapixels)", field="photo")
                img.load()
                upright = ImageOps.exif_transpose(img)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:  # fmt: skip
        raise refused from exc
    if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    out = io.BytesIO()
    # a fresh image from the pixels alone: nothing of the file's metadata can ride along
    bare = Image.new(upright.mode, upright.size)
    bare.paste(upright)
    if fmt == "JPEG":
        bare.save(out, "JPEG", quality=90, optimize=True)
    else:
        bare.save(out, "PNG", optimize=True)
    return out.getvalue(), media


def attach_photo(session: Session, *, actor: str, attempt: AttemptRow, content: bytes, at: datetime
                 ) -> AttemptPhotoRow:  # fmt: skip
    """Store a photo of the fitted equipment with its attempt, checked and stripped of its metadata
    (`clean_photo`: no GPS position is kept), audited with the size received and the size kept."""
    import hashlib

    received = len(content)
    content, media = clean_photo(content)
    row = AttemptPhotoRow(attempt_id=attempt.attempt_id, visit_id=attempt.visit_id, media_type=media,
                          size=len(content), sha256=hashlib.sha256(content).hexdigest(), content=content,
                          uploaded_by=actor, uploaded_at=at)  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action=f"field:{attempt.visit_id}:photo", records=[attempt.visit_id],
                 details={"attempt_id": attempt.attempt_id, "photo_id": row.photo_id, "media_type": media,
                          "size": len(content), "received": received, "metadata_removed": True,
                          "sha256": row.sha256})  # fmt: skip
    return row
