"""What other capabilities may ask of orders (public queries; the tables stay private to orders)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openem.orders.model import OrderStatus
from openem.orders.repository import OrderRow, OrderVersionRow

LIVE = (OrderStatus.ACCEPTED.value, OrderStatus.ACTIVE.value)
ENDED = OrderStatus.ENDED.value


@dataclasses.dataclass(frozen=True)
class OrderInForce:
    """The version of an order in force (accepted, active or ended), as the store has it; the document is
    fetched separately (`order_documents`), only for the orders whose version a reader lacks."""

    ref: str
    version: int
    status: str
    decided_at: datetime | None
    updated_at: datetime


def orders_in_force_since(
    session: Session, since: datetime | None = None, overlap_s: float = 0.0
) -> list[OrderInForce]:
    """Orders whose version in force is live or ended, changed at or after `since` minus `overlap_s` (all when
    `since` is None). The overlap covers transactions that stamped `updated_at` before they committed."""
    q = (
        select(OrderVersionRow.ref, OrderVersionRow.version, OrderVersionRow.status, OrderVersionRow.decided_at,
               OrderRow.updated_at)
        .join(OrderRow, OrderRow.ref == OrderVersionRow.ref)
        .where(OrderVersionRow.status.in_((*LIVE, ENDED)))
    )  # fmt: skip
    if since is not None:
        q = q.where(OrderRow.updated_at >= since - timedelta(seconds=overlap_s))
    return [OrderInForce(*row) for row in session.execute(q)]


def order_documents(session: Session, refs: Iterable[str]) -> dict[str, tuple[dict[str, Any], str | None]]:
    """ref -> (document of the version in force, person id) for these orders."""
    wanted = sorted(set(refs))
    out: dict[str, tuple[dict[str, Any], str | None]] = {}
    for i in range(0, len(wanted), 500):
        rows = session.execute(
            select(OrderVersionRow.ref, OrderVersionRow.document, OrderRow.person_id)
            .join(OrderRow, OrderRow.ref == OrderVersionRow.ref)
            .where(OrderVersionRow.ref.in_(wanted[i : i + 500]), OrderVersionRow.status.in_((*LIVE, ENDED)))
        ).all()
        out.update({ref: (dict(doc), person_id) for ref, doc, person_id in rows})
    return out
