"""Page rendering for the shell and every capability: one Jinja environment that searches the shell's
templates (base layout, macros, error pages) and then each capability's `web/templates`, in the order the
composition level gives them. A capability names its templates by its own folder (`orders/list.html`).

The shell also gives every page the service navigation (what the caller's roles can do) and one way of
writing times: Europe/London, in the GOV.UK style ("1 December 2026 at 8:31pm", "midnight", "midday")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from openem import __version__
from openem.auth.roles import ROLE_LABELS
from openem.core.time import to_london
from openem.web.deps import PRE_CSRF_COOKIE

SHELL_TEMPLATES = Path(__file__).parent / "templates"
SHELL_STATIC = Path(__file__).parent / "static"

#: The service navigation: (label, href, permission that shows it). A link shows when the caller has it.
NAVIGATION: tuple[tuple[str, str, str], ...] = (
    ("Alerts", "/alerts", "alerts:read"),
    ("Orders", "/orders", "orders:read"),
    ("People", "/people", "location:read"),
    ("Crime matching", "/crime", "crime_matching:run"),
    ("Admin", "/admin/users", "users:manage"),
    ("Breaches", "/breaches", "breaches:read"),
    # field and stock (issue 14)
    ("Visits", "/field/visits", "visits:handle"),
    ("Stock", "/devices/stock", "devices:manage"),
    ("Field measures", "/field/measures", "mi:read"),
)
#: Links a capability registers when its web package is imported (as home-page figures are, `web/figures.py`):
#: (label, href, permission, the href it follows in the navigation or "" for the end).
REGISTERED_NAV: list[tuple[str, str, str, str]] = []


def register_nav(label: str, href: str, permission: str, after: str = "") -> None:
    """A capability's own navigation link, shown to callers with `permission`, placed after the link `after`."""
    if all(item[1] != href for item in REGISTERED_NAV):
        REGISTERED_NAV.append((label, href, permission, after))


def _navigation() -> list[tuple[str, str, str]]:
    items = list(NAVIGATION)
    for label, href, permission, after in REGISTERED_NAV:
        at = next((i + 1 for i, item in enumerate(items) if item[1] == after), len(items))
        items.insert(at, (label, href, permission))
    return items


MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def clock_time(dt: datetime, seconds: bool = False) -> str:
    """GOV.UK style: 8:31pm, 9am, midnight, midday (no leading zero, no :00). Evidence wants seconds."""
    if seconds:
        return f"{dt.hour % 12 or 12}:{dt.minute:02d}:{dt.second:02d}{'am' if dt.hour < 12 else 'pm'}"
    if dt.minute == 0 and dt.hour in (0, 12):
        return "midnight" if dt.hour == 0 else "midday"
    hour = dt.hour % 12 or 12
    minutes = f":{dt.minute:02d}" if dt.minute else ""
    return f"{hour}{minutes}{'am' if dt.hour < 12 else 'pm'}"


def as_datetime(value: Any) -> datetime | None:
    """An instant from a datetime or an ISO string; a naive one is UTC (that is how the store keeps them)."""
    if isinstance(value, str) and value.strip():
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def london_time(value: Any, empty: str = "", seconds: bool = False) -> str:
    """An instant (aware datetime, naive UTC, or ISO string) as London wall-clock time in the GOV.UK style:
    "1 December 2026 at 8:31pm". Anything that is not an instant is shown as it is."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return london_date(value)
    dt = as_datetime(value)
    if dt is None:
        return str(value) if value not in (None, "") else empty
    local = to_london(dt)
    text = f"{london_date(local.date())} at {clock_time(local, seconds)}"
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():  # the hour repeated in October
        text += " BST" if local.dst() else " GMT"
    return text


def london_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def service_nav(caller: Any, path: str) -> list[dict[str, Any]]:
    """The links the caller's roles give, the one for the current page marked."""
    principal = getattr(caller, "principal", None)
    if principal is None or getattr(caller.web_session, "must_change_password", False):
        return []  # nothing but choosing a new password is open to them yet
    items = []
    for label, href, permission in _navigation():
        if principal.has(permission):
            section = "/" + href.strip("/").split("/")[0]
            items.append(
                {"label": label, "href": href, "current": path == section or path.startswith(section + "/")}
            )
    return items


def templates(capability_dirs: Sequence[Path] = ()) -> Jinja2Templates:
    """The shell's templates first (so no capability can replace the base layout), then each capability's."""
    t = Jinja2Templates(directory=[SHELL_TEMPLATES, *capability_dirs])
    t.env.globals["version"] = __version__
    t.env.globals["service_nav"] = service_nav
    t.env.filters["london"] = london_time
    return t


def render(request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> Response:
    caller = getattr(request.state, "caller", None)
    csrf = (
        caller.web_session.csrf_token
        if caller and caller.web_session
        else request.cookies.get(PRE_CSRF_COOKIE, "")
    )
    base = {"caller": caller, "csrf_token": csrf, "role_labels": ROLE_LABELS}
    page: Response = request.app.state.templates.TemplateResponse(
        request, name, {**base, **ctx}, status_code=status
    )
    return page
