"""The order a route works on, loaded and authorised once (as warehouse's route factories do): the record,
the caller, the unit of work and the orders service on it (which records its events and audit there),
with the redirects the pages answer with.

    @router.post("/orders/{ref}/accept")
    def accept(order: OrderContext = Depends(order_route("orders:review"))) -> Response: ...

An order outside the caller's cases answers exactly as a missing one (404, the same message), so that order
references cannot be probed, and the refusal is audited.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from fastapi import Depends, Query, Request
from fastapi.responses import RedirectResponse

from openem.auth import audit
from openem.auth.policy import can_view_case
from openem.core.errors import Forbidden, NotFound
from openem.orders.lifecycle import OrderRecord
from openem.orders.model import OrderStatus
from openem.orders.queries import case_scope
from openem.orders.repository import OrderRow, SqlOrderRepository
from openem.orders.service import OrderService, ServiceResult
from openem.store.db import UnitOfWork
from openem.web.deps import Caller, deny_as_missing, get_uow, require


def order_service(uow: UnitOfWork) -> OrderService:
    """The orders service on this request's unit of work: its events and audit are written in the commit."""
    return OrderService(SqlOrderRepository(uow.session), unit=uow)


def load_visible(
    request: Request, uow: UnitOfWork, caller: Caller, ref: str, purpose: str = ""
) -> OrderRecord:
    """The order if the caller may see it, its reading audited; a missing order and one outside the caller's
    cases both answer 404 "There is no order <ref>" (the second refusal audited)."""
    assert caller.principal is not None
    missing = f"There is no order {ref[:40]}"
    row = uow.session.get(OrderRow, ref[:40])
    if row is None:
        raise NotFound(missing)
    decision = can_view_case(caller.principal, case_scope(row))
    if not decision.allowed:
        deny_as_missing(request, caller, decision.reason, missing, records=[row.ref])
    record = SqlOrderRepository(uow.session).get(row.ref)
    assert record is not None
    audit.record(
        uow.session,
        actor=caller.actor,
        action=f"orders:{row.ref}:read",
        records=[row.ref],
        purpose=purpose[:500],
        details={"reason": decision.reason},
    )
    return record


@dataclasses.dataclass
class OrderContext:
    request: Request
    uow: UnitOfWork
    caller: Caller
    record: OrderRecord
    service: OrderService

    @property
    def ref(self) -> str:
        return self.record.ref

    @property
    def actor(self) -> str:
        return self.caller.actor

    @property
    def repo(self) -> SqlOrderRepository:
        return SqlOrderRepository(self.uow.session)

    def must_own_draft(self) -> None:
        """Only the order's creator (or the monitoring centre) may change it."""
        p = self.caller.principal
        assert p is not None
        if self.record.versions[0].created_by != p.user_id and not p.has("orders:review"):
            raise Forbidden("Only the person who created this order can change it")

    def editable(self) -> RedirectResponse | None:
        """None when the caller may edit the draft; else the redirect to the order (no longer a draft)."""
        self.must_own_draft()
        if self.record.latest.status is not OrderStatus.DRAFT:
            return self.redirect()
        return None

    def changed(self, result: ServiceResult) -> ServiceResult:
        """Follow a use case's change (its events and audit are already in the unit of work)."""
        self.record = result.record
        return result

    def redirect(self, suffix: str = "") -> RedirectResponse:
        """303 to the order's page, or to one of its pages (`/check-answers`, `?decided=accepted`...)."""
        return RedirectResponse(f"/orders/{self.ref}{suffix}", status_code=303)

    def reload(self) -> OrderRecord:
        self.record = self.repo.get(self.ref) or self.record
        return self.record


def order_route(
    permission: str, purpose: str = "", *, asked_purpose: bool = False
) -> Callable[..., OrderContext]:
    """Dependency: the order named by the path's `{ref}`, loaded once for a caller holding `permission`.
    `purpose` is recorded with the read; `asked_purpose` takes it from the `?purpose=` query instead."""

    def load(
        ref: str,
        request: Request,
        uow: UnitOfWork = Depends(get_uow, scope="function"),
        caller: Caller = Depends(require(permission)),
    ) -> OrderContext:
        return OrderContext(
            request, uow, caller, load_visible(request, uow, caller, ref, purpose), order_service(uow)
        )

    def load_with_purpose(
        ref: str,
        request: Request,
        purpose: str = Query("", max_length=500),
        uow: UnitOfWork = Depends(get_uow, scope="function"),
        caller: Caller = Depends(require(permission)),
    ) -> OrderContext:
        return OrderContext(
            request, uow, caller, load_visible(request, uow, caller, ref, purpose), order_service(uow)
        )

    return load_with_purpose if asked_purpose else load
