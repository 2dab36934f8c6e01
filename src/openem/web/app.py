"""Application factory. `create_app()` wires settings, database, outbox dispatcher, routers and pages."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from openem import __version__
from openem.bus import outbox
from openem.bus.dispatch import OutboxDispatcher, deliver_locally
from openem.config import Settings, load_settings
from openem.core.errors import OpenEMError, Unauthenticated
from openem.store.db import Database
from openem.web import logging as jlog
from openem.web import openapi
from openem.web.middleware import BodyLimit, RequestContext
from openem.wiring import build_registry

log = logging.getLogger("openem.web")
HERE = Path(__file__).parent


def create_app(settings: Settings | None = None, db: Database | None = None, *, start_dispatcher: bool = True) -> FastAPI:
    settings = settings or load_settings()
    jlog.configure()
    db = db or Database(settings.database_url)
    outbox.install(db)
    from openem.live import LiveMonitor

    live = LiveMonitor(db)
    registry = build_registry(live)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        if start_dispatcher:
            app.state.dispatcher.start()
            if not settings.engine_partitions:
                live.load()
                live.start()
        if settings.mqtt_url:
            start_mqtt(app)
        yield
        if app.state.mqtt is not None:
            app.state.mqtt.stop()
        live.stop()
        app.state.dispatcher.stop()

    # the API documentation is served by web/exposure (signed-in users only in production)
    app = FastAPI(title="openem", version=__version__, lifespan=lifespan, docs_url=None, openapi_url=None,
                  redoc_url=None)
    app.state.settings = settings
    app.state.db = db
    app.state.registry = registry
    app.state.templates = templates()
    if settings.bus_url.startswith("nats://"):
        from openem.bus.nats import NatsPublisher

        publish = NatsPublisher(settings.bus_url)
    else:
        def publish(topic: str, mid: str, payload: dict[str, Any]) -> None:
            deliver_locally(db, registry, topic, mid, payload)
    app.state.dispatcher = OutboxDispatcher(db, publish)
    #: callables run after a telemetry batch is durably stored (the live monitoring engine registers here)
    app.state.ingest_hooks = [live.on_ingested]
    if settings.engine_partitions and settings.bus_url.startswith("nats://"):
        from openem.scale import TelemetryPublisher

        # scale-out: the engine runs in `openem worker --engine` processes, fed through JetStream
        app.state.ingest_hooks = [TelemetryPublisher(settings.bus_url, settings.engine_partitions)]
    app.state.live = live
    live.wake = app.state.dispatcher.wake
    app.state.mqtt = None

    static_root = settings.static_dir or HERE / "static"
    app.mount("/static", StaticFiles(directory=str(static_root), check_dir=False), name="static")
    # govuk-frontend's stylesheet refers to its images under /assets
    app.mount("/assets", StaticFiles(directory=str(static_root / "vendor" / "govuk" / "assets"), check_dir=False),
              name="govuk-assets")

    from openem.web import api, exposure, orders_api, orders_pages, pages, telemetry_api

    app.include_router(api.router)
    app.include_router(exposure.router)
    app.include_router(pages.router)
    app.include_router(telemetry_api.router)
    app.include_router(orders_api.router)
    from openem.web import orders_documents

    app.include_router(orders_documents.router)  # before the order pages' catch-all section routes
    app.include_router(orders_pages.router)
    from openem.web import alerts_views

    app.include_router(alerts_views.router)
    install_error_handlers(app)
    openapi.install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContext, hsts=settings.production)
    return app


def start_mqtt(app: FastAPI) -> None:
    """Subscribe to the MQTT broker; each message is stored like an HTTP batch, then processed."""
    from openem.telemetry.ingest import ingest_batch
    from openem.telemetry.mqtt import MqttIngest

    def store(raw: bytes, sender: str) -> None:
        with app.state.db.uow() as uow:
            result = ingest_batch(uow.session, raw, source="mqtt", sender=sender)
        for hook in app.state.ingest_hooks:
            hook(result)

    app.state.mqtt = MqttIngest(app.state.settings.mqtt_url, store)
    app.state.mqtt.start()


def templates() -> Jinja2Templates:
    t = Jinja2Templates(directory=str(HERE / "templates"))
    t.env.globals["version"] = __version__
    return t


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith(("/api", "/health", "/metrics"))


def error_page(request: Request, status: int, title: str, message: str) -> Response:
    return request.app.state.templates.TemplateResponse(
        request, "error.html", {"title": title, "message": message, "caller": getattr(request.state, "caller", None)},
        status_code=status,
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(OpenEMError)
    async def openem_error(request: Request, exc: OpenEMError) -> Response:
        if wants_html(request):
            if isinstance(exc, Unauthenticated):
                nxt = request.url.path if request.url.path.startswith("/") else "/"
                return RedirectResponse(f"/sign-in?next={nxt}", status_code=303)
            titles = {403: "You do not have permission", 404: "Page not found", 409: "Somebody else changed this"}
            return error_page(request, exc.status, titles.get(exc.status, "There is a problem"), exc.message)
        body: dict[str, Any] = {"error": exc.code, "message": exc.message}
        if exc.field:
            body["field"] = exc.field
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(body, status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
            if err.get("type") == "json_invalid":
                errors.append({"field": "", "message": "The request body is not valid JSON"})
            else:
                errors.append({"field": ".".join(loc), "message": str(err.get("msg", "Invalid value"))})
        if wants_html(request):
            return error_page(request, 422, "There is a problem", "; ".join(e["message"] for e in errors))
        return JSONResponse({"error": "invalid", "message": errors[0]["message"] if errors else "Invalid request",
                             "errors": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "Request refused"
        if exc.status_code == 404:
            message = "Page not found" if wants_html(request) else "Not found"
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            # FastAPI's answer to a body it cannot decode (not UTF-8, say): the 422 of any body that is not JSON
            return await validation_error(request, RequestValidationError([{"type": "json_invalid", "loc": ("body",)}]))
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method the path takes, not only the first route's
            headers["Allow"] = ", ".join(openapi.allowed_methods(request.app, request.scope))
        if wants_html(request) and exc.status_code in (404, 405):
            page = error_page(request, exc.status_code, "Page not found", "If you typed the web address, check it is correct.")
            page.headers.update(headers)
            return page
        codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
        return JSONResponse({"error": codes.get(exc.status_code, "error"), "message": message},
                            status_code=exc.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error")
        if wants_html(request):
            return error_page(request, 500, "Sorry, there is a problem with the service", "Try again later.")
        return JSONResponse({"error": "internal", "message": "Sorry, there is a problem with the service"},
                            status_code=500)
