"""What a practitioner sees of a long window: the trail from the recent store and the older days from the lake
as one, a map thinned without losing zone entries, a paged position table with speed and source, a banner when
the data is old, a curfew calendar that says late / left early / no data with the ATV total, zones with their
hours and durations, appointments, and a PDF for a case conference. A lake day that is missing or corrupt is
named on the page; never a 500."""

from __future__ import annotations

import html
import io
import json
import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pypdf import PdfReader
from tests.integration.insights.test_person_view import HOME, PURPOSE, ZONE_AT, _doc, audit_rows

from openem.core.time import local_date, local_to_utc
from openem.insights.web import views
from openem.orders.seeding import load_orders
from openem.store.lake import SCHEMA
from openem.telemetry.tables import TelemetryMessageRow, TrailPointRow

MINE, THEIRS = "PER-TR-MINE", "PER-TR-THEIRS"
DEVICE = "DEV-TR-1"


def _at(day, hhmm: str) -> datetime:
    return local_to_utc(day, time.fromisoformat(hhmm))


class Trail:
    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, t: datetime, where: tuple[float, float], acc: float = 10.0) -> None:
        self.rows.append({"device_id": DEVICE, "seq": len(self.rows) + 1, "person_id": MINE, "activation_id": "A",
                          "device_time": t, "lat": where[0], "lon": where[1], "accuracy_m": acc})  # fmt: skip


@pytest.fixture
def world3(world, tmp_path):
    """MINE: four recent curfew nights (complied, late, left early, no positions), a zone visit, an appointment
    attended and one missed; the newest position three days old; 40-36 days ago only in the lake."""
    now = datetime.now(UTC)
    today = local_date(now)
    d0 = today - timedelta(days=7)  # the first recent night
    doc = _doc(MINE, "ORD-TRMINE001", "probation.demo@openem.example", "WEST_YORKSHIRE", 7)
    doc["device_wearer"]["last_name"] = "Mine"
    doc["conditions"]["exclusion_zones"][0]["schedule"] = [
        {"day": "SATURDAY", "start": "10:00", "end": "16:00"}
    ]
    doc["conditions"]["attendance"] = [
        {"id": "A1", "name": "Programme", "lat": ZONE_AT[0] + 0.01, "lon": ZONE_AT[1], "radius_m": 100,
         "start": _at(d0 + timedelta(days=1), "10:00").isoformat(), "end": _at(d0 + timedelta(days=1), "12:00").isoformat()},
        {"id": "A2", "name": "Supervision", "lat": ZONE_AT[0] + 0.01, "lon": ZONE_AT[1], "radius_m": 100,
         "start": _at(d0 + timedelta(days=2), "10:00").isoformat(), "end": _at(d0 + timedelta(days=2), "11:00").isoformat()},
    ]  # fmt: skip
    other = _doc(THEIRS, "ORD-TRTHEIR01", "else@example.gov.uk", "MERSEYSIDE", 8)
    other["device_wearer"]["last_name"] = "Theirs"
    tr = Trail()
    for night, pattern in enumerate(("complied", "late", "left early")):
        start = _at(d0 + timedelta(days=night), "19:00")
        for m in range(0, 12 * 60, 10):
            away = (pattern == "late" and m < 60) or (pattern == "left early" and m >= 660)
            tr.add(start + timedelta(minutes=m), ZONE_AT if away else HOME)
        if night == 0:  # the next morning: to the appointment, then to the zone
            t = _at(d0 + timedelta(days=1), "10:30")
            tr.add(t, (ZONE_AT[0] + 0.01, ZONE_AT[1]))
            tr.add(t + timedelta(minutes=60), (ZONE_AT[0] + 0.01, ZONE_AT[1]))
            for m in range(0, 50, 5):
                tr.add(t + timedelta(minutes=90 + m), ZONE_AT)
            tr.add(t + timedelta(minutes=150), HOME)
        if night == 1:  # during the second appointment: at home
            tr.add(_at(d0 + timedelta(days=2), "10:30"), HOME)
    newest = tr.rows[-1]["device_time"]
    with world.db.uow() as uow:
        load_orders(uow.session, [doc, other], actor="test", now=now)
        uow.session.execute(TrailPointRow.__table__.insert(), tr.rows)
        for r in tr.rows[:3]:  # the first three positions as received: one from a cell mast
            uow.session.add(TelemetryMessageRow(device_id=DEVICE, seq=r["seq"], type="gps", device_time=r["device_time"],
                                                receive_time=r["device_time"], payload={"source": "LBS" if r["seq"] == 2 else "GPS",
                                                "speed_mps": 2.0, "lat": r["lat"], "lon": r["lon"]}, flags=[], person_id=MINE, batch_id=1))  # fmt: skip
    # older days, only in the lake: 40 to 36 days ago, a fix every 30 minutes
    lake = Path(tmp_path) / "var" / "lake"
    lake_days = [today - timedelta(days=40 - i) for i in range(5)]
    for k, day in enumerate(lake_days):
        t0 = _at(day, "00:00")
        rows = [{"person_id": p, "activation_id": "A", "device_id": DEVICE if p == MINE else "DEV-OTHER",
                 "seq": 1_000_000 + k * 100 + i, "device_time": t0 + timedelta(minutes=30 * i), "lat": HOME[0],
                 "lon": HOME[1], "accuracy_m": 20.0} for p in (MINE, THEIRS) for i in range(48)]  # fmt: skip
        part = lake / f"date={day.isoformat()}"
        part.mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), part / "part-0.parquet")
    world.d0, world.today, world.newest, world.lake, world.lake_days = d0, today, newest, lake, lake_days
    world.recent = len(tr.rows)
    return world


