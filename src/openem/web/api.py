"""Platform API: health, metrics, who am I, user administration, audit chain check."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from sqlalchemy import select, text

from openem import __version__
from openem.auth import audit
from openem.auth.roles import ROLE_LABELS
from openem.auth.service import create_user
from openem.auth.tables import UserRow
from openem.store.db import UnitOfWork
from openem.web.deps import Caller, csrf_protect, get_uow, require, signed_in
from openem.web.exposure import metrics_reader

router = APIRouter()


@router.get("/health", tags=["platform"])
def health(request: Request) -> Response:
    """The database, the outbox (what waits, for how long; what is parked) and the in-server engine (when it
    last ran, its watermark, its last batch), and whether this process's outbox dispatcher is the active one or
    stands by. 503 when the database is down or a figure passes its threshold
    (settings: OPENEM_HEALTH_OUTBOX_MAX_AGE_S, OPENEM_HEALTH_ENGINE_MAX_LAG_S); `problems` names the cause."""
    db, settings = request.app.state.db, request.app.state.settings
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        db_ok = True
    except Exception:  # noqa: BLE001
        db_ok = False
    parked = _parked(db) if db_ok else None
    outbox = _outbox(db) if db_ok else None
    live = getattr(request.app.state, "live", None)
    engine = live.status() if live is not None else None
    dispatcher = getattr(request.app.state, "dispatcher", None)
    problems = [] if db_ok else ["database: not answering"]
    oldest = (outbox or {}).get("oldest_age_s")
    if oldest is not None and oldest > settings.health_outbox_max_age_s:
        problems.append(
            f"outbox: the oldest undelivered message has waited {oldest:.0f} s "
            f"(limit {settings.health_outbox_max_age_s:.0f} s)"
        )
    if engine and engine["running"] and engine["lag_s"] > settings.health_engine_max_lag_s:
        problems.append(
            f"engine: last ran {engine['lag_s']:.0f} s ago (limit {settings.health_engine_max_lag_s:.0f} s)"
        )
    # parked messages degrade the service (some work waits for an operator) but it still serves: 200
    status = "failing" if problems else ("degraded" if parked else "ok")
    body = {
        "status": status,
        "version": __version__,
        "database": "ok" if db_ok else "down",
        "database_kind": "sqlite" if db.is_sqlite else "postgresql",
        "parked": parked,
        "outbox": outbox,
        "engine": engine,
        # "active": this process's outbox dispatcher sends; "standby": another process's does
        "dispatcher": dispatcher.status() if dispatcher is not None else None,
        "problems": problems,
    }
    return JSONResponse(body, status_code=503 if problems else 200)


def _parked(db: Any) -> int | None:
    from openem.bus.parking import parked_count

    try:
        with db.uow() as uow:
            return parked_count(uow.session)
    except Exception:  # noqa: BLE001 - e.g. not migrated yet: health still answers
        return None


def _outbox(db: Any) -> dict[str, Any] | None:
    """Messages waiting to be delivered and the oldest's age; the outbox gauges are set from the same figures."""
    from openem.bus import metrics as bus_metrics
    from openem.bus.outbox import backlog
    from openem.core.time import utcnow

    try:
        with db.uow() as uow:
            pending, oldest = backlog(uow.session, utcnow())
    except Exception:  # noqa: BLE001 - e.g. not migrated yet: health still answers
        return None
    bus_metrics.OUTBOX_PENDING.set(pending)
    bus_metrics.OUTBOX_OLDEST.set(oldest or 0)
    return {"pending": pending, "oldest_age_s": None if oldest is None else round(oldest, 1)}


@router.get("/metrics", tags=["platform"], dependencies=[Depends(metrics_reader)])
def metrics(request: Request) -> Response:
    _outbox(request.app.state.db)  # gauges read at scrape time
    live = getattr(request.app.state, "live", None)
    if live is not None:
        live.status()
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=200)
    roles: list[str] = Field(min_length=1, max_length=12)
    display_name: str = Field(default="", max_length=120)
    email: str = Field(default="", max_length=200)
    organisation: str = Field(default="", max_length=120)
    police_area: str = Field(default="", max_length=80)
    restricted: bool = False


class UserRead(BaseModel):
    id: str
    username: str
    display_name: str
    email: str
    roles: list[str]
    organisation: str
    police_area: str
    active: bool
    restricted: bool


def user_read(u: UserRow) -> UserRead:
    return UserRead(
        id=u.id,
        username=u.username,
        display_name=u.display_name,
        email=u.email,
        roles=list(u.roles),
        organisation=u.organisation,
        police_area=u.police_area,
        active=u.active,
        restricted="cases:restricted" in (u.extra_permissions or []),
    )


@router.get("/api/me", tags=["platform"])
def me(caller: Caller = Depends(signed_in)) -> dict[str, Any]:
    p = caller.principal
    assert p is not None
    return {
        "user_id": p.user_id,
        "username": p.username,
        "roles": list(p.roles),
        "role_labels": [ROLE_LABELS.get(r, r) for r in p.roles],  # type: ignore[call-overload]
        "permissions": sorted(p.permissions),
    }


@router.get("/api/users", tags=["admin"], response_model=list[UserRead])
def list_users(
    uow: UnitOfWork = Depends(get_uow, scope="function"), caller: Caller = Depends(require("users:manage"))
) -> list[UserRead]:
    return [user_read(u) for u in uow.session.execute(select(UserRow).order_by(UserRow.username)).scalars()]


@router.post(
    "/api/users",
    tags=["admin"],
    status_code=201,
    response_model=UserRead,
    dependencies=[Depends(csrf_protect)],
)
def add_user(
    body: UserCreate,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("users:manage")),
) -> UserRead:
    u = create_user(uow.session, actor=caller.actor, **body.model_dump())
    return user_read(u)


@router.get("/api/audit/verify", tags=["admin"])
def verify(
    uow: UnitOfWork = Depends(get_uow, scope="function"), caller: Caller = Depends(require("audit:read"))
) -> dict[str, Any]:
    report = audit.verify_chain(uow.session)
    return {
        "ok": report.ok,
        "rows": report.rows,
        "first_bad_seq": report.first_bad_seq,
        "problem": report.problem,
    }
