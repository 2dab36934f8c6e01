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


class TooManyRequests(OpenEMError):
    """Throttled (too many failed sign-ins or wrong tokens): try again after `retry_after_s` seconds."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after_s: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after_s = max(1, int(retry_after_s))
