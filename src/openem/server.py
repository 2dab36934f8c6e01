"""The web server, assembled at the composition level: settings, database, outbox dispatcher, the in-server
monitoring engine, and every capability's router, templates and static files.

`WEB_MODULES` lists the modules whose `router` the app includes, in order (as `cli.COMMAND_MODULES` lists
command modules). A capability's web package (`openem.<capability>.web`) may also hold `templates/` (searched
after the shell's) and `static/` (served at `/static/<capability>/`). The shell (`openem.web`) sits below the
capabilities and never imports them; only this module joins them.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from openem import __version__
from openem.bus.dispatch import OutboxDispatcher, deliver_locally
from openem.config import Settings, load_settings
from openem.orders.queries import case_scopes
from openem.store.db import Database
from openem.web import logging as jlog
from openem.web import openapi
from openem.web.basemap import map_config
from openem.web.errors import install_error_handlers
from openem.web.middleware import BodyLimit, RequestContext
from openem.web.rendering import SHELL_STATIC, templates
from openem.wiring import build_registry

log = logging.getLogger("openem.web")

#: Modules whose `router` the app includes, in this order (the orders package puts its fixed paths before its
#: catch-all section pages itself).
WEB_MODULES = [
    "openem.web.api",
    "openem.web.exposure",
    "openem.web.pages",
    "openem.web.admin",
    "openem.web.admin_audit",
    "openem.web.basemap",
    "openem.web.admin_parked",
    "openem.telemetry.web",
    "openem.orders.web",
    "openem.alerts.web",
    "openem.field.web",
    "openem.insights.web",
    "openem.crime.web",
    "openem.breaches.web",
    "openem.devices.web",
    "openem.web.password",
]


def web_modules() -> list[ModuleType]:
    return [importlib.import_module(name) for name in WEB_MODULES]


def capability_packages(modules: list[ModuleType]) -> list[tuple[str, Path]]:
    """(capability, folder) of every capability web package among the modules (`openem.<cap>.web`)."""
    out = []
    for m in modules:
        parts = m.__name__.split(".")
        if len(parts) == 3 and parts[2] == "web" and hasattr(m, "__path__"):
            out.append((parts[1], Path(m.__path__[0])))
    return out


def create_app(
    settings: Settings | None = None, db: Database | None = None, *, start_dispatcher: bool = True
) -> FastAPI:
    settings = settings or load_settings()
    jlog.configure()
    db = db or Database(settings.database_url)
    from openem.field.geocode import configure_geocoder  # field/: the address service a setting selects

    configure_geocoder(settings.address_service_url, key=settings.address_service_key,
                       timeout_s=settings.address_service_timeout_s)  # fmt: skip
    from openem.live import LiveMonitor, count_acknowledged

    live = LiveMonitor(db)
    registry = build_registry(live)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        if start_dispatcher:
            app.state.dispatcher.start()
            app.state.deliverer.start()
            app.state.reminders.start()
            app.state.visit_reminders.start(interval_s=60.0)
            app.state.crime_runner.start(interval_s=5.0)
            if not settings.engine_partitions:
                live.load()
                live.start()
        if settings.mqtt_url:
            start_mqtt(app)
        trackers = await start_trackers(app)
        osmand = await start_osmand_port(app)
        yield
        for tcp in trackers:
            tcp.close()
        if osmand is not None:
            await osmand.close()
        if app.state.mqtt is not None:
            app.state.mqtt.stop()
        live.stop()
        app.state.dispatcher.stop()
        app.state.deliverer.stop()
        app.state.reminders.stop()
        app.state.visit_reminders.stop()
        app.state.crime_runner.stop()

    app = FastAPI(
        title="openem",
        version=__version__,
        lifespan=lifespan,
        # the API documentation is served by web/exposure (signed-in users only in production)
        docs_url=None,
        openapi_url=None,
        redoc_url=None,
    )
    modules = web_modules()
    capabilities = capability_packages(modules)
    app.state.settings = settings
    app.state.db = db
    app.state.registry = registry
    app.state.templates = templates([d / "templates" for _, d in capabilities if (d / "templates").is_dir()])
    publish: Callable[[str, str, dict[str, Any]], None]
    app.state.templates.env.globals["map_config"] = map_config(settings)
    # the admin pages check a caseload's order exists; the shell cannot import orders, so it is handed the query
    app.state.case_scopes = case_scopes
    if settings.bus_url.startswith("nats://"):
        from openem.bus.nats import NatsPublisher

        publish = NatsPublisher(settings.bus_url)
    else:

        def publish(topic: str, mid: str, payload: dict[str, Any]) -> None:
            deliver_locally(db, registry, topic, mid, payload)

    app.state.dispatcher = OutboxDispatcher(db, publish)
    # notify: email and webhook deliveries, each tried with its own backoff (decision 0022)
    from openem.notify.service import Deliverer

    app.state.deliverer = Deliverer(db)
    from openem.breaches.service import ReminderLoop

    app.state.reminders = ReminderLoop(db)
    from openem.field.planning import (
        VisitReminderLoop,  # field/: reminders before booked visits (decision 0030)
    )

    app.state.visit_reminders = VisitReminderLoop(db)
    from openem.crime.runner import CrimeRunner

    app.state.crime_runner = CrimeRunner(db)  # crime matching off the request (decision 0028)
    #: callables run after a telemetry batch is durably stored (the live monitoring engine registers here)
    app.state.ingest_hooks = [count_acknowledged, live.on_ingested]
    if settings.engine_partitions and settings.bus_url.startswith("nats://"):
        from openem.scale import TelemetryPublisher

        # scale-out: the engine runs in `openem worker --engine` processes, fed through JetStream
        app.state.ingest_hooks = [
            count_acknowledged,
            TelemetryPublisher(settings.bus_url, settings.engine_partitions),
        ]
    app.state.live = live
    live.wake = app.state.dispatcher.wake
    app.state.mqtt = None
    app.state.tracker_ports = {}
    app.state.ingest_options = ingest_options(settings)

    mount_static(app, settings, capabilities)
    for m in modules:
        app.include_router(m.router)
    install_error_handlers(app)
    openapi.install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContext, hsts=settings.production)
    return app


def mount_static(app: FastAPI, settings: Settings, capabilities: list[tuple[str, Path]]) -> None:
    """Each capability's static files at /static/<capability>/ (mounted first: the first match wins), then
    the shell's (openem.css, vendor files) at /static."""
    for name, folder in capabilities:
        if (folder / "static").is_dir():
            app.mount(f"/static/{name}", StaticFiles(directory=str(folder / "static")), name=f"static-{name}")
    static_root = settings.static_dir or SHELL_STATIC
    app.mount("/static", StaticFiles(directory=str(static_root), check_dir=False), name="static")
    # govuk-frontend's stylesheet refers to its images under /assets
    app.mount(
        "/assets",
        StaticFiles(directory=str(static_root / "vendor" / "govuk" / "assets"), check_dir=False),
        name="govuk-assets",
    )