def _data_points(page_text: str) -> list[dict]:
    raw = re.search(r'data-points="([^"]*)"', page_text).group(1)  # type: ignore[union-attr]
    return json.loads(html.unescape(raw))


def test_the_curfew_calendar_says_complied_late_left_early_and_no_data_with_the_atv_total(world3):
    c = world3.signed_in("demo-probation-practitioner")
    frm = world3.d0.isoformat()
    to = (world3.d0 + timedelta(days=4)).isoformat()
    body = c.get(f"/api/people/{MINE}", params={"from": frm, "to": to, **PURPOSE}).json()
    nights = {n["night_of"]: n for n in body["curfew"]}
    days = [(world3.d0 + timedelta(days=i)).isoformat() for i in range(4)]
    assert [nights[d]["status"] for d in days] == ["complied", "late", "left early", "no data"]
    assert [nights[d]["away_minutes"] for d in days] == [0, 60, 60, 0]
    assert body["atv_minutes"] == 120
    late = nights[days[1]]["intervals"]
    assert [i["at_home"] for i in late] == [False, True]
    page = c.get(f"/people/{MINE}", params={"from": frm, "to": to, **PURPOSE}).text
    assert 'id="calendar"' in page and "Left early" in page and "No data" in page
    assert '<strong id="atv">120 minutes</strong>' in page
    assert page.count('fill="#d4351c"></rect>') >= 2  # the chart draws both nights' time away


def test_zones_show_their_hours_and_time_inside_and_appointments_attended_or_missed(world3):
    c = world3.signed_in("demo-probation-practitioner")
    params = {"from": world3.d0.isoformat(), "to": (world3.d0 + timedelta(days=4)).isoformat(), **PURPOSE}
    body = c.get(f"/api/people/{MINE}", params=params).json()
    park = [v for v in body["zone_visits"] if v["start"][:10] >= (world3.d0 + timedelta(days=1)).isoformat()]
    assert any(v["minutes"] == 45 for v in park)
    assert {a["name"]: a["status"] for a in body["appointments"]} == {
        "Programme": "attended",
        "Supervision": "missed",
    }
    page = c.get(f"/people/{MINE}", params=params).text
    assert "Saturday 10:00–16:00" in page
    context = json.loads(html.unescape(re.search(r'data-context="([^"]*)"', page).group(1)))  # type: ignore[union-attr]
    assert [z["name"] for z in context["zones"]] == ["Park (saturday 10:00–16:00)"]


def test_old_data_gets_a_freshness_banner(world3):
    c = world3.signed_in("demo-probation-practitioner")
    page = c.get(f"/people/{MINE}", params={"from": world3.d0.isoformat(), **PURPOSE}).text
    age_days = (datetime.now(UTC) - world3.newest).days
    assert f"The newest position is {age_days} days old." in page and 'id="freshness"' in page


