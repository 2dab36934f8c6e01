"""What other capabilities may ask of orders (read-only, plain values; never the ORM rows; the tables stay
private to orders): the case scope that access rules decide on, for one order or many, and the versions in
force that the monitoring engines follow."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openem.auth.policy import CaseScope
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


def case_scope(row: OrderRow) -> CaseScope:
    return CaseScope(
        order_ref=row.ref,
        responsible_officer_email=row.responsible_officer_email,
        police_area=row.police_area,
        notifying_organisation_name=row.notifying_organisation_name,
        created_by=row.created_by,
        restricted=row.restricted,
    )


def case_scopes(session: Session, refs: Iterable[str]) -> dict[str, CaseScope]:
    """The case scope of each of these orders that exists, by order ref."""
    wanted = sorted({r for r in refs if r})
    out: dict[str, CaseScope] = {}
    for i in range(0, len(wanted), 500):
        for row in session.execute(select(OrderRow).where(OrderRow.ref.in_(wanted[i : i + 500]))).scalars():
            out[row.ref] = case_scope(row)
    return out