def ingest_options(settings: Settings) -> dict[str, Any]:
    """How this process parses and resolves batches (`ingest_batch`'s `index` and `codec`)."""
    from openem.telemetry.ingest import ActivationIndex

    if settings.ingest_path == "legacy":
        return {"index": None, "codec": "json"}
    return {"index": ActivationIndex(), "codec": "orjson"}


def start_mqtt(app: FastAPI) -> None:
    """Subscribe to the MQTT broker; each message is stored like an HTTP batch, then processed."""
    from openem.telemetry.ingest import ingest_batch
    from openem.telemetry.mqtt import MqttIngest

    def store(raw: bytes, sender: str) -> None:
        with app.state.db.uow() as uow:
            result = ingest_batch(uow.session, raw, source="mqtt", sender=sender, **app.state.ingest_options)
        for hook in app.state.ingest_hooks:
            hook(result)

    app.state.mqtt = MqttIngest(app.state.settings.mqtt_url, store)
    app.state.mqtt.start()


async def start_trackers(app: FastAPI) -> list[Any]:
    """GT06 and Teltonika listeners (OPENEM_GT06_PORT, OPENEM_TELTONIKA_PORT) on the server's event loop: their
    messages are stored like an HTTP batch, then handed to the same ingest hooks (the engine, in process or
    through JetStream). The port is shared by every server process (SO_REUSEPORT)."""
    from openem.telemetry.gt06_server import serve, store_in

    settings: Settings = app.state.settings
    out = []
    for protocol, port in (("gt06", settings.gt06_port), ("teltonika", settings.teltonika_port)):
        if port is None:
            continue
        store = store_in(
            app.state.db.sessions, app.state.ingest_hooks, source=protocol, options=app.state.ingest_options
        )
        server = await serve(settings.tracker_host, port, store, protocol, reuse_port=True)
        app.state.tracker_ports[protocol] = server.sockets[0].getsockname()[1]
        log.info("tracker listener", extra={"protocol": protocol, "port": app.state.tracker_ports[protocol]})
        out.append(server)
    return out


async def start_osmand_port(app: FastAPI) -> Any:
    """Phones' own port (OPENEM_OSMAND_PORT): the same /ingest/osmand/{token} handler on a second listener, on
    OPENEM_TRACKER_HOST; the port is in `app.state.tracker_ports["osmand"]`."""
    from openem.web.listener import serve_paths

    settings: Settings = app.state.settings
    if settings.osmand_port is None:
        return None
    listener = await serve_paths(app, settings.tracker_host, settings.osmand_port, ("/ingest/osmand/",))
    app.state.tracker_ports["osmand"] = listener.port
    log.info("osmand listener", extra={"port": listener.port})
    return listener
