"""Use cases for devices and activations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from openem.auth import audit
from openem.core.errors import Conflict, Invalid
from openem.core.time import parse_instant
from openem.devices.model import check_device_id, check_kind, new_token, token_hash
from openem.devices.rules import STATE_LABELS, check_transition
from openem.devices.tables import (
    ActivationRow,
    DeviceEnrolmentRow,
    DeviceEventRow,
    DeviceRow,
    DeviceTransferRow,
)

DEVICE_KINDS = {"RF_TAG", "HMU", "GPS_TAG", "ALCOHOL_TAG", "NFD", "VICTIM"}


def register_devices(session: Session, *, actor: str, devices: Iterable[dict[str, Any]]) -> int:
    n = 0
    for d in devices:
        if d.get("device_kind") not in DEVICE_KINDS:
            raise Invalid(f"Unknown device kind {d.get('device_kind')!r}", field="device_kind")
        if session.get(DeviceRow, d["device_id"]) is None:
            session.add(
                DeviceRow(
                    device_id=d["device_id"],
                    device_kind=d["device_kind"],
                    model=d.get("model", ""),
                    firmware=d.get("firmware", ""),
                    serial=d.get("serial", ""),
                )
            )
            n += 1
    session.flush()
    audit.record(session, actor=actor, action="devices:inventory:register", details={"count": n})
    return n


def _instant(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    if hasattr(value, "to_pydatetime"):
        converted: datetime = value.to_pydatetime()
        return converted
    return parse_instant(str(value))


def activate(session: Session, *, actor: str, activation: dict[str, Any]) -> ActivationRow:
    """Link a device to a person and an order from `start` (to `end`, or open). Overlapping activations of
    one device are refused: a device is on one person at a time."""
    start = _instant(activation["start"])
    end = _instant(activation.get("end"))
    if start is None:
        raise Invalid("An activation needs a start", field="start")
    if end is not None and end <= start:
        raise Invalid("The activation must end after it starts", field="end")
    device_id = activation["device_id"]
    overlap = (
        session.execute(
            select(ActivationRow).where(
                ActivationRow.device_id == device_id,
                or_(ActivationRow.end.is_(None), ActivationRow.end > start),
                *([ActivationRow.start < end] if end is not None else []),
            )
        )
        .scalars()
        .first()
    )
    if overlap is not None and overlap.activation_id != activation["activation_id"]:
        raise Conflict(f"Device {device_id} is already active on order {overlap.order_ref}")
    if session.get(DeviceRow, device_id) is None:
        session.add(DeviceRow(device_id=device_id, device_kind=activation["device_kind"]))
    row = session.get(ActivationRow, activation["activation_id"])
    if row is None:
        row = ActivationRow(
            activation_id=activation["activation_id"],
            device_id=device_id,
            device_kind=activation["device_kind"],
            order_ref=activation["order_ref"],
            person_id=activation["person_id"],
            role=activation.get("role", "WEARER"),
            start=start,
            end=end,
        )
        session.add(row)
    dev = session.get(DeviceRow, device_id)
    if dev is not None and end is None:
        dev.status = "FITTED"
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"devices:{activation['activation_id']}:activate",
        records=[device_id, activation["order_ref"], activation["person_id"]],
    )
    return row


def end_activation(session: Session, *, actor: str, activation_id: str, at: datetime) -> ActivationRow:
    """End an open activation at `at` (the device came off the person): messages after it resolve to no
    activation, and the engines stop judging the device from `at` (their reconciler sees the change). Audited."""
    row = session.get(ActivationRow, activation_id)
    if row is None:
        raise Invalid(f"No activation {activation_id!r}", field="activation_id")
    if row.end is not None:
        raise Conflict(f"Activation {activation_id} already ended")
    if at <= row.start:
        raise Invalid("The activation must end after it starts", field="at")
    row.end = at
    session.flush()
    audit.record(session, actor=actor, action=f"devices:{activation_id}:end",
                 records=[row.device_id, row.order_ref, row.person_id])  # fmt: skip
    return row


def transition(
    session: Session,
    *,
    actor: str,
    device_id: str,
    to: str,
    at: datetime,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> DeviceEventRow:
    """Move a device to state `to`, refusing moves the lifecycle does not allow; recorded and audited."""
    dev = session.get(DeviceRow, device_id)
    if dev is None:
        raise Invalid(f"No device {device_id!r} in the inventory", field="device_id")
    problem = check_transition(dev.status, to)
    if problem is not None:
        raise Conflict(problem)
    event = DeviceEventRow(
        device_id=device_id,
        at=at,
        from_state=dev.status,
        to_state=to,
        actor=actor,
        reason=reason[:200],
        details=details or {},
    )
    dev.status = to
    if to not in ("ALLOCATED",):
        dev.holder = ""  # fitted, returned to the depot, faulty...: no longer in an officer's stock
    session.add(event)
    session.flush()
    audit.record(session, actor=actor, action=f"devices:{device_id}:{to.lower()}", records=[device_id])
    return event


MAX_BATCH = 5000


def receive_stock(session: Session, *, actor: str, depot: str, devices: Iterable[dict[str, Any]],
                  at: datetime) -> int:  # fmt: skip
    """Devices delivered to a depot, in stock there. A serial already in the inventory is refused (it is
    somewhere else, or already here)."""
    depot = depot.strip().upper()[:40]
    if not depot:
        raise Invalid("Enter the depot", field="depot")
    items = list(devices)[: MAX_BATCH + 1]
    if len(items) > MAX_BATCH:
        raise Invalid(f"At most {MAX_BATCH} devices at a time", field="devices")
    for d in items:
        did = str(d.get("device_id") or "").strip()
        if not did or len(did) > 64:
            raise Invalid("Each device needs a serial of at most 64 characters", field="device_id")
        if d.get("device_kind") not in DEVICE_KINDS:
            raise Invalid(f"Unknown device kind {d.get('device_kind')!r}", field="device_kind")
        if session.get(DeviceRow, did) is not None:
            raise Conflict(f"Device {did} is already in the inventory")
        session.add(DeviceRow(device_id=did, device_kind=d["device_kind"], model=str(d.get("model", ""))[:80],
                              firmware=str(d.get("firmware", ""))[:40], serial=did, status="IN_STOCK",
                              depot=depot, holder=""))  # fmt: skip
        session.add(DeviceEventRow(device_id=did, at=at, from_state="", to_state="IN_STOCK", actor=actor,
                                   reason=f"received at {depot}", details={}))  # fmt: skip
    session.flush()
    audit.record(session, actor=actor, action=f"devices:stock:{depot}:receive", records=[str(d["device_id"])
                 for d in items], details={"count": len(items)})  # fmt: skip
    return len(items)


def allocate(session: Session, *, actor: str, device_id: str, officer: str, at: datetime) -> None:
    """A device from its depot into an officer's stock (IN_STOCK -> ALLOCATED, held by the officer)."""
    officer = officer.strip()[:80]
    if not officer:
        raise Invalid("Enter the officer", field="officer")
    moving = session.get(DeviceRow, device_id)
    if moving is not None and moving.status == "IN_TRANSIT":
        raise Conflict(f"Device {device_id} is in transit between depots: allocate it once it is received")
    transition(session, actor=actor, device_id=device_id, to="ALLOCATED", at=at, reason=f"to {officer}")
    dev = session.get(DeviceRow, device_id)
    assert dev is not None
    dev.holder = officer
    session.flush()


