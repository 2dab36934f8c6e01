"""Telemetry ingest over HTTP: `POST /api/telemetry/batch` with a gateway's bearer token.

Acknowledged (200) only after the batch is durably stored; the body reports what was accepted, which
messages were duplicates, and each rejection with its reason. Processing by the engine happens after commit.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from openem.core.errors import Invalid
from openem.telemetry.ingest import ingest_batch
from openem.telemetry.wire import MAX_BATCH_BYTES, json_schema
from openem.web.deps import Caller, gateway

router = APIRouter(tags=["telemetry"])


@router.post("/api/telemetry/batch", summary="Send a batch of device messages (JSON array or JSON Lines)")
async def post_batch(request: Request, caller: Caller = Depends(gateway)) -> JSONResponse:
    raw = await request.body()
    if not raw.strip():
        raise Invalid("The batch is empty: send a JSON array or JSON Lines of device messages")
    if len(raw) > MAX_BATCH_BYTES:
        raise Invalid(f"The batch is larger than {MAX_BATCH_BYTES} bytes: send smaller batches")
    db = request.app.state.db
    hooks = request.app.state.ingest_hooks

    def store_then_process() -> dict[str, Any]:
        with db.uow() as uow:
            result = ingest_batch(uow.session, raw, source="http", sender=caller.device_scope)
        for hook in hooks:  # after the commit: the batch is durable whatever happens next
            hook(result)
        return result.summary()

    # blocking database and engine work runs in the thread pool, never on the event loop
    return JSONResponse(await run_in_threadpool(store_then_process))


@router.get("/api/schema/telemetry", summary="JSON Schema of a telemetry message (docs/telemetry.md)")
def telemetry_schema() -> dict[str, Any]:
    return json_schema()
