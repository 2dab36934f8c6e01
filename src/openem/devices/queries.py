"""What other capabilities may ask of devices (read-only, plain rows or dicts; never the ORM objects): which
activation a device was on at an instant (telemetry ingest resolves every message with it), every activation
as the monitoring engine takes them, and a cheap probe that says whether they may have changed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openem.devices.tables import ActivationRow


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


def activation_probe(session: Session) -> tuple[int, int]:
    """(how many activations, how many have an end): a reader compares it with the last one it saw and reads
    the activations again only when it changed (a fitting adds one, a removal sets an end)."""
    count, ended = session.execute(select(func.count(), func.count(ActivationRow.end))).one()
    return int(count), int(ended)


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
