"""Crime matching pages: ingestion dashboard and upload, a batch's result and errors, matches with maps, and the
evidence view and PDF of one match."""

from openem.crime.web.views import router

__all__ = ["router"]
