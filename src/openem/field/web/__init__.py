"""Field officer pages: today's visits and a visit's outcome form (phone-first GOV.UK pages), and a supervisor's
region day (`region.py`)."""

from openem.field.web import region as _region
from openem.field.web.views import router

router.include_router(_region.router)

__all__ = ["router"]
