"""Condition pages on SQLite and PostgreSQL: the curfew editor without JavaScript, zones drawn, pasted,
uploaded and changed in place, attendance appointments, and junk in every section page."""

from __future__ import annotations

import json

import pytest

from openem.orders.web.sections import BY_SLUG

from .pages_helpers import errors_of, new_order, save, stored


def test_curfew_timetable_editor_works_without_javascript(world, creator):
    ref = new_order(creator)
    save(creator, ref, "monitoring", {"monitoring.cohort": "COURT_BAIL"})
    for _ in range(2):
        r = save(
            creator,
            ref,
            "curfew",
            {
                "slot_count": str(len(stored_slots(world, ref))),
                "action": "add",
                **slot_form(stored_slots(world, ref)),
            },
        )
        assert r.status_code == 200
    slots = stored_slots(world, ref)
    assert [s["day"] for s in slots] == ["MONDAY", "TUESDAY"]
    slots[0]["start"], slots[0]["end"] = "20:00", "06:00"
    r = save(creator, ref, "curfew", {"slot_count": "2", "action": "copy-monday", **slot_form(slots)})
    slots = stored_slots(world, ref)
    assert len(slots) == 7 and {(s["start"], s["end"]) for s in slots} == {("20:00", "06:00")}
    r = save(creator, ref, "curfew", {"slot_count": "7", "action": "remove-6", **slot_form(slots)})
    assert [s["day"] for s in stored_slots(world, ref)][-1] == "SATURDAY"
    assert 'id="timetable"' in r.text and "Remove<span" in r.text
    bad = slot_form(stored_slots(world, ref))
    bad["conditions.curfew.timetable[0].end"] = "7 oclock"
    r = save(creator, ref, "curfew", {"slot_count": "6", "action": "save", **bad})
    assert r.status_code == 422
    assert ("#conditions.curfew.timetable[0].end", "End must be a real time, like 19:00") in errors_of(r.text)


def stored_slots(world, ref):
    return (stored(world, ref).get("conditions") or {}).get("curfew", {}).get("timetable", [])


def slot_form(slots):
    return {
        f"conditions.curfew.timetable[{i}].{k}": s.get(k) or ""
        for i, s in enumerate(slots)
        for k in ("day", "start", "end", "address_type")
    }


SQUARE = {
    "type": "Polygon",
    "coordinates": [[[-3.18, 51.48], [-3.17, 51.48], [-3.17, 51.49], [-3.18, 51.49], [-3.18, 51.48]]],
}


def test_zones_come_from_the_drawn_field_or_geojson_and_bad_shapes_are_refused(world, creator):
    ref = new_order(creator)
    base = {"csrf_token": creator.token, "kind": "exclusion_zones", "zone.name": "Town centre"}
    r = creator.post(f"/orders/{ref}/zones", data={**base, "geometry": json.dumps(SQUARE)})
    assert r.status_code == 200
    zones = stored(world, ref)["conditions"]["exclusion_zones"]
    assert zones[0]["geometry"] == SQUARE and zones[0]["name"] == "Town centre"
    assert zones[0]["schedule"] is None  # no days chosen: the zone applies all the time
    r = creator.post(
        f"/orders/{ref}/zones",
        data={
            **base,
            "zone.name": "Park",
            "geometry": json.dumps(SQUARE),
            "zone.days": ["SATURDAY", "SUNDAY"],
            "zone.from_time": "10:00",
            "zone.to_time": "16:00",
        },
    )
    park = stored(world, ref)["conditions"]["exclusion_zones"][1]
    assert park["schedule"] == [
        {"day": "SATURDAY", "start": "10:00", "end": "16:00"},
        {"day": "SUNDAY", "start": "10:00", "end": "16:00"},
    ]
    assert "Saturday 10:00–16:00" in r.text
    creator.post(
        f"/orders/{ref}/zones", data={"csrf_token": creator.token, "action": "remove-exclusion_zones-1"}
    )
    bow_tie = {
        "type": "Polygon",
        "coordinates": [[[-3.18, 51.48], [-3.17, 51.49], [-3.17, 51.48], [-3.18, 51.49], [-3.18, 51.48]]],
    }
    paris = {"type": "Polygon", "coordinates": [[[2.33, 48.85], [2.34, 48.85], [2.34, 48.86], [2.33, 48.85]]]}
    for geojson in (json.dumps(bow_tie), json.dumps(paris), "{not json", "<script>x</script>" * 1000):
        r = creator.post(f"/orders/{ref}/zones", data={**base, "geojson": geojson})
        assert r.status_code == 422 and any(h == "#geojson" for h, _ in errors_of(r.text)), geojson[:30]
    r = creator.post(f"/orders/{ref}/zones", data=base, files={"geojson_file": ("z.json", b"\x89PNG\r\n")})
    assert r.status_code == 422 and any(h == "#geojson_file" for h, _ in errors_of(r.text))
    assert len(stored(world, ref)["conditions"]["exclusion_zones"]) == 1
    page = creator.get(f"/orders/{ref}/zones").text
    assert (
        'id="map"' in page
        and "leaflet.js" in page
        and "<script>" not in page.split("<body")[1].split("<script")[0]
    )
    r = creator.post(
        f"/orders/{ref}/zones", data={"csrf_token": creator.token, "action": "remove-exclusion_zones-0"}
    )
    assert stored(world, ref)["conditions"]["exclusion_zones"] == []


