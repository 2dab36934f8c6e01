"""Telemetry ingest over HTTP: `POST /api/telemetry/batch` with a gateway's bearer token.

Acknowledged (200) only after the batch is durably stored; the body reports what was accepted, which
messages were duplicates, and each rejection with its reason. Processing by the engine happens after commit.

Back-pressure: at most MAX_IN_FLIGHT batches are stored at once per server process; beyond that a batch is
refused with 503 and `Retry-After` before anything is read into the store, so it was never acknowledged and
the sender keeps it and resends (no acknowledged message is lost; resends are idempotent on device+seq).

`/api/telemetry/osmand` takes the OsmAnd query Traccar's phone apps send (id, lat, lon, timestamp, speed,
bearing, accuracy); the token's device scope must be the phone's own id, so a phone speaks only for itself.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from openem.core.errors import Invalid
from openem.core.time import utcnow
from openem.telemetry.devices import osmand
from openem.telemetry.ingest import ingest_batch
from openem.telemetry.wire import MAX_BATCH_BYTES, json_schema
from openem.web.deps import Caller, gateway

router = APIRouter(tags=["telemetry"])
MAX_IN_FLIGHT = 8
RETRY_AFTER_S = 1
_in_flight = [0]


def _busy() -> JSONResponse:
    return JSONResponse(
        {"error": "busy", "detail": "Ingest is behind: nothing was stored; send the batch again shortly"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


async def _store(
    request: Request, raw: bytes, source: str, sender: str, at: datetime | None = None
) -> JSONResponse:
    if _in_flight[0] >= MAX_IN_FLIGHT:
        return _busy()
    db = request.app.state.db
    hooks = request.app.state.ingest_hooks

    def store_then_process() -> dict[str, Any]:
        with db.uow() as uow:
            result = ingest_batch(uow.session, raw, source=source, sender=sender, received_at=at)
        for hook in hooks:  # after the commit: the batch is durable whatever happens next
            hook(result)
        return result.summary()

    _in_flight[0] += 1
    try:
        # blocking database and engine work runs in the thread pool, never on the event loop
        return JSONResponse(await run_in_threadpool(store_then_process))
    finally:
        _in_flight[0] -= 1


@router.post("/api/telemetry/batch", summary="Send a batch of device messages (JSON array or JSON Lines)")
async def post_batch(request: Request, caller: Caller = Depends(gateway)) -> JSONResponse:
    raw = await request.body()
    if not raw.strip():
        raise Invalid("The batch is empty: send a JSON array or JSON Lines of device messages")
    if len(raw) > MAX_BATCH_BYTES:
        raise Invalid(f"The batch is larger than {MAX_BATCH_BYTES} bytes: send smaller batches")
    return await _store(request, raw, "http", caller.device_scope)


@router.api_route(
    "/api/telemetry/osmand", methods=["GET", "POST"], summary="A phone's position (OsmAnd query)"
)
async def post_osmand(request: Request, caller: Caller = Depends(gateway)) -> JSONResponse:
    params = dict(request.query_params)
    if request.method == "POST" and not params:
        form = await request.form()
        params = {k: str(v) for k, v in form.items()}
    if len(params) > 40 or any(len(k) > 40 or len(v) > 200 for k, v in params.items()):
        raise Invalid("The OsmAnd query is too large")
    if params.get("id") != caller.device_scope:
        raise Invalid("'id' must be this phone's own device id (the one its token was issued for)")
    now = utcnow()
    obj, parked = osmand(params, now)
    body = (
        json.dumps([obj])
        if obj is not None
        else json.dumps([{"osmand": parked.to_wire_rejection() if parked else None}])
    )
    return await _store(request, body.encode(), "osmand", caller.device_scope, now)


@router.get("/api/schema/telemetry", summary="JSON Schema of a telemetry message (docs/telemetry.md)")
def telemetry_schema() -> dict[str, Any]:
    return json_schema()
