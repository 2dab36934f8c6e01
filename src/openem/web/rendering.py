"""Page rendering for the shell and every capability: one Jinja environment that searches the shell's
templates (base layout, macros, error pages) and then each capability's `web/templates`, in the order the
composition level gives them. A capability names its templates by its own folder (`orders/list.html`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from openem import __version__
from openem.auth.roles import ROLE_LABELS
from openem.web.deps import PRE_CSRF_COOKIE

SHELL_TEMPLATES = Path(__file__).parent / "templates"
SHELL_STATIC = Path(__file__).parent / "static"


def templates(capability_dirs: Sequence[Path] = ()) -> Jinja2Templates:
    """The shell's templates first (so no capability can replace the base layout), then each capability's."""
    t = Jinja2Templates(directory=[SHELL_TEMPLATES, *capability_dirs])
    t.env.globals["version"] = __version__
    return t


def render(request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> Response:
    caller = getattr(request.state, "caller", None)
    csrf = (
        caller.web_session.csrf_token
        if caller and caller.web_session
        else request.cookies.get(PRE_CSRF_COOKIE, "")
    )
    base = {"caller": caller, "csrf_token": csrf, "role_labels": ROLE_LABELS}
    return request.app.state.templates.TemplateResponse(request, name, {**base, **ctx}, status_code=status)
