"""A CEMO zone that came as a map file (`conditions.zones_to_draw`) on the zones page: the order creator is told
which zones await a shape, draws one (here, as the accessible way, pasting its GeoJSON) with what CEMO gave
kept, and the zone moves to its type's list, where the engine judges it."""

from __future__ import annotations

import json
from html import unescape
from pathlib import Path

from .pages_helpers import errors_of, stored

SCENARIO = Path(__file__).resolve().parents[2] / "unit" / "orders" / "cemo" / "scenarios" / "cemo014"
SQUARE = {"type": "Polygon", "coordinates": [[[-1.55, 53.80], [-1.54, 53.80], [-1.54, 53.81], [-1.55, 53.81],
                                              [-1.55, 53.80]]]}  # fmt: skip


def test_a_map_file_zone_is_listed_and_drawn_into_its_zone_list(world, creator):
    r = creator.post("/api/orders/import/cemo", json=json.loads((SCENARIO / "order.json").read_text()),
                     headers={"X-CSRF-Token": creator.token})  # fmt: skip
    assert r.status_code == 201, r.text
    ref = r.json()["ref"]
    [waiting] = stored(world, ref)["conditions"]["zones_to_draw"]
    page = unescape(creator.get(f"/orders/{ref}/zones").text)
    assert "<title>Exclusion, inclusion and restriction zones" in page
    listed = page.split('id="zones-to-draw"')[1].split("</table>")[0]
    assert "Zones awaiting a shape" in listed and waiting["name"] in listed and "Exclusion zone" in listed
    assert waiting["map_file"] in listed and "?edit=zones_to_draw-0" in listed

    form = unescape(creator.get(f"/orders/{ref}/zones?edit=zones_to_draw-0").text)
    assert f"Draw the shape of {waiting['name']}" in form and "Excluded from Football Grounds" in form
    assert 'value="exclusion_zones" checked' in form  # the type CEMO gave, chosen already
    r = creator.post(f"/orders/{ref}/zones", data={
        "csrf_token": creator.token, "action": "save-zones_to_draw-0", "kind": "exclusion_zones",
        "geojson": json.dumps(SQUARE), "zone.name": waiting["name"], "zone.description": waiting["description"],
        "zone.duration": waiting["duration"]})  # fmt: skip
    assert r.status_code == 200 and "Error:" not in r.text, errors_of(r.text)
    conditions = stored(world, ref)["conditions"]
    assert "zones_to_draw" not in conditions
    [zone] = conditions["exclusion_zones"]
    assert (zone["id"], zone["name"], zone["description"], zone["duration"], zone["geometry"]) == (
        waiting["id"],
        waiting["name"],
        "Excluded from Football Grounds",
        "90 days",
        SQUARE,
    )
    assert "zones-to-draw" not in r.text and waiting["name"] in unescape(r.text).split('id="zones"')[1]
    assert not [e for e in creator.get(f"/api/orders/{ref}/validation").json()["errors"]
                if "zones_to_draw" in e["field"]]  # fmt: skip
