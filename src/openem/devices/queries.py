"""What other capabilities may ask of devices: the activations (a device linked to a person and an order for a
period), as plain dicts, and a cheap probe that says whether they may have changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openem.devices.tables import ActivationRow


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
