"""Shared helpers for the order-page tests: signed-in clients, starting an order, reading what was stored,
filling section forms as a person would, and reading the error summary."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

from openem.orders.web.forms import display, get_path
from openem.orders.web.sections import BY_SLUG


def csrf(client: Any) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)


def new_order(client) -> str:
    r = client.post("/orders/new", data={"csrf_token": client.token})
    assert r.status_code == 200
    return re.search(r"/orders/(ORD-[A-Z0-9]+)", str(r.url)).group(1)


def stored(world, ref: str) -> dict[str, Any]:
    from openem.orders.repository import SqlOrderRepository

    with world.db.uow() as uow:
        return SqlOrderRepository(uow.session).get(ref).latest.document


def form_for(slug: str, doc: dict[str, Any]) -> dict[str, Any]:
    """What a person would type on a section page to enter `doc` (GOV.UK date parts, yes/no...)."""
    data: dict[str, Any] = {}
    for f in BY_SLUG[slug].fields(doc):
        value = display(f, get_path(doc, f.path))
        if isinstance(value, dict):
            for part in ("day", "month", "year", "time"):
                data[f"{f.path}-{part}"] = value[part]
        else:
            data[f.path] = value
    return data


def save(client, ref: str, slug: str, data: dict[str, Any]):
    return client.post(f"/orders/{ref}/{slug}", data={"csrf_token": client.token, **data})


def errors_of(html: str) -> list[tuple[str, str]]:
    """(href, message) of each error-summary link."""
    summary = html.split('govuk-error-summary__list">', 1)
    if len(summary) < 2:
        return []
    block = summary[1].split("</ul>", 1)[0]
    return [(unescape(h), unescape(m)) for h, m in re.findall(r'<a href="([^"]+)">([^<]+)</a>', block)]


def enter_sample(client, ref: str, doc: dict[str, Any]) -> None:
    for slug in (
        "device-wearer",
        "contact",
        "addresses",
        "interested-parties",
        "offence-risk",
        "monitoring",
        "curfew",
        "trail",
        "attendance",
        "alcohol",
        "installation",
    ):
        data = form_for(slug, doc)
        if slug == "curfew":
            data["slot_count"] = str(len(doc["conditions"]["curfew"]["timetable"]))
        r = save(client, ref, slug, data)
        assert r.status_code == 200, (slug, errors_of(r.text))
    for zone in get_path(doc, "conditions.exclusion_zones") or []:
        data = {"kind": "exclusion_zones", "geojson": json.dumps(zone["geometry"]), "zone.name": zone["name"]}
        for key in ("start", "end"):
            parts = display(BY_SLUG["trail"].fields(doc)[0], zone[key])
            data.update({f"zone.{key}-{p}": parts[p] for p in ("day", "month", "year", "time")})
        r = client.post(f"/orders/{ref}/zones", data={"csrf_token": client.token, **data})
        assert r.status_code == 200 and "Error:" not in r.text, errors_of(r.text)
