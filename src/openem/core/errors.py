"""Errors that carry a stable code and a plain-English message, mapped to HTTP statuses by the web layer."""

from __future__ import annotations


class OpenEMError(Exception):
    status = 400
    code = "error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field


class NotFound(OpenEMError):
    status = 404
    code = "not_found"


class Forbidden(OpenEMError):
    status = 403
    code = "forbidden"


class Unauthenticated(OpenEMError):
    status = 401
    code = "unauthenticated"


class Conflict(OpenEMError):
    """Optimistic-lock failure or a state transition that is not allowed now."""

    status = 409
    code = "conflict"


class Invalid(OpenEMError):
    status = 422
    code = "invalid"
