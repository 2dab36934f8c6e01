"""Restriction zones (CEMO's) on the zones page: added with a description and a duration in words, kept when
changed, on the map as a place to keep out of, and on "Check your answers"."""

from __future__ import annotations

import json
from html import unescape

from .pages_helpers import errors_of, new_order, stored

SQUARE = {"type": "Polygon", "coordinates": [[[-1.55, 53.80], [-1.54, 53.80], [-1.54, 53.81], [-1.55, 53.81],
                                              [-1.55, 53.80]]]}  # fmt: skip


def _zone_form(creator, **extra) -> dict:
    return {"csrf_token": creator.token, "kind": "restriction_zones", "geojson": json.dumps(SQUARE),
            "zone.name": "Former partner's street", "zone.description": "The street and both pavements",
            "zone.duration": "Until the final hearing", **extra}  # fmt: skip


def test_a_restriction_zone_is_added_with_its_description_and_duration(world, creator):
    ref = new_order(creator)
    page = creator.get(f"/orders/{ref}/zones").text
    assert 'value="restriction_zones"' in page and "Restriction zone" in page
    r = creator.post(f"/orders/{ref}/zones", data=_zone_form(creator))
    assert r.status_code == 200 and "Error:" not in r.text, errors_of(r.text)
    [zone] = stored(world, ref)["conditions"]["restriction_zones"]
    assert (zone["name"], zone["description"], zone["duration"]) == (
        "Former partner's street",
        "The street and both pavements",
        "Until the final hearing",
    )
    assert zone["geometry"] == SQUARE and zone["id"]
    map_data = unescape(r.text)
    assert '"kind": "restriction_zones"' in map_data  # drawn on the order's map
    check = unescape(creator.get(f"/orders/{ref}/check-answers").text)
    assert "Restriction zone: Former partner's street" in check


def test_changing_a_restriction_zone_keeps_what_was_not_changed(world, creator):
    ref = new_order(creator)
    creator.post(f"/orders/{ref}/zones", data=_zone_form(creator))
    edit = unescape(creator.get(f"/orders/{ref}/zones?edit=restriction_zones-0").text)
    assert "Until the final hearing" in edit and "The street and both pavements" in edit
    r = creator.post(
        f"/orders/{ref}/zones",
        data=_zone_form(creator, action="save-restriction_zones-0", **{"zone.name": "Her street"}),
    )
    assert r.status_code == 200
    [zone] = stored(world, ref)["conditions"]["restriction_zones"]
    assert zone["name"] == "Her street" and zone["duration"] == "Until the final hearing"


def test_a_zone_without_a_type_is_refused_asking_for_the_type(world, creator):
    ref = new_order(creator)
    r = creator.post(f"/orders/{ref}/zones", data=_zone_form(creator, kind=""))
    assert r.status_code == 422 and ("#kind", "Select the type of zone") in errors_of(r.text)