def test_the_lake_days_and_the_recent_store_are_one_trail(world3):
    c = world3.signed_in("demo-probation-practitioner")
    frm = (world3.today - timedelta(days=45)).isoformat()
    body = c.get(f"/api/people/{MINE}", params={"from": frm, **PURPOSE}).json()
    assert body["positions_from_lake"] == 5 * 48
    assert body["positions"] == 5 * 48 + world3.recent
    trail = c.get(f"/api/people/{MINE}/trail", params={"from": frm, **PURPOSE}).json()
    times = [f["properties"]["time"] for f in trail["features"]]
    assert times == sorted(times) and len(times) == body["positions"]
    assert {f["properties"]["device_id"] for f in trail["features"]} == {DEVICE}  # none of the other person's
    csv_rows = c.get(f"/people/{MINE}/export.csv", params={"from": frm, **PURPOSE}).text.splitlines()
    assert len(csv_rows) == 1 + body["positions"]


def test_a_position_in_both_stores_is_counted_once(world3):
    day = world3.lake_days[0]
    with world3.db.uow() as uow:  # the lake's first position of the first day is also in the recent store
        uow.session.add(TrailPointRow(device_id=DEVICE, seq=1_000_000, person_id=MINE, activation_id="A",
                                      device_time=_at(day, "00:00"), lat=HOME[0], lon=HOME[1], accuracy_m=20.0))  # fmt: skip
    c = world3.signed_in("demo-probation-practitioner")
    window = {"from": _at(day, "00:00").isoformat(), "to": _at(day + timedelta(days=1), "00:00").isoformat()}
    body = c.get(f"/api/people/{MINE}", params={**window, **PURPOSE}).json()
    assert body["positions"] == 48 and body["positions_from_lake"] == 47


@pytest.mark.parametrize("damage", ["corrupt", "empty"])
def test_a_corrupt_or_missing_lake_partition_is_named_on_the_page_not_a_500(world3, damage):
    bad = world3.lake_days[2]
    part = world3.lake / f"date={bad.isoformat()}" / "part-0.parquet"
    if damage == "corrupt":
        part.write_bytes(b"PAR1 this is not parquet" * 10)
    else:
        part.unlink()
    c = world3.signed_in("demo-probation-practitioner")
    frm = (world3.today - timedelta(days=45)).isoformat()
    page = c.get(f"/people/{MINE}", params={"from": frm, **PURPOSE})
    assert page.status_code == 200
    assert 'id="lake-missing"' in page.text and "could not be read for 1 day" in page.text
    body = c.get(f"/api/people/{MINE}", params={"from": frm, **PURPOSE}).json()
    assert body["lake_days_unreadable"] == [bad.isoformat()] and body["positions_from_lake"] == 4 * 48
    trail = c.get(f"/api/people/{MINE}/trail", params={"from": frm, **PURPOSE})
    assert trail.status_code == 200 and trail.json()["properties"]["lake_days_unreadable"] == [
        bad.isoformat()
    ]
    assert c.get(f"/people/{MINE}/summary.pdf", params={"from": frm, **PURPOSE}).status_code == 200


def test_the_map_is_thinned_but_keeps_every_zone_entry_and_exit(world3, monkeypatch):
    from openem.insights import service

    monkeypatch.setattr(service, "MAP_POINTS", 30)
    monkeypatch.setattr(service.map_points, "__defaults__", (30,))
    c = world3.signed_in("demo-probation-practitioner")
    params = {"from": world3.d0.isoformat(), "to": (world3.d0 + timedelta(days=4)).isoformat(), **PURPOSE}
    body = c.get(f"/api/people/{MINE}/trail", params=params).json()
    feats = body["features"]
    zone = [i for i, f in enumerate(feats) if abs(f["geometry"]["coordinates"][1] - ZONE_AT[0]) < 1e-9]
    entries = [feats[i]["properties"]["n"] for i in zone if i - 1 not in zone]
    exits = [feats[i]["properties"]["n"] for i in zone if i + 1 not in zone]
    assert len(entries) == len(exits) == 3  # the morning in the park, and the late night's two hours away
    must = {n + d for n in entries for d in (-1, 0)} | {n + d for n in exits for d in (0, 1)}
    must &= set(range(1, len(feats) + 1))
    page = c.get(f"/people/{MINE}", params=params).text
    drawn = _data_points(page)
    assert len(drawn) < len(feats)  # thinned
    assert must - {p["n"] for p in drawn} == set()
    assert all(p["key"] for p in drawn if p["n"] in must)
    assert "Thinned for the map" in page