def enrol_phone(session: Session, *, actor: str, device_id: str, kind: str, at: datetime,
                replace: bool = False) -> str:  # fmt: skip
    """Enrol a phone as device `device_id` (NFD or VICTIM): returns the token for its ingest URL, shown once
    (only its SHA-256 is kept). The device record is made if missing (in stock, of that kind); a device of
    another kind is refused, and so is a second live enrolment unless `replace` (which revokes the first).
    Audited."""
    problem = check_kind(kind) or check_device_id(device_id)
    if problem is not None:
        raise Invalid(problem, field="kind" if kind not in ("NFD", "VICTIM") else "device_id")
    dev = session.get(DeviceRow, device_id)
    if dev is None:
        dev = DeviceRow(
            device_id=device_id, device_kind=kind, model="phone (Traccar Client)", serial=device_id
        )
        session.add(dev)
        session.add(DeviceEventRow(device_id=device_id, at=at, from_state="", to_state="IN_STOCK", actor=actor,
                                   reason="enrolled as a phone", details={"kind": kind}))  # fmt: skip
    elif dev.device_kind != kind:
        raise Conflict(f"Device {device_id} is a {dev.device_kind}, not a {kind}: a phone keeps one kind")
    live = _live_enrolments(session, device_id)
    if live and not replace:
        raise Conflict(
            f"Device {device_id} already has a live enrolment: revoke it "
            f"(openem devices revoke-enrolment {device_id}) or enrol with --replace"
        )
    for old in live:
        old.revoked_at, old.revoked_by = at, actor[:80]
    token = new_token()
    session.add(DeviceEnrolmentRow(token_hash=token_hash(token), device_id=device_id, kind=kind, created_at=at,
                                   created_by=actor[:80], revoked_at=None, revoked_by=""))  # fmt: skip
    session.flush()
    audit.record(session, actor=actor, action=f"devices:{device_id}:enrol", records=[device_id],
                 details={"kind": kind, "replaced": len(live)})  # fmt: skip
    return token


def _live_enrolments(session: Session, device_id: str) -> list[DeviceEnrolmentRow]:
    """The device's enrolments not yet revoked (normally none or one)."""
    stmt = select(DeviceEnrolmentRow).where(
        DeviceEnrolmentRow.device_id == device_id, DeviceEnrolmentRow.revoked_at.is_(None)
    )
    return list(session.execute(stmt).scalars().all())


