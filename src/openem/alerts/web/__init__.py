"""Alerts' pages and API: the live list and an alert's evidence (`views.py`), with their templates
(`templates/alerts/`) and static files (`static/`, served at /static/alerts/)."""

from openem.alerts.web.incidents import router as incidents_router
from openem.alerts.web.views import home_figures, router
from openem.web import figures

figures.register(home_figures)
router.include_router(incidents_router)

__all__ = ["router"]
