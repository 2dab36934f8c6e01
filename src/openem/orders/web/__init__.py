"""Orders' pages and API: the JSON API (`api.py`), documents (`documents.py`), the GOV.UK order-entry pages
(`pages.py`, `flow.py`, `zones.py`; questions in `sections.py`, form conversion in `forms.py`), with their
templates (`templates/orders/`) and static files (`static/`, served at /static/orders/)."""

from fastapi import APIRouter

from openem.orders.web import api, documents, listing, pages
from openem.web import figures

router = APIRouter()
router.include_router(api.router)
router.include_router(documents.router)  # before the order pages' catch-all section routes
router.include_router(pages.router)
figures.register(listing.home_figures)