def test_the_position_table_pages_and_shows_speed_and_source(world3, monkeypatch):
    monkeypatch.setattr(views, "TABLE_PAGE", 100)
    c = world3.signed_in("demo-probation-practitioner")
    params = {"from": world3.d0.isoformat(), **PURPOSE}
    page = c.get(f"/people/{MINE}", params=params).text
    table = page[page.index('id="positions"') :]
    assert ">LBS<" in table and "7.2 km/h" in table  # as the device reported it
    assert "Page 1 of 3" in table
    second = c.get(f"/people/{MINE}", params={**params, "page": 2}).text
    rows = re.findall(r'data-label="No.">(\d+)<', second)
    assert rows[0] == "101" and len(rows) == 100
    assert c.get(f"/people/{MINE}", params={**params, "page": 99}).status_code == 200


def test_the_trail_api_pages_long_windows(world3, monkeypatch):
    monkeypatch.setattr(views, "API_PAGE", 100)
    c = world3.signed_in("demo-probation-practitioner")
    frm = (world3.today - timedelta(days=45)).isoformat()
    first = c.get(f"/api/people/{MINE}/trail", params={"from": frm, **PURPOSE}).json()
    total = first["properties"]["positions"]
    pages = first["properties"]["pages"]
    assert pages == -(-total // 100) and len(first["features"]) == 100
    seen = [f["properties"]["n"] for p in range(1, pages + 1)
            for f in c.get(f"/api/people/{MINE}/trail", params={"from": frm, "page": p, **PURPOSE}).json()["features"]]  # fmt: skip
    assert seen == list(range(1, total + 1))
    r = c.get(f"/api/people/{MINE}/trail", params={"from": frm, "page": pages + 1, **PURPOSE})
    assert r.status_code == 422 and f"there are {pages} pages" in r.text
    assert c.get(f"/api/people/{MINE}/trail", params={"from": frm, "page": 0, **PURPOSE}).status_code == 422


@pytest.mark.parametrize(
    "window,words",
    [
        ({"from": "2024-01-01", "to": "2026-12-31"}, "at most 731 days"),
        ({"from": "2026-12-01T10:00", "to": "2026-12-01T09:00"}, "from must be before to"),
        ({"from": "3000-01-01"}, "the window starts in the future"),
        ({"from": "2999-01-01", "to": "2998-01-01"}, "the window starts in the future"),
        ({"from": "2026-11-01", "to": "9999-12-31T23:59:59+14:00"}, "at most 731 days"),
        ({"from": "9999-12-31T23:59:59.999999-14:00"}, "not a date this service can show"),
        ({"from": "0001-01-01T00:00+14:00", "to": "0001-01-02"}, "not a date this service can show"),
        ({"to": "0001-01-03"}, "to is before 2000"),
        ({"from": "1999-12-31", "to": "2000-01-02"}, "from is before 2000"),
        ({"from": "2000-01-01"}, "at most 731 days"),
        ({"from": "2026-11-30", "to": "2026-11-30"}, "from must be before to"),
        ({"from": "nonsense"}, "is not a date"),
        ({"from": "2026-02-30"}, "is not a date"),
    ],
)
def test_windows_that_are_reversed_enormous_or_in_the_future_are_answered_clearly(world3, window, words):
    c = world3.signed_in("demo-probation-practitioner")
    for url in (f"/api/people/{MINE}/trail", f"/api/people/{MINE}", f"/api/people/{MINE}/curfew",
                f"/people/{MINE}/summary.pdf", f"/people/{MINE}/export.csv", f"/people/{MINE}/export.geojson"):  # fmt: skip
        r = c.get(url, params={**window, **PURPOSE})
        assert r.status_code == 422 and words in r.text, url
        assert "attachment" not in r.headers.get("content-disposition", "")
    # the page says it at the top and beside the date it is about, and shows no positions
    page = c.get(f"/people/{MINE}", params={**window, **PURPOSE})
    assert page.status_code == 200 and "There is a problem" in page.text and "Positions (" not in page.text
    field = "to" if words in ("at most 731 days", "to is before 2000") else "from"
    assert f'<a href="#{field}">' in page.text and f'id="{field}-error"' in page.text
    assert html.unescape(page.text).count(words) == 2  # in the summary and beside the field
    assert not audit_rows(world3, "insights:")


def test_a_purpose_or_reference_missing_on_the_page_is_said_beside_that_field(world3):
    police = world3.signed_in("demo-police-officer")
    page = police.get(f"/people/{MINE}", params={"purpose": "suspect elimination"}).text
    assert (
        '<a href="#reference">' in page
        and 'id="reference-error"' in page
        and 'id="purpose-error"' not in page
    )
    pp = world3.signed_in("demo-probation-practitioner")
    page = pp.get(f"/people/{MINE}/timeline", params={"purpose": "why"}).text
    assert '<a href="#purpose">' in page and 'id="purpose-error"' in page


def test_a_day_the_lake_should_hold_but_does_not_is_named_unless_the_recent_store_has_it(world3):
    import shutil

    hole, covered = world3.lake_days[2], world3.lake_days[3]
    for day in (hole, covered):
        shutil.rmtree(world3.lake / f"date={day.isoformat()}")
    with world3.db.uow() as uow:  # the covered day is still in the recent store
        uow.session.add(TrailPointRow(device_id=DEVICE, seq=5_000_000, person_id=MINE, activation_id="A",
                                      device_time=_at(covered, "12:00"), lat=HOME[0], lon=HOME[1], accuracy_m=20.0))  # fmt: skip
    c = world3.signed_in("demo-probation-practitioner")
    frm = (world3.today - timedelta(days=45)).isoformat()  # also days before the lake's first: not named
    body = c.get(f"/api/people/{MINE}", params={"from": frm, **PURPOSE}).json()
    assert body["lake_days_missing"] == [hole.isoformat()] and body["lake_days_unreadable"] == []
    trail = c.get(f"/api/people/{MINE}/trail", params={"from": frm, **PURPOSE})
    assert trail.json()["properties"]["lake_days_missing"] == [hole.isoformat()]
    page = c.get(f"/people/{MINE}", params={"from": frm, **PURPOSE})
    assert page.status_code == 200 and 'id="lake-absent"' in page.text
    assert "has no record of 1 day" in page.text and 'id="lake-missing"' not in page.text
    assert c.get(f"/people/{MINE}/summary.pdf", params={"from": frm, **PURPOSE}).status_code == 200


def test_a_ninety_day_window_is_answered(world3):
    c = world3.signed_in("demo-probation-practitioner")
    r = c.get(
        f"/api/people/{MINE}/trail",
        params={"from": (world3.today - timedelta(days=90)).isoformat(), **PURPOSE},
    )
    assert r.status_code == 200 and r.json()["properties"]["positions"] == 5 * 48 + world3.recent


def test_the_case_conference_pdf_is_purpose_bound_and_audited(world3):
    c = world3.signed_in("demo-probation-practitioner")
    params = {"from": (world3.today - timedelta(days=45)).isoformat()}
    assert c.get(f"/people/{MINE}/summary.pdf", params=params).status_code == 422
    assert c.get(f"/people/{THEIRS}/summary.pdf", params={**params, **PURPOSE}).status_code == 403
    assert not audit_rows(world3, "insights:export:pdf")
    r = c.get(f"/people/{MINE}/summary.pdf", params={**params, **PURPOSE})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["cache-control"] == "no-store"
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages).split())
    assert "Case conference summary" in text and "ORD-TRMINE001" in text
    assert "risk review before visit [ref CR-123/26]" in text
    assert "Accumulated time away (ATV): 120 minutes" in text
    assert "Curfew address" in text  # the server-drawn map's label
    assert "Theirs" not in text
    rows = audit_rows(world3, "insights:export:pdf")
    assert len(rows) == 1 and rows[0].records == [MINE, "ORD-TRMINE001"]
    assert rows[0].details["positions"] == 5 * 48 + world3.recent
