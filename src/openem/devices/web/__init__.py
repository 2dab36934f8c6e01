"""Stock pages: devices by depot, kind and state, by officer; a depot's forecast with its chart; a device's
history and the form to move it (every move checked against the lifecycle and audited); stock moved between
depots (`transfers.py`)."""

from openem.devices.web import transfers as _transfers
from openem.devices.web.views import router

router.include_router(_transfers.router)

__all__ = ["router"]
