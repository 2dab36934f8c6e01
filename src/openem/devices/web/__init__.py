"""Stock pages: devices by depot, kind and state, by officer; a depot's forecast with its chart; a device's
history and the form to move it (every move checked against the lifecycle and audited)."""

from openem.devices.web.views import router

__all__ = ["router"]