def revoke_enrolment(session: Session, *, actor: str, device_id: str, at: datetime, reason: str = "") -> int:
    """Revoke every live enrolment of the device (its phone's URL stops working at once); the number revoked.
    Audited, also when there was none (the attempt is part of the record)."""
    live = _live_enrolments(session, device_id)
    for row in live:
        row.revoked_at, row.revoked_by = at, actor[:80]
    session.flush()
    audit.record(session, actor=actor, action=f"devices:{device_id}:revoke_enrolment", records=[device_id],
                 outcome="ok" if live else "none", details={"revoked": len(live), "reason": reason[:200]})  # fmt: skip
    return len(live)


def send_transfer(session: Session, *, actor: str, from_depot: str, to_depot: str, device_ids: Iterable[str],
                  at: datetime) -> DeviceTransferRow:  # fmt: skip
    """Send devices in stock at one depot to another: each goes IN_TRANSIT (not allocatable, not fittable)
    until received. All or nothing: a serial unknown, at another depot or not in stock refuses the whole move,
    every problem said at once."""
    import uuid

    src, dst = from_depot.strip().upper()[:40], to_depot.strip().upper()[:40]
    if not src or not dst:
        raise Invalid("Enter the depot the devices leave and the depot they go to", field="from_depot")
    if src == dst:
        raise Invalid("The devices must go to another depot", field="to_depot")
    ids = list(dict.fromkeys(d.strip() for d in list(device_ids)[: MAX_BATCH + 1] if d.strip()))
    if not ids:
        raise Invalid("Enter the serials of the devices to move", field="devices")
    if len(ids) > MAX_BATCH:
        raise Invalid(f"At most {MAX_BATCH} devices at a time", field="devices")
    problems = []
    for did in ids:
        dev = session.get(DeviceRow, did[:64])
        if dev is None:
            problems.append(f"{did}: no such device in the inventory")
        elif dev.depot != src:
            problems.append(f"{did}: belongs to depot {dev.depot or 'none'}, not {src}")
        elif dev.status != "IN_STOCK":
            problems.append(f"{did}: is {STATE_LABELS.get(dev.status, dev.status).lower()}, not in stock")
    if problems:
        audit.record(session, actor=actor, action=f"devices:transfer:{src}:{dst}:refused", records=ids[:200],
                     outcome="refused", details={"problems": problems[:50]})  # fmt: skip
        raise Conflict(
            "Nothing was moved. " + "; ".join(problems[:20]) + ("; ..." if len(problems) > 20 else "")
        )
    row = DeviceTransferRow(transfer_id=f"TR-{at:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6].upper()}", from_depot=src,
                            to_depot=dst, devices=ids, status="IN_TRANSIT", sent_by=actor[:80], sent_at=at)  # fmt: skip
    session.add(row)
    for did in ids:
        transition(session, actor=actor, device_id=did, to="IN_TRANSIT", at=at, reason=f"{src} to {dst}",
                   details={"transfer": row.transfer_id})  # fmt: skip
    audit.record(session, actor=actor, action=f"devices:transfer:{row.transfer_id}:send", records=ids,
                 details={"from": src, "to": dst, "count": len(ids)})  # fmt: skip
    return row


def receive_transfer(session: Session, *, actor: str, transfer_id: str, at: datetime) -> DeviceTransferRow:
    """The devices of a transfer arrive: in stock at the depot they were sent to. Received once."""
    row = session.get(DeviceTransferRow, transfer_id.strip()[:40])
    if row is None:
        raise Invalid(f"No transfer {transfer_id!r}", field="transfer_id")
    if row.status != "IN_TRANSIT":
        raise Conflict(f"Transfer {row.transfer_id} was already received at {row.to_depot}")
    for did in row.devices:
        dev = session.get(DeviceRow, did)
        if dev is None or dev.status != "IN_TRANSIT":
            continue  # lost on the way (its own event says so): the others are received
        transition(session, actor=actor, device_id=did, to="IN_STOCK", at=at, reason=f"received at {row.to_depot}",
                   details={"transfer": row.transfer_id, "from": row.from_depot})  # fmt: skip
        dev.depot = row.to_depot
    row.status, row.received_by, row.received_at = "RECEIVED", actor[:80], at
    session.flush()
    audit.record(session, actor=actor, action=f"devices:transfer:{row.transfer_id}:receive", records=row.devices,
                 details={"from": row.from_depot, "to": row.to_depot})  # fmt: skip
    return row


def transfers(session: Session, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    q = select(DeviceTransferRow)
    if status is not None:
        q = q.where(DeviceTransferRow.status == status)
    rows = session.execute(q.order_by(DeviceTransferRow.sent_at.desc()).limit(limit)).scalars()
    return [{"transfer_id": r.transfer_id, "from_depot": r.from_depot, "to_depot": r.to_depot,
             "devices": list(r.devices), "status": r.status, "sent_by": r.sent_by, "sent_at": r.sent_at,
             "received_by": r.received_by, "received_at": r.received_at} for r in rows]  # fmt: skip
