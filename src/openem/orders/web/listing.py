"""The orders list: tabs counted by the orders' real statuses, a search that looks across every tab (order
reference, device wearer's name, CRN, PNC, Home Office reference) and pages of 25 rows.

Only the orders the caller may see are counted or shown: the access rules decide row by row, as the order
pages do, so a count never tells anybody about an order outside their cases."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from openem.auth.policy import Principal, can_view_case
from openem.orders.queries import case_scope
from openem.orders.repository import OrderRow, OrderVersionRow
from openem.web.figures import Figure

PAGE_SIZE = 25
MAX_ROWS = 5000
IDENTIFIERS = ("crn", "pnc", "home_office_reference", "nomis_id", "prison_number")


def in_force(row: OrderRow, status: str) -> bool:
    """The version in force has this status, or (with no version in force yet) the latest has."""
    return (row.current_status or row.status) == status


#: tab -> (label, which orders it holds). A variation in progress leaves its order under Active.
TABS: dict[str, tuple[str, Callable[[OrderRow], bool]]] = {
    "all": ("All orders", lambda r: True),
    "draft": ("Drafts", lambda r: is_fresh_draft(r)),
    "submitted": ("Submitted", lambda r: r.status == "SUBMITTED"),
    "rejected": ("Failed (rejected)", lambda r: r.status == "REJECTED" and not r.current_status),
    "accepted": ("Accepted, not yet fitted", lambda r: in_force(r, "ACCEPTED")),
    "active": ("Active", lambda r: in_force(r, "ACTIVE")),
    "suspended": ("Suspended", lambda r: in_force(r, "SUSPENDED")),
    "ended": ("Ended", lambda r: in_force(r, "ENDED")),
}


@dataclasses.dataclass
class OrderList:
    tab: str
    rows: list[OrderRow]
    counts: dict[str, int]
    total: int
    page: int
    pages: int

    @property
    def first(self) -> int:
        return (self.page - 1) * PAGE_SIZE + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.page * PAGE_SIZE, self.total)


def matches_identifiers(session: Session, needle: str) -> set[str]:
    """Refs of orders whose wearer has a CRN, PNC or other identifier containing the needle."""
    text = func.lower(cast(OrderVersionRow.document, String))
    stmt = select(OrderVersionRow.ref, OrderVersionRow.document).where(text.contains(needle, autoescape=True))
    refs = set()
    for ref, doc in session.execute(stmt.limit(MAX_ROWS)):
        wearer = (doc or {}).get("device_wearer") or {}
        if any(needle in str(wearer.get(k) or "").lower() for k in IDENTIFIERS):
            refs.add(ref)
    return refs


def is_fresh_draft(row: OrderRow) -> bool:
    """Never submitted (or rejected and being amended): nothing in force, nothing for others to act on."""
    return row.status == "DRAFT" and not row.current_status


def visible_orders(
    session: Session, principal: Principal, needle: str = "", mine: bool = False
) -> list[OrderRow]:
    stmt = select(OrderRow).order_by(OrderRow.updated_at.desc(), OrderRow.ref).limit(MAX_ROWS)
    if mine:
        stmt = stmt.where(OrderRow.created_by == principal.user_id)
    by_identifier = matches_identifiers(session, needle) if needle else set()
    drafts_too = principal.has("orders:create")  # a draft is its creator's work in progress, not yet an order
    rows = []
    for row in session.execute(stmt).scalars():
        if not drafts_too and is_fresh_draft(row):
            continue
        if needle and needle not in f"{row.wearer_name} {row.ref}".lower() and row.ref not in by_identifier:
            continue
        if can_view_case(principal, case_scope(row)).allowed:
            rows.append(row)
    return rows


def order_list(
    session: Session, principal: Principal, tab: str, needle: str, mine: bool, page: int
) -> OrderList:
    rows = visible_orders(session, principal, needle, mine)
    counts = {key: sum(1 for r in rows if holds(r)) for key, (_, holds) in TABS.items()}
    chosen = [r for r in rows if TABS[tab][1](r)]
    pages = max(1, math.ceil(len(chosen) / PAGE_SIZE))
    page = min(max(page, 1), pages)
    shown = chosen[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return OrderList(tab, shown, counts, len(chosen), page, pages)


def page_links(pages: int, current: int) -> list[Any]:
    """GOV.UK pagination: the first, the last, the current and its neighbours, with ellipses between."""
    wanted = sorted({1, pages, current - 1, current, current + 1} & set(range(1, pages + 1)))
    out: list[Any] = []
    for n in wanted:
        if out and n - out[-1] > 1:
            out.append(None)
        out.append(n)
    return out


def home_figures(session: Session, principal: Principal) -> list[Figure]:
    """The monitoring centre's work (orders to review, orders in force) and a creator's drafts."""
    out = []
    if principal.has("orders:review") and principal.has("cases:all"):
        by_status: dict[str, int] = dict(
            session.execute(select(OrderRow.status, func.count()).group_by(OrderRow.status)).tuples().all()
        )
        in_force: dict[str, int] = dict(
            session.execute(select(OrderRow.current_status, func.count()).group_by(OrderRow.current_status))
            .tuples()
            .all()
        )
        out += [
            Figure(
                by_status.get("SUBMITTED", 0),
                "orders awaiting review",
                "/orders?tab=submitted",
                "order awaiting review",
            ),
            Figure(in_force.get("ACTIVE", 0), "active orders", "/orders?tab=active", "active order"),
            Figure(
                in_force.get("ACCEPTED", 0),
                "orders accepted, not yet fitted",
                "/orders?tab=accepted",
                "order accepted, not yet fitted",
            ),
        ]
    if principal.has("orders:create"):
        drafts = session.execute(
            select(func.count()).where(
                OrderRow.created_by == principal.user_id,
                OrderRow.status == "DRAFT",
                OrderRow.current_status == "",
            )
        ).scalar_one()
        out.append(
            Figure(
                int(drafts), "draft orders of yours", "/orders?tab=draft&mine=true", "draft order of yours"
            )
        )
    return out
