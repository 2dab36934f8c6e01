"""Alerts' pages and API: the live list and an alert's evidence (`views.py`), the operator queue
(`incidents.py`), noise rules and silences (`rules.py`), an incident's page (`incident_page.py`), with their
templates (`templates/alerts/`) and static files (`static/`, served at /static/alerts/)."""

from openem.alerts.web.incident_page import router as incident_page_router
from openem.alerts.web.incidents import router as incidents_router
from openem.alerts.web.rules import router as rules_router
from openem.alerts.web.views import home_figures, router
from openem.web import figures
from openem.web.rendering import register_nav

figures.register(home_figures)
register_nav(
    "Incidents", "/incidents", "alerts:handle", after="/alerts"
)  # the operator queue (monitoring centre)
router.include_router(incidents_router)
router.include_router(rules_router)  # /incidents/rules and /incidents/silences before /incidents/{id}
router.include_router(incident_page_router)

__all__ = ["router"]
