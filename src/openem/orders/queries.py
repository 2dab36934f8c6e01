"""What other capabilities may ask of orders (read-only, plain values; never the ORM rows): the case scope
that access rules decide on, for one order or many."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from openem.auth.policy import CaseScope
from openem.orders.repository import OrderRow


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
