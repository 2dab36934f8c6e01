"""Insights' pages and API: the person search and the person view (`views.py`), the timeline and notes
(`timeline.py`), the case-conference PDF (`summary.py`), with their templates (`templates/insights/`) and the
trail map script (`static/`, served at /static/insights/)."""

from fastapi import APIRouter

from openem.insights.web import summary, timeline, views

router = APIRouter()
router.include_router(timeline.router)
router.include_router(summary.router)
router.include_router(views.router)

__all__ = ["router"]
