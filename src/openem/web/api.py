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
    db = request.app.state.db
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        db_ok = True
    except Exception:  # noqa: BLE001
        db_ok = False
    parked = _parked(db) if db_ok else None
    body = {"status": "ok" if db_ok and not parked else "degraded", "version": __version__,
            "database": "ok" if db_ok else "down", "database_kind": "sqlite" if db.is_sqlite else "postgresql",
            "parked": parked}  # parked messages degrade the service (some work waits) but it still serves: 200
    return JSONResponse(body, status_code=200 if db_ok else 503)


def _parked(db: Any) -> int | None:
    from openem.bus.parking import parked_count

    try:
        with db.uow() as uow:
            return parked_count(uow.session)
    except Exception:  # noqa: BLE001 - e.g. not migrated yet: health still answers
        return None


@router.get("/metrics", tags=["platform"], dependencies=[Depends(metrics_reader)])
def metrics() -> Response:
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
    return UserRead(id=u.id, username=u.username, display_name=u.display_name, email=u.email, roles=list(u.roles),
                    organisation=u.organisation, police_area=u.police_area, active=u.active,
                    restricted="cases:restricted" in (u.extra_permissions or []))


@router.get("/api/me", tags=["platform"])
def me(caller: Caller = Depends(signed_in)) -> dict[str, Any]:
    p = caller.principal
    assert p is not None
    return {"user_id": p.user_id, "username": p.username, "roles": list(p.roles),
            "role_labels": [ROLE_LABELS.get(r, r) for r in p.roles],  # type: ignore[call-overload]
            "permissions": sorted(p.permissions)}


@router.get("/api/users", tags=["admin"], response_model=list[UserRead])
def list_users(uow: UnitOfWork = Depends(get_uow, scope="function"), caller: Caller = Depends(require("users:manage"))) -> list[UserRead]:
    return [user_read(u) for u in uow.session.execute(select(UserRow).order_by(UserRow.username)).scalars()]


@router.post("/api/users", tags=["admin"], status_code=201, response_model=UserRead,
             dependencies=[Depends(csrf_protect)])
def add_user(body: UserCreate, uow: UnitOfWork = Depends(get_uow, scope="function"),
             caller: Caller = Depends(require("users:manage"))) -> UserRead:
    u = create_user(uow.session, actor=caller.actor, **body.model_dump())
    return user_read(u)


@router.get("/api/audit/verify", tags=["admin"])
def verify(uow: UnitOfWork = Depends(get_uow, scope="function"), caller: Caller = Depends(require("audit:read"))) -> dict[str, Any]:
    report = audit.verify_chain(uow.session)
    return {"ok": report.ok, "rows": report.rows, "first_bad_seq": report.first_bad_seq, "problem": report.problem}
