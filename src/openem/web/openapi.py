"""The OpenAPI document as the API really behaves, so that agency systems can rely on it: only the JSON API
(pages are for browsers and are left out), every status an operation can answer with the one error body the
service sends, how to authenticate, and `Allow` on a 405.

What each operation can answer is read from the dependencies it declares (who may call it, CSRF, path
parameters, a body) plus the few statuses its handler raises itself (`HANDLER_STATUSES`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.routing import Match

from openem.web import deps, exposure

API_PATHS = re.compile(r"^/(api/|health$|metrics$)")

ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {
            "type": "string",
            "description": "A stable code: unauthenticated, forbidden, not_found, ...",
        },
        "message": {"type": "string", "description": "What went wrong, in plain English"},
        "field": {"type": "string", "description": "The field at fault, when there is one"},
        "errors": {
            "type": "array",
            "description": "Each problem with the request (422)",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "duplicates": {
            "type": "array",
            "items": {"type": "object"},
            "description": "Orders that may be for the same person (409 on submit)",
        },
    },
}

DESCRIPTIONS = {
    400: "The request cannot be handled as sent",
    401: "Not signed in: send a valid bearer token (or session cookie)",
    403: "Signed in but not allowed: the permission, the case rules or the CSRF token refused it",
    404: "There is no such record",
    409: "Somebody else changed it first (If-Match), or the order is not in a state that allows this",
    413: "The request body is larger than the server's limit",
    422: "The request is not valid: each problem is listed in `errors`",
    410: "Gone: the link or record was revoked",
    429: "Too many attempts: wait and try again",
    503: "The database is not reachable",
}

#: statuses raised inside handlers, which their declarations do not show
HANDLER_STATUSES: dict[tuple[str, str], tuple[int, ...]] = {
    ("POST", "/api/users"): (409, 422),
    ("POST", "/api/telemetry/batch"): (422,),
    ("GET", "/ingest/osmand/{enrolment_token}"): (403, 410, 429, 503),
    ("POST", "/ingest/osmand/{enrolment_token}"): (403, 410, 429, 503),
    ("PUT", "/api/orders/{ref}/sections/{name}"): (409,),
    ("POST", "/api/orders/{ref}/submit"): (409,),
    ("POST", "/api/orders/{ref}/accept"): (409,),
    ("POST", "/api/orders/{ref}/reject"): (409,),
    ("POST", "/api/orders/{ref}/vary"): (409,),
    ("POST", "/api/orders/{ref}/end"): (409,),
    ("GET", "/health"): (503,),
    ("GET", "/api/breaches/{breach_id}/pack"): (422,),
    ("POST", "/api/breaches/{breach_id}/responses"): (409, 422),
    ("POST", "/api/breaches/{breach_id}/packs"): (409,),
}

SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (users) or a gateway's token",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": deps.SESSION_COOKIE,
        "description": "A signed-in browser session; writes also need the X-CSRF-Token header",
    },
}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _is_permission_check(call: Callable[..., Any]) -> bool:
    return getattr(call, "__qualname__", "").startswith(deps.require.__qualname__ + ".")


def statuses(route: Any, method: str) -> set[int]:
    """Every status other than success this operation can answer with."""
    calls = list(_calls(route.dependant))
    out: set[int] = set()
    authenticates = any(
        c
        in (
            deps.signed_in,
            deps.gateway,
            deps.caller_dep,
            deps.csrf_protect,
            exposure.metrics_reader,
            exposure.docs_reader,
        )
        or _is_permission_check(c)
        for c in calls
    )
    if authenticates:
        out |= {401, 429}  # 429: repeated bearer-token failures are throttled
    # signed_in: a session that must choose a new password is refused (403) until it has
    if any(c in (deps.gateway, deps.csrf_protect, deps.signed_in) or _is_permission_check(c) for c in calls):
        out.add(403)
    if route.dependant.path_params:
        out.add(404)
    if route.dependant.path_params or route.dependant.query_params or route.dependant.body_params:
        out.add(422)
    if method in ("POST", "PUT", "PATCH"):
        out.add(413)
    out.update(HANDLER_STATUSES.get((method, route.path), ()))
    return out


def _error_response(status: int) -> dict[str, Any]:
    return {
        "description": DESCRIPTIONS.get(status, "Error"),
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def api_routes(app: FastAPI) -> list[Any]:
    """The JSON API's operations, as FastAPI resolves them (included routers flattened, their dependencies on)."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI >= 0.160 includes routers lazily
    except ImportError:  # pragma: no cover - older FastAPI flattens them into app.routes
        contexts: list[Any] = [r for r in app.routes if isinstance(r, APIRoute)]
    else:
        contexts = [c for c in iter_route_contexts(app.routes) if isinstance(c.original_route, APIRoute)]
    return [c for c in contexts if c.include_in_schema and API_PATHS.match(c.path or "")]


def build(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    routes = api_routes(app)
    doc = get_openapi(
        title=app.title,
        version=app.version,
        routes=app.routes,
        description="The openem JSON API. Errors share one body (`Error`); "
        "a method a path does not support answers 405 with `Allow`.",
    )
    doc["paths"] = {path: ops for path, ops in doc.get("paths", {}).items() if API_PATHS.match(path)}
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = ERROR
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    components["securitySchemes"] = SECURITY_SCHEMES
    for route in routes:
        for method in sorted(route.methods - {"HEAD"}):
            op = doc["paths"][route.path][method.lower()]
            codes = statuses(route, method)
            for code in sorted(codes):
                op["responses"][str(code)] = _error_response(code)
            if 401 in codes and route.path.startswith("/api/"):
                op["security"] = [{"bearer": []}, {"session": []}]
    app.openapi_schema = doc
    return doc


def allowed_methods(app: FastAPI, scope: MutableMapping[str, Any]) -> list[str]:
    """Every method some route accepts at this path (Starlette's 405 names only the first route's)."""
    methods: set[str] = set()
    for route in app.router.routes:
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            match, _ = route.matches({**scope, "method": method})
            if match == Match.FULL:
                methods.add(method)
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def install(app: FastAPI) -> None:
    app.openapi = lambda: build(app)  # type: ignore[method-assign]
