"""What the server shows about itself, and to whom: `/metrics` to a Prometheus scraper holding the scrape token
(`OPENEM_METRICS_TOKEN`) or to a client on this machine; the API documentation (`/api/docs`,
`/api/openapi.json`) to signed-in users in production and to anyone in development."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from openem.core.errors import Unauthenticated
from openem.store.db import UnitOfWork
from openem.web.deps import get_uow, signed_in

OPENAPI_URL = "/api/openapi.json"
DOCS_URL = "/api/docs"


def _loopback(request: Request) -> bool:
    """A client on this machine, not relayed by a proxy (a proxy on loopback would make everyone local)."""
    if request.headers.get("x-forwarded-for") or request.headers.get("forwarded"):
        return False
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def metrics_reader(request: Request) -> None:
    """Dependency of `/metrics`: the scrape token as a bearer token, or a loopback client."""
    expected = request.app.state.settings.metrics_token
    auth = request.headers.get("authorization", "")
    if expected and auth.lower().startswith("bearer ") and hmac.compare_digest(auth[7:].strip(), expected):
        return
    if _loopback(request):
        return
    raise Unauthenticated("Send the metrics scrape token as a bearer token")


def docs_reader(request: Request, uow: UnitOfWork = Depends(get_uow, scope="function")) -> None:
    """Dependency of the API documentation: signed in (session or token) in production, open in development."""
    if request.app.state.settings.production:
        signed_in(request, uow)


router = APIRouter(include_in_schema=False)


@router.get(OPENAPI_URL, dependencies=[Depends(docs_reader)])
def openapi_document(request: Request) -> JSONResponse:
    doc: dict[str, Any] = request.app.openapi()
    return JSONResponse(doc)


@router.get(DOCS_URL, dependencies=[Depends(docs_reader)])
def api_docs() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url=OPENAPI_URL, title="openem API")
