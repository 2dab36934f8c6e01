"""Order-entry pages on SQLite and PostgreSQL: lists, task list, section forms with field errors (hostile input
included), curfew editor without JavaScript, zones from GeoJSON, check answers and submit, review, variation
with its changes, bulk import."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import ImmutableMultiDict

from openem.orders.bulk import COLUMNS
from openem.orders.samples import sample_order
from openem.web.orders_forms import Field, apply_form, display, get_path, parse_field
from openem.web.orders_sections import BY_SLUG


def csrf(client: Any) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)


@pytest.fixture
def creator(world):
    c = world.signed_in("demo-order-creator-court")
    c.token = csrf(c)
    return c


@pytest.fixture
def operator(world):
    c = world.signed_in("demo-mc-operator")
    c.token = csrf(c)
    return c


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


def test_a_new_order_starts_on_a_task_list_and_is_listed_for_its_creator_only(world, creator):
    ref = new_order(creator)
    page = creator.get(f"/orders/{ref}").text
    assert "govuk-task-list" in page and "Cannot start yet" in page and "Incomplete" in page
    assert "OrderVersion(" not in page and "'request_type'" not in page  # no document dumped into the page
    assert ref in creator.get("/orders?tab=draft").text
    assert ref not in creator.get("/orders?tab=submitted").text
    assert ref not in creator.get("/orders?q=nobody-by-this-name").text
    police = world.signed_in("demo-police-officer")
    assert ref not in police.get("/orders").text
    assert police.get(f"/orders/{ref}").status_code == 403


def test_starting_an_order_needs_the_form_token(creator):
    start = creator.get("/orders/new")
    assert start.status_code == 200 and 'action="/orders/new"' in start.text
    r = creator.post("/orders/new", data={"csrf_token": "forged"})
    assert r.status_code == 403


def test_hostile_input_gets_field_errors_linked_to_the_fields(world, creator):
    ref = new_order(creator)
    r = save(
        creator,
        ref,
        "device-wearer",
        {
            "device_wearer.first_name": "<script>alert(1)</script>",
            "device_wearer.last_name": "x" * 20_000,
            "device_wearer.date_of_birth-day": "31",
            "device_wearer.date_of_birth-month": "2",
            "device_wearer.date_of_birth-year": "2000",
            "device_wearer.is_adult": "perhaps",
        },
    )
    assert r.status_code == 422
    hrefs = dict(errors_of(r.text))
    assert "#device_wearer.date_of_birth" in hrefs and "real date" in hrefs["#device_wearer.date_of_birth"]
    assert "#device_wearer.is_adult" in hrefs
    assert 'id="device_wearer.date_of_birth"' in r.text and "govuk-form-group--error" in r.text
    assert "<script>alert(1)</script>" not in r.text
    # with the dates fixed the long name is refused by the model, still as a field error
    r = save(
        creator,
        ref,
        "device-wearer",
        {"device_wearer.first_name": "<script>alert(1)</script>", "device_wearer.last_name": "x" * 20_000},
    )
    assert r.status_code == 422
    assert any(h == "#device_wearer.last_name" for h, _ in errors_of(r.text))
    assert "<script>alert(1)</script>" not in r.text
    r = save(creator, ref, "device-wearer", {"device_wearer.first_name": "Bad\x07name"})
    assert r.status_code == 422 and any(h == "#device_wearer.first_name" for h, _ in errors_of(r.text))


def test_dates_and_times_are_read_as_london_time(world, creator):
    ref = new_order(creator)
    data = {
        "monitoring.start-day": "1",
        "monitoring.start-month": "7",
        "monitoring.start-year": "2031",
        "monitoring.start-time": "09:30",
        "monitoring.end-day": "1",
        "monitoring.end-month": "12",
        "monitoring.end-year": "2031",
        "monitoring.end-time": "09:30",
    }
    save(creator, ref, "monitoring", data)
    doc = stored(world, ref)
    assert doc["monitoring"]["start"] == "2031-07-01T08:30:00Z"  # BST
    assert doc["monitoring"]["end"] == "2031-12-01T09:30:00Z"  # GMT
    r = save(creator, ref, "monitoring", {**data, "monitoring.start-time": "25:99"})
    assert r.status_code == 422 and any("real time" in m for _, m in errors_of(r.text))


def test_an_order_entered_through_the_pages_is_submitted_and_accepted(world, creator, operator):
    doc = sample_order(datetime.now(UTC))
    ref = new_order(creator)
    enter_sample(creator, ref, doc)
    saved = stored(world, ref)
    for section in ("device_wearer", "interested_parties", "monitoring", "installation"):
        expected = {k: v for k, v in doc[section].items() if v not in (None, [], "")}
        assert {k: saved[section].get(k) for k in expected} == expected, section
    assert saved["conditions"]["curfew"]["timetable"] == doc["conditions"]["curfew"]["timetable"]
    tasks = creator.get(f"/orders/{ref}").text
    assert "Incomplete" not in tasks
    check = creator.get(f"/orders/{ref}/check-answers").text
    assert (
        doc["device_wearer"]["last_name"] in check
        and f"/orders/{ref}/curfew#conditions.curfew.start" in check
    )
    r = creator.post(f"/orders/{ref}/submit", data={"csrf_token": creator.token})
    assert r.status_code == 200 and "govuk-panel--confirmation" in r.text and ref in r.text
    receipt = creator.get(f"/orders/{ref}/receipt")
    assert receipt.status_code == 200 and doc["device_wearer"]["first_name"] in receipt.text
    assert ref in operator.get("/orders").text  # the monitoring centre starts on submitted orders
    assert ref not in operator.get("/orders?tab=draft").text
    r = operator.post(f"/orders/{ref}/accept", data={"csrf_token": operator.token})
    assert r.status_code == 200 and "The order has been accepted" in r.text
    assert stored(world, ref) == saved | {}  # the accepted version is the one entered
    # the creator may not accept their own order
    assert creator.post(f"/orders/{ref}/accept", data={"csrf_token": creator.token}).status_code == 403


def test_submitting_an_incomplete_order_links_each_error_to_its_page(world, creator):
    ref = new_order(creator)
    save(creator, ref, "device-wearer", {"device_wearer.first_name": "Sam"})
    r = creator.post(f"/orders/{ref}/submit", data={"csrf_token": creator.token})
    assert r.status_code == 422
    links = errors_of(r.text)
    assert (
        f"/orders/{ref}/device-wearer?check=1#device_wearer.last_name",
        "Enter the device wearer's last name",
    ) in links
    page = creator.get(links[0][0].split("#")[0]).text
    assert "govuk-form-group--error" in page and links[0][1].replace("'", "&#39;") in page
    assert stored(world, ref).get("device_wearer", {}).get("first_name") == "Sam"


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


def test_possible_duplicates_must_be_confirmed_one_by_one(world, creator, operator):
    doc = sample_order(datetime.now(UTC))
    first = new_order(creator)
    enter_sample(creator, first, doc)
    creator.post(f"/orders/{first}/submit", data={"csrf_token": creator.token})
    operator.post(f"/orders/{first}/accept", data={"csrf_token": operator.token})
    second = new_order(creator)
    enter_sample(creator, second, doc)
    r = creator.post(f"/orders/{second}/submit", data={"csrf_token": creator.token})
    assert (
        r.status_code == 409 and f'value="{first}"' in r.text and 'name="confirmed_not_duplicates"' in r.text
    )
    r = creator.post(
        f"/orders/{second}/submit", data={"csrf_token": creator.token, "confirmed_not_duplicates": first}
    )
    assert r.status_code == 200 and "Order submitted" in r.text


def test_reject_needs_reasons_then_the_creator_amends_and_a_variation_shows_its_changes(
    world, creator, operator
):
    doc = sample_order(datetime.now(UTC) + timedelta(days=1))
    ref = new_order(creator)
    enter_sample(creator, ref, doc)
    creator.post(f"/orders/{ref}/submit", data={"csrf_token": creator.token})
    r = operator.post(f"/orders/{ref}/reject", data={"csrf_token": operator.token, "reasons": "  "})
    assert r.status_code == 422 and "Enter why the order is rejected" in r.text
    r = operator.post(
        f"/orders/{ref}/reject",
        data={"csrf_token": operator.token, "reasons": "Wrong court\n<b>Check the PNC</b>"},
    )
    assert "Wrong court" in r.text and "&lt;b&gt;Check the PNC&lt;/b&gt;" in r.text
    assert ref in creator.get("/orders?tab=rejected").text
    creator.post(f"/orders/{ref}/vary", data={"csrf_token": creator.token, "request_type": "AMEND_REJECTED"})
    creator.post(f"/orders/{ref}/submit", data={"csrf_token": creator.token})
    operator.post(f"/orders/{ref}/accept", data={"csrf_token": operator.token})
    r = creator.post(f"/orders/{ref}/vary", data={"csrf_token": creator.token})
    assert "govuk-task-list" in r.text and "Version history" in r.text
    save(creator, ref, "contact", {"contact.phone": "07700 900999"})
    draft = creator.get(f"/orders/{ref}").text
    assert "Changes so far in version 3" in draft and "contact.phone" in draft
    creator.post(f"/orders/{ref}/submit", data={"csrf_token": creator.token})
    page = operator.post(f"/orders/{ref}/accept", data={"csrf_token": operator.token}).text
    changes = page.split('id="changes"', 1)[1].split("</table>", 1)[0]
    assert "contact.phone" in changes and "07700 900999" in changes and "device_wearer" not in changes
    assert "Contact details: Device wearer&#39;s phone number" in changes  # the question as it was asked


GOOD = {
    "case_ref": "C1", "court_code": "ABERDARE_MAGISTRATES_COURT", "first_name": "Alex", "last_name": "Smith",
    "date_of_birth": "1990-01-01", "sex": "MALE", "gender": "MALE", "pnc": "2019/0123456A",
    "address_line1": "1 High Street", "address_town": "Cardiff", "postcode": "CF10 1EP", "cohort": "COURT_BAIL",
    "order_type": "BAIL", "start_time": "12:00", "end_time": "12:00", "curfew_start": "19:00",
    "curfew_end": "07:00", "curfew_days": "ALL", "responsible_organisation": "POLICE", "police_area": "SOUTH_WALES",
    "probation_region": "", "delivery_unit": "", "officer_name": "Pat Officer", "officer_email": "pat@example.gov.uk",
    "team_email": "court@example.gov.uk",
}  # fmt: skip


def court_csv(*rows) -> bytes:
    start = datetime.now(UTC).date() + timedelta(days=3)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(COLUMNS)
    for r in rows:
        r = {"start_date": start.isoformat(), "end_date": (start + timedelta(days=90)).isoformat(), **r}
        w.writerow([r[c] for c in COLUMNS])
    return buf.getvalue().encode()


def test_bulk_import_reports_each_bad_row_and_imports_nothing(world, creator):
    before = creator.get("/orders?tab=draft").text.count("/orders/ORD-")
    data = court_csv(GOOD, {**GOOD, "case_ref": "C2", "postcode": "<script>NOPE"})
    r = creator.post("/orders/import", data={"csrf_token": creator.token}, files={"file": ("r.csv", data)})
    assert r.status_code == 422
    table = r.text.split('id="row-errors"', 1)[1]
    assert "addresses[0].postcode" in table and "<script>NOPE" not in r.text
    assert creator.get("/orders?tab=draft").text.count("/orders/ORD-") == before
    r = creator.post(
        "/orders/import",
        data={"csrf_token": creator.token},
        files={"file": ("r.csv", court_csv(GOOD, {**GOOD, "case_ref": "C2", "first_name": "Jo"}))},
    )
    assert r.status_code == 200 and "2 orders imported" in r.text
    assert creator.get("/orders?tab=draft").text.count("/orders/ORD-") == before + 2
    r = creator.post(
        "/orders/import", data={"csrf_token": creator.token}, files={"file": ("r.csv", b"\xff\xfe\x00")}
    )
    assert r.status_code == 422 and "UTF-8" in r.text


def test_the_receipt_is_printable_html_and_a_pdf_when_weasyprint_is_installed(world, creator):
    ref = new_order(creator)
    save(creator, ref, "device-wearer", {"device_wearer.first_name": "Robin"})
    r = creator.get(f"/orders/{ref}/receipt")
    assert r.status_code == 200 and "Robin" in r.text and "Receipt for order" in r.text
    pdf = creator.get(f"/orders/{ref}/receipt.pdf")
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        assert pdf.headers["content-type"].startswith("text/html")
    else:
        assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")


# -- form conversion (pure) ------------------------------------------------------------------------------
INSTANT = Field("monitoring.start", "Monitoring starts", "instant")


def instant_form(parts: dict[str, str]) -> ImmutableMultiDict:
    return ImmutableMultiDict({f"monitoring.start-{p}": v for p, v in parts.items()})


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2060, 12, 31)))
def test_an_instant_shown_in_the_form_reads_back_to_the_same_minute_or_is_kept_unchanged(naive):
    value = naive.replace(second=0, microsecond=0, tzinfo=UTC).isoformat().replace("+00:00", "Z")
    doc = {"monitoring": {"start": value}}
    errors, _ = apply_form(doc, [INSTANT], instant_form(display(INSTANT, value)))
    assert errors == [] and doc["monitoring"]["start"] == value
    parsed, problem = parse_field(INSTANT, instant_form(display(INSTANT, value)))
    assert problem is None
    # read afresh, a wall time can only differ in the repeated hour when the clocks go back
    assert parsed == value or abs(
        datetime.fromisoformat(parsed) - datetime.fromisoformat(value)
    ) == timedelta(hours=1)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["day", "month", "year", "time"]), st.text(max_size=12)))
def test_any_typed_date_gives_a_value_or_a_field_error_never_an_exception(parts):
    value, problem = parse_field(INSTANT, instant_form(parts))
    assert (value is None) or (problem is None and value.endswith("Z"))


def test_a_time_that_does_not_exist_in_london_is_refused():
    parts = {"day": "28", "month": "3", "year": "2027", "time": "01:30"}  # clocks go forward at 01:00
    value, problem = parse_field(INSTANT, instant_form(parts))
    assert value is None and "clocks go forward" in problem


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
