"""Stock moved between depots: send devices in stock at one depot to another (they are in transit, not
allocatable, until received), and receive a transfer at the other end. Every device's move is in its history."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from openem.auth import audit
from openem.core.errors import Conflict, Invalid
from openem.core.time import utcnow
from openem.devices import queries, service
from openem.store.db import UnitOfWork
from openem.web.deps import Caller, csrf_protect, get_uow, read_form, require
from openem.web.rendering import render

router = APIRouter()
MANAGE = require("devices:manage")


def _page(request: Request, uow: UnitOfWork, errors: list[tuple[str, str]], form: dict[str, str],
          status: int = 200) -> Response:  # fmt: skip
    depots = sorted(d for d in queries.stock_by_depot(uow.session) if d)
    moving = service.transfers(uow.session, "IN_TRANSIT")
    received = service.transfers(uow.session, "RECEIVED", limit=20)
    # the banner names a real transfer, never words from the address bar
    sent = next(
        (t["transfer_id"] for t in moving if t["transfer_id"] == request.query_params.get("sent")), ""
    )
    done = next(
        (t["transfer_id"] for t in received if t["transfer_id"] == request.query_params.get("received")), ""
    )
    return render(request, "devices/transfers.html",
                  {"title": "Move stock between depots", "depots": depots, "errors": errors, "form": form,
                   "moving": moving, "received": received, "sent": sent, "done": done}, status)  # fmt: skip


@router.get("/devices/stock/transfers", include_in_schema=False)
def transfers_page(request: Request, uow: UnitOfWork = Depends(get_uow, scope="function"),
                   caller: Caller = Depends(MANAGE)) -> Response:  # fmt: skip
    audit.record(
        uow.session, actor=caller.actor, action="devices:transfers:read", purpose="manage device stock"
    )
    return _page(request, uow, [], {})


@router.post("/devices/stock/transfers", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def send(request: Request, uow: UnitOfWork = Depends(get_uow, scope="function"),
         caller: Caller = Depends(MANAGE), form: Any = Depends(read_form)) -> Response:  # fmt: skip
    values = {k: str(form.get(k, ""))[:200_000].strip() for k in ("from_depot", "to_depot", "devices")}
    serials = [s for s in values["devices"].replace(",", " ").split() if s]
    try:
        row = service.send_transfer(uow.session, actor=caller.actor, from_depot=values["from_depot"],
                                    to_depot=values["to_depot"], device_ids=serials, at=utcnow())  # fmt: skip
    except (Invalid, Conflict) as exc:  # answered, not raised: the refusal's audit row is kept
        field = exc.field if exc.field in values else "devices"
        return _page(request, uow, [(field, str(exc))], {k: v[:2000] for k, v in values.items()}, 422)
    return RedirectResponse(f"/devices/stock/transfers?sent={quote(row.transfer_id)}", status_code=303)


@router.post("/devices/stock/transfers/{transfer_id}/receive", include_in_schema=False,
             dependencies=[Depends(csrf_protect)])  # fmt: skip
def receive(transfer_id: str, request: Request, uow: UnitOfWork = Depends(get_uow, scope="function"),
            caller: Caller = Depends(MANAGE)) -> Response:  # fmt: skip
    try:
        row = service.receive_transfer(uow.session, actor=caller.actor, transfer_id=transfer_id, at=utcnow())
    except (Invalid, Conflict) as exc:
        return _page(request, uow, [("transfer", str(exc))], {}, 422)
    return RedirectResponse(f"/devices/stock/transfers?received={quote(row.transfer_id)}", status_code=303)
