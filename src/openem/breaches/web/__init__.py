"""Breaches' pages and API: the agency inbox of breaches, a breach with its pack, clocks, deliveries and the
response form, pack downloads (`views.py`), who may see and answer a breach (`access.py`), templates."""

from openem.breaches.web.views import router

__all__ = ["router"]
