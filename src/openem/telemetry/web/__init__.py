"""Telemetry's HTTP API: batches from gateways and the wire format's JSON Schema (`api.py`)."""

from openem.telemetry.web.api import router

__all__ = ["router"]
