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


def resolve(history: list[Any] | None, at: datetime) -> Any:
    """The activation live at `at` (start <= at < end)."""
    for a in reversed(history or []):
        if a.start <= at and (a.end is None or at < a.end):
            return a
    return None


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
