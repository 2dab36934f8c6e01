"""What other capabilities may ask of devices (read-only, plain rows or dicts; never the ORM objects): which
activation a device was on at an instant (telemetry ingest resolves every message with it), every activation
as the monitoring engine takes them, and a cheap probe that says whether they may have changed."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openem.devices.model import Enrolment, Verdict, judge, plausible_token, token_hash
from openem.devices.tables import ActivationChangesRow, ActivationRow, DeviceEnrolmentRow


def activations_live(session: Session, device_ids: Iterable[str]) -> dict[str, list[Any]]:
    """All activations of these devices (each device's history, oldest first) for resolving event times, as
    plain rows (activation_id, device_id, order_ref, person_id, role, start, end): ingest asks for them on every
    batch, and building ORM objects was a tenth of the server's time under a national fleet."""
    ids = list(set(device_ids))
    out: dict[str, list[Any]] = {}
    a = ActivationRow
    for i in range(0, len(ids), 500):
        rows = session.execute(
            select(a.activation_id, a.device_id, a.order_ref, a.person_id, a.role, a.start, a.end)
            .where(a.device_id.in_(ids[i : i + 500]))
            .order_by(a.start)
        )
        for r in rows:
            out.setdefault(r.device_id, []).append(r)
    return out


def all_activation_rows(session: Session) -> list[Any]:
    """Every activation as plain rows (as `activations_live` gives them), oldest first: ingest's in-memory index
    loads them when the activation probe changes."""
    a = ActivationRow
    return list(
        session.execute(
            select(a.activation_id, a.device_id, a.order_ref, a.person_id, a.role, a.start, a.end).order_by(
                a.start
            )
        )
    )


def resolve(history: list[Any] | None, at: datetime) -> Any:
    """The activation live at `at` (start <= at < end)."""
    for a in reversed(history or []):
        if a.start <= at and (a.end is None or at < a.end):
            return a
    return None


def activations_of_order(session: Session, order_ref: str, limit: int = 50) -> list[Any]:
    """The devices fitted for an order (the wearer's and any victim's), newest first, as plain rows
    (activation_id, device_id, device_kind, role, start, end): the order's page lists them."""
    a = ActivationRow
    return list(
        session.execute(
            select(a.activation_id, a.device_id, a.device_kind, a.role, a.start, a.end)
            .where(a.order_ref == order_ref)
            .order_by(a.start.desc())
            .limit(limit)
        )
    )


def activation_probe(session: Session) -> int:
    """A number that changes whenever the activations do (a fitting, an ending, any update or delete, by any
    writer, raw SQL included): a reader compares it with the last one it saw and reads the activations again only
    when it differs. The database keeps it (`activation_changes`, bumped by triggers in the changing transaction:
    migration 0028), so reading it is one row whatever the number of activations; counting them took 8-19 ms at
    50,000 on PostgreSQL on every ingested batch, and missed an update that left the counts as they were."""
    changes = session.execute(
        select(ActivationChangesRow.changes).where(ActivationChangesRow.id == 1)
    ).scalar()
    if changes is None:  # the row is gone (raw SQL): a value never seen before, so every reader reloads
        return -time.monotonic_ns()
    return int(changes)


def all_activations(session: Session) -> list[dict[str, Any]]:
    """Every activation, as the monitoring engine takes them (`monitoring.model.Activation.from_dict`)."""
    return [_as_dict(a) for a in session.execute(select(ActivationRow)).scalars()]


def _as_dict(a: ActivationRow) -> dict[str, Any]:
    return {"activation_id": a.activation_id, "device_id": a.device_id, "device_kind": a.device_kind,
            "order_ref": a.order_ref, "person_id": a.person_id, "role": a.role, "start": a.start, "end": a.end}  # fmt: skip


def device_status(session: Session, device_id: str) -> str | None:
    """The device's lifecycle state (devices.rules.STATES), or None when it is not in the inventory."""
    from openem.devices.tables import DeviceRow

    dev = session.get(DeviceRow, device_id)
    return None if dev is None else dev.status


def stock_counts(session: Session) -> dict[str, int]:
    """How many devices are in each lifecycle state."""
    from openem.devices.tables import DeviceRow

    rows = session.execute(select(DeviceRow.status, func.count()).group_by(DeviceRow.status))
    return {str(s): int(n) for s, n in rows}


def device_history(session: Session, device_id: str) -> list[dict[str, Any]]:
    """The device's state changes, oldest first."""
    from openem.devices.tables import DeviceEventRow

    e = DeviceEventRow
    rows = session.execute(select(e).where(e.device_id == device_id).order_by(e.event_id)).scalars()
    return [
        {"at": r.at, "from": r.from_state, "to": r.to_state, "actor": r.actor, "reason": r.reason}
        for r in rows
    ]


def device_kind(session: Session, device_id: str) -> str | None:
    from openem.devices.tables import DeviceRow

    dev = session.get(DeviceRow, device_id)
    return None if dev is None else dev.device_kind


def device_holder(session: Session, device_id: str) -> str:
    """The field officer holding the device in their stock ("" when it is at its depot or not in stock)."""
    from openem.devices.tables import DeviceRow

    dev = session.get(DeviceRow, device_id)
    return "" if dev is None else dev.holder


def device(session: Session, device_id: str) -> dict[str, Any] | None:
    from openem.devices.tables import DeviceRow

    d = session.get(DeviceRow, device_id)
    if d is None:
        return None
    return {"device_id": d.device_id, "device_kind": d.device_kind, "model": d.model, "firmware": d.firmware,
            "serial": d.serial, "status": d.status, "depot": d.depot, "holder": d.holder}  # fmt: skip


def inventory(session: Session, *, depot: str = "", kind: str = "", status: str = "", holder: str = "",
              limit: int = 200) -> list[dict[str, Any]]:  # fmt: skip
    from openem.devices.tables import DeviceRow

    q = select(DeviceRow.device_id).order_by(DeviceRow.device_id).limit(limit)
    for col, value in ((DeviceRow.depot, depot), (DeviceRow.device_kind, kind), (DeviceRow.status, status),
                       (DeviceRow.holder, holder)):  # fmt: skip
        if value:
            q = q.where(col == value)
    return [d for i in session.execute(q).scalars() if (d := device(session, i)) is not None]


def stock_by_depot(session: Session) -> dict[str, dict[str, dict[str, int]]]:
    """depot -> device kind -> state -> count."""
    from openem.devices.tables import DeviceRow

    d = DeviceRow
    out: dict[str, dict[str, dict[str, int]]] = {}
    for depot, kind, status, n in session.execute(
        select(d.depot, d.device_kind, d.status, func.count()).group_by(d.depot, d.device_kind, d.status)
    ):
        out.setdefault(depot or "", {}).setdefault(kind, {})[status] = int(n)
    return out


def stock_by_holder(session: Session) -> dict[str, dict[str, int]]:
    """officer -> device kind -> devices they hold (allocated to them, not yet fitted)."""
    from openem.devices.tables import DeviceRow

    d = DeviceRow
    out: dict[str, dict[str, int]] = {}
    for holder, kind, n in session.execute(
        select(d.holder, d.device_kind, func.count()).where(d.holder != "").group_by(d.holder, d.device_kind)
    ):
        out.setdefault(holder, {})[kind] = int(n)
    return out


def weekly_rates(session: Session, depot: str, since: datetime, days: int) -> dict[str, tuple[float, float]]:
    """device kind -> (fittings a week, devices put awaiting collection a week) at a depot since `since`."""
    from openem.devices.tables import DeviceEventRow, DeviceRow

    e, d = DeviceEventRow, DeviceRow
    out: dict[str, list[float]] = {}
    rows = session.execute(
        select(d.device_kind, e.to_state, func.count())
        .join(d, d.device_id == e.device_id)
        .where(d.depot == depot, e.at >= since, e.to_state.in_(("FITTED", "AWAITING_RETURN")))
        .group_by(d.device_kind, e.to_state)
    )
    weeks = max(days, 1) / 7.0
    for kind, state, n in rows:
        pair = out.setdefault(kind, [0.0, 0.0])
        pair[0 if state == "FITTED" else 1] += int(n) / weeks
    return {k: (v[0], v[1]) for k, v in out.items()}


def enrolment_verdict(session: Session, token: str, claimed_id: str | None) -> Any:
    """May a phone presenting this enrolment token and claiming this device id send? A
    `devices.model.Verdict` (its device id, or a code and the reason to answer). Looked up by the token's
    SHA-256 (the token is never stored)."""
    if not plausible_token(token):
        return Verdict(None, "unknown_token", "This enrolment link is not known: enrol the phone again")
    row = session.get(DeviceEnrolmentRow, token_hash(token))
    found = (
        None
        if row is None
        else Enrolment(row.token_hash, row.device_id, row.kind, row.created_at, row.revoked_at)
    )
    return judge(found, token, claimed_id)


def enrolments_of(session: Session, device_id: str) -> list[dict[str, Any]]:
    """A device's enrolments, newest first (never a token: only when and by whom, and whether revoked)."""
    e = DeviceEnrolmentRow
    rows = session.execute(select(e).where(e.device_id == device_id).order_by(e.created_at.desc())).scalars()
    return [{"device_id": r.device_id, "kind": r.kind, "created_at": r.created_at, "created_by": r.created_by,
             "revoked_at": r.revoked_at, "revoked_by": r.revoked_by} for r in rows]  # fmt: skip
