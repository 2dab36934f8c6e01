"""Telemetry ingest over HTTP: `POST /api/telemetry/batch` with a gateway's bearer token.

Acknowledged (200) only after the batch is durably stored; the body reports what was accepted, which
messages were duplicates, and each rejection with its reason. Processing by the engine happens after commit.

Back-pressure: at most MAX_IN_FLIGHT batches are stored at once per server process; beyond that a batch is
refused with 503 and `Retry-After` before anything is read into the store, so it was never acknowledged and
the sender keeps it and resends (no acknowledged message is lost; resends are idempotent on device+seq).

`/api/telemetry/osmand` takes what Traccar's phone apps send (the OsmAnd query or form, or the newer JSON
body: `devices.osmand`, `devices.osmand_json`); the token's device scope must be the phone's own id, so a
phone speaks only for itself. A phone sending more than PHONE_BURST reports faster than PHONE_RATE_PER_S a
second is answered 429 with `Retry-After` (nothing stored; Traccar Client keeps and resends it).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from openem.auth.service import token_failed, token_retry_after
from openem.auth.throttle import Limits
from openem.core.errors import Forbidden, Invalid, NotFound, OpenEMError, TooManyRequests
from openem.core.time import utcnow
from openem.devices.queries import enrolment_verdict
from openem.telemetry.devices import Parked, osmand, osmand_json
from openem.telemetry.ingest import ingest_batch
from openem.telemetry.wire import MAX_BATCH_BYTES, json_schema
from openem.web.deps import Caller, client_address, gateway

router = APIRouter(tags=["telemetry"])
log = logging.getLogger("openem.telemetry")
MAX_IN_FLIGHT = 8
RETRY_AFTER_S = 1
_in_flight = [0]
PHONE_RATE_PER_S = 5.0  # sustained reports a second from one phone (a buffered backlog comes one by one)
PHONE_BURST = 300.0
MAX_OSMAND_BYTES = 64 * 1024
_buckets: dict[str, tuple[float, float]] = {}  # device -> (tokens, at); per server process
_buckets_lock = threading.Lock()


def _allow(device_id: str, now: float | None = None) -> float:
    """Token bucket per phone: 0 when this report may go in, else the seconds until it may."""
    now = time.monotonic() if now is None else now
    with _buckets_lock:
        tokens, at = _buckets.get(device_id, (PHONE_BURST, now))
        tokens = min(PHONE_BURST, tokens + (now - at) * PHONE_RATE_PER_S)
        if tokens < 1:
            _buckets[device_id] = (tokens, now)
            return (1 - tokens) / PHONE_RATE_PER_S
        _buckets[device_id] = (tokens - 1, now)
        if len(_buckets) > 200_000:  # bounded: forget the fullest buckets' owners
            for key in [k for k, (t, _) in _buckets.items() if t >= PHONE_BURST - 1][:100_000]:
                del _buckets[key]
        return 0.0


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
    options = getattr(request.app.state, "ingest_options", {})

    def store_then_process() -> dict[str, Any]:
        with db.uow() as uow:
            result = ingest_batch(uow.session, raw, source=source, sender=sender, received_at=at, **options)
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


class _TooLarge(OpenEMError):
    status = 413
    code = "too_large"


class _Gone(OpenEMError):
    status = 410
    code = "revoked"


async def _osmand_report(
    request: Request, now: datetime, *, too_large: type[OpenEMError] = Invalid
) -> tuple[str | None, list[dict[str, Any]], list[Parked]]:
    """A phone's report as (the device id it claims, wire objects, parked): the OsmAnd query or form, or the
    JSON body of newer Traccar Clients. Oversized or unreadable requests raise (nothing stored)."""
    params = dict(request.query_params)
    body = await request.body() if request.method == "POST" else b""
    if len(body) > MAX_OSMAND_BYTES:
        raise too_large(f"The phone's report is larger than {MAX_OSMAND_BYTES} bytes")
    if request.method == "POST" and not params and body.lstrip()[:1] in (b"{", b"["):
        try:
            decoded = json.loads(body)
        except (ValueError, RecursionError):
            raise Invalid(
                "The body is not JSON: send the OsmAnd query, a form, or Traccar Client's JSON"
            ) from None
        return osmand_json(decoded, now)
    if request.method == "POST" and not params:
        try:
            form = await request.form()
        except Exception:  # a multipart body starlette cannot read: the sender's fault, not a 500
            raise Invalid("The form could not be read: send the OsmAnd query or form") from None
        params = {k: str(v) for k, v in form.items()}
    if len(params) > 40 or any(len(k) > 40 or len(v) > 2000 for k, v in params.items()):
        raise too_large("The OsmAnd query is too large")
    objs, one = osmand(params, now)
    return params.get("id") or params.get("deviceid"), objs, [one] if one is not None else []


def _flooded(device_id: str) -> JSONResponse | None:
    wait = _allow(device_id)
    if wait <= 0:
        return None
    return JSONResponse(
        {"error": "too_many_requests",
         "detail": "This phone is sending faster than one device may: nothing was stored; send it again later",
         "message": f"At most {PHONE_RATE_PER_S:g} reports a second from one phone (bursts of "
                    f"{PHONE_BURST:g}): nothing was stored; send it again in {max(1, round(wait))} s"},
        status_code=429, headers={"Retry-After": str(max(1, round(wait)))},
    )  # fmt: skip


@router.api_route(
    "/api/telemetry/osmand",
    methods=["GET", "POST"],
    summary="A phone's position (OsmAnd query, form or JSON)",
)
async def post_osmand(request: Request, caller: Caller = Depends(gateway)) -> JSONResponse:
    now = utcnow()
    device_id, objs, parked = await _osmand_report(request, now)
    if device_id != caller.device_scope:
        raise Invalid("'id' must be this phone's own device id (the one its token was issued for)")
    flood = _flooded(caller.device_scope)
    if flood is not None:
        return flood
    items: list[Any] = [*objs, *({"osmand": p.to_wire_rejection()} for p in parked)]
    return await _store(request, json.dumps(items).encode(), "osmand", caller.device_scope, now)


@router.api_route(
    "/ingest/osmand/{enrolment_token}",
    methods=["GET", "POST"],
    summary="An enrolled phone's position (Traccar Client: the URL `openem devices enrol` printed)",
    tags=["telemetry"],
)
async def enrolled_osmand(request: Request, enrolment_token: str) -> JSONResponse:
    """What Traccar Client sends to the URL `openem devices enrol` printed: the token in the path is the phone's
    credential (only its SHA-256 is kept). Refused with a reason: an unknown link (404), a revoked one (410), no
    device id (422), an id other than the enrolled one (403); a client address sending wrong links is
    throttled with the bearer tokens' rule (429). Then as `/api/telemetry/osmand`: the phone's flood limit,
    stored first, each bad message a rejection and the good ones kept."""
    now = utcnow()
    db = request.app.state.db
    address = client_address(request)
    with db.sessions() as s:
        wait = token_retry_after(s, address)
    if wait:
        raise TooManyRequests(f"Too many requests with a wrong enrolment link: try again in {wait} seconds",
                              retry_after_s=wait)  # fmt: skip
    claimed, objs, parked = await _osmand_report(request, now, too_large=_TooLarge)
    with db.sessions() as s:
        verdict = enrolment_verdict(s, enrolment_token, claimed)
    if not verdict.ok:
        log.info("osmand enrolment refused: %s", verdict.code)
        if verdict.code in ("unknown_token", "revoked_token"):
            with db.uow() as own:
                wait = token_failed(own.session, address, Limits.from_settings(request.app.state.settings))
            if wait:
                raise TooManyRequests(
                    f"Too many requests with a wrong enrolment link: try again in {wait} seconds",
                    retry_after_s=wait,
                )
        error = {"unknown_token": NotFound, "revoked_token": _Gone, "missing_id": Invalid,
                 "id_not_enrolled": Forbidden}[verdict.code]  # fmt: skip
        raise error(verdict.reason, code=verdict.code)
    device_id = verdict.device_id
    assert device_id is not None
    flood = _flooded(device_id)
    if flood is not None:
        return flood
    items: list[Any] = [*objs, *({"osmand": p.to_wire_rejection()} for p in parked)]
    return await _store(request, json.dumps(items).encode(), "osmand", device_id, now)


@router.get("/api/schema/telemetry", summary="JSON Schema of a telemetry message (docs/telemetry.md)")
def telemetry_schema() -> dict[str, Any]:
    return json_schema()