def test_a_zone_is_changed_in_place_keeping_its_id(world, creator):
    ref = new_order(creator)
    base = {"csrf_token": creator.token, "kind": "exclusion_zones", "zone.name": "Town centre"}
    creator.post(f"/orders/{ref}/zones", data={**base, "geometry": json.dumps(SQUARE)})
    creator.post(f"/orders/{ref}/zones", data={**base, "zone.name": "Park", "geometry": json.dumps(SQUARE)})
    before = stored(world, ref)["conditions"]["exclusion_zones"]
    page = creator.get(f"/orders/{ref}/zones?edit=exclusion_zones-1").text
    assert "Change Park" in page and 'value="save-exclusion_zones-1"' in page and 'value="Park"' in page
    assert "&#34;coordinates&#34;" in page or "&quot;coordinates&quot;" in page  # its shape, ready to edit
    bigger = {"type": "Polygon",
              "coordinates": [[[-3.18, 51.48], [-3.16, 51.48], [-3.16, 51.49], [-3.18, 51.49], [-3.18, 51.48]]]}  # fmt: skip
    r = creator.post(f"/orders/{ref}/zones", data={
        **base, "action": "save-exclusion_zones-1", "zone.name": "Park and lake", "geojson": json.dumps(SQUARE),
        "geometry": json.dumps(bigger), "zone.days": ["SUNDAY"], "zone.from_time": "09:00", "zone.to_time": "17:00"})  # fmt: skip
    assert r.status_code == 200
    after = stored(world, ref)["conditions"]["exclusion_zones"]
    assert len(after) == 2 and after[0] == before[0]
    assert after[1]["id"] == before[1]["id"] and after[1]["name"] == "Park and lake"
    assert after[1]["geometry"] == bigger  # a new drawing beats the shape it was given to edit
    assert after[1]["schedule"] == [{"day": "SUNDAY", "start": "09:00", "end": "17:00"}]
    # a bad change is refused with the form still on the zone being changed, and nothing is lost
    r = creator.post(f"/orders/{ref}/zones", data={**base, "action": "save-exclusion_zones-1", "zone.name": "",
                                                   "geojson": "{not json"})  # fmt: skip
    assert r.status_code == 422 and 'value="save-exclusion_zones-1"' in r.text
    assert stored(world, ref)["conditions"]["exclusion_zones"] == after
    # changing its type moves it to the other list
    creator.post(f"/orders/{ref}/zones", data={**base, "action": "save-exclusion_zones-0", "kind": "inclusion_zones",
                                               "geojson": json.dumps(SQUARE)})  # fmt: skip
    conditions = stored(world, ref)["conditions"]
    assert [z["id"] for z in conditions["exclusion_zones"]] == [before[1]["id"]]
    assert [z["id"] for z in conditions["inclusion_zones"]] == [before[0]["id"]]
    # a zone that no longer exists cannot be changed
    r = creator.post(f"/orders/{ref}/zones", data={**base, "action": "save-exclusion_zones-7",
                                                   "geojson": json.dumps(SQUARE)})  # fmt: skip
    assert r.status_code == 200 and stored(world, ref)["conditions"] == conditions


def test_attendance_appointments_are_added_one_at_a_time_and_blank_ones_are_not_saved(world, creator):
    ref = new_order(creator)
    save(creator, ref, "monitoring", {"monitoring.cohort": "COURT_SENTENCE"})
    first = {
        "conditions.attendance[0].name": "Programme",
        "conditions.attendance[0].lat": "51.48",
        "conditions.attendance[0].lon": "-3.18",
        "conditions.attendance[0].radius_m": "100",
        "conditions.attendance[0].start-day": "4",
        "conditions.attendance[0].start-month": "1",
        "conditions.attendance[0].start-year": "2040",
        "conditions.attendance[0].start-time": "10:00",
    }
    save(creator, ref, "attendance", first)
    assert [a["id"] for a in stored(world, ref)["conditions"]["attendance"]] == ["A1"]
    page = creator.get(f"/orders/{ref}/attendance").text
    assert "Appointment 2" in page and "Appointment 3" not in page
    second = {k.replace("[0]", "[1]"): v for k, v in first.items()} | {
        "conditions.attendance[1].name": "Unpaid work"
    }
    save(creator, ref, "attendance", first | second)
    saved = stored(world, ref)["conditions"]["attendance"]
    assert [(a["id"], a["name"], a["lat"]) for a in saved] == [
        ("A1", "Programme", 51.48),
        ("A2", "Unpaid work", 51.48),
    ]
    assert saved[0]["start"] == "2040-01-04T10:00:00Z"
    check = creator.get(f"/orders/{ref}/check-answers").text
    assert "Appointment 2: name of the appointment" in check and "Appointment 3" not in check
    r = save(creator, ref, "attendance", first | {"conditions.attendance[0].lat": "north"})
    assert r.status_code == 422 and (
        "#conditions.attendance[0].lat",
        "Latitude must be a number",
    ) in errors_of(r.text)


@pytest.mark.parametrize("junk", ["<script>alert(1)</script>" * 500, "9" * 5000, "\x00\x1b[31m-1e999\u202e"])
def test_every_section_page_answers_junk_with_field_errors_never_a_server_error(world, creator, junk):
    ref = new_order(creator)
    save(creator, ref, "monitoring", {"monitoring.cohort": "COURT_BAIL"})
    for slug in BY_SLUG:
        if slug == "zones":
            data = {
                "kind": junk,
                "zone.name": junk,
                "geojson": junk,
                "zone.days": junk,
                "zone.from_time": junk,
            }
        else:
            data = {"slot_count": junk, "action": junk}
            for f in BY_SLUG[slug].fields(stored(world, ref)):
                data.update(
                    {f.path: junk, **{f"{f.path}-{p}": junk for p in ("day", "month", "year", "time")}}
                )
        r = save(creator, ref, slug, data)
        assert r.status_code in (200, 422), (slug, r.status_code)
        assert "<script>alert(1)</script>" not in r.text
