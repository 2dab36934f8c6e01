"""Error answers for every route: GOV.UK error pages for browsers, `{"error", "message"}` JSON for the API."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from openem.auth.passwords import PASSWORD_CHANGE_REQUIRED
from openem.core.errors import OpenEMError, TooManyRequests, Unauthenticated
from openem.web import openapi

log = logging.getLogger("openem.web")


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith(("/api", "/health", "/metrics", "/ingest/"))


def error_page(request: Request, status: int, title: str, message: str) -> Response:
    page: Response = request.app.state.templates.TemplateResponse(
        request,
        "error.html",
        {"title": title, "message": message, "caller": getattr(request.state, "caller", None)},
        status_code=status,
    )
    return page


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(OpenEMError)
    async def openem_error(request: Request, exc: OpenEMError) -> Response:
        if wants_html(request):
            if isinstance(exc, Unauthenticated):
                nxt = request.url.path if request.url.path.startswith("/") else "/"
                return RedirectResponse(f"/sign-in?next={nxt}", status_code=303)
            if exc.code == PASSWORD_CHANGE_REQUIRED:
                nxt = request.url.path if request.method == "GET" else "/"
                return RedirectResponse(f"/change-password?next={quote(nxt)}", status_code=303)
            titles = {
                403: "You do not have permission",
                404: "Page not found",
                409: "Somebody else changed this",
            }
            return error_page(request, exc.status, titles.get(exc.status, "There is a problem"), exc.message)
        body: dict[str, Any] = {"error": exc.code, "message": exc.message}
        if exc.field:
            body["field"] = exc.field
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if isinstance(exc, TooManyRequests):
            headers = {"Retry-After": str(exc.retry_after_s)}
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
        return JSONResponse(
            {
                "error": "invalid",
                "message": errors[0]["message"] if errors else "Invalid request",
                "errors": errors,
            },
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "Request refused"
        if exc.status_code == 404:
            message = "Page not found" if wants_html(request) else "Not found"
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            # FastAPI's answer to a body it cannot decode (not UTF-8, say): the 422 of any body that is not JSON
            return await validation_error(
                request, RequestValidationError([{"type": "json_invalid", "loc": ("body",)}])
            )
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method the path takes, not only the first route's
            headers["Allow"] = ", ".join(openapi.allowed_methods(request.app, request.scope))
        if wants_html(request) and exc.status_code in (404, 405):
            page = error_page(
                request,
                exc.status_code,
                "Page not found",
                "If you typed the web address, check it is correct.",
            )
            page.headers.update(headers)
            return page
        codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
        return JSONResponse(
            {"error": codes.get(exc.status_code, "error"), "message": message},
            status_code=exc.status_code,
            headers=headers,
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error")
        if wants_html(request):
            return error_page(request, 500, "Sorry, there is a problem with the service", "Try again later.")
        return JSONResponse(
            {"error": "internal", "message": "Sorry, there is a problem with the service"}, status_code=500
        )
