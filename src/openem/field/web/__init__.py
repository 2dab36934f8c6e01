"""Field officer pages: today's visits and a visit's outcome form (phone-first GOV.UK pages)."""

from openem.field.web.views import router

__all__ = ["router"]
