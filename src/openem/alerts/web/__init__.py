"""Alerts' pages and API: the live list and an alert's evidence (`views.py`), with their templates
(`templates/alerts/`) and static files (`static/`, served at /static/alerts/)."""

from openem.alerts.web.views import router

__all__ = ["router"]
