"""Insights' pages and API: the person search and the person view (`views.py`), with their templates
(`templates/insights/`) and the trail map script (`static/`, served at /static/insights/)."""

from openem.insights.web.views import router

__all__ = ["router"]
