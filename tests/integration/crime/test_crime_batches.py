"""The hub uploads a force's batch (page and API), sees the outcome with every refusal, sends the errors back as
CSV; crimes keep versions and duplicates are labelled; the batch is matched against the recent store's trails at
once; a police officer sees their own force's batches only; every look is audited with its purpose; the
evidence PDF is issued with its hash."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from tests.crime_worlds import SCENE, crime_line, offset

from openem.auth.tables import AuditRow
from openem.devices.tables import ActivationRow
from openem.orders.samples import sample_order
from openem.orders.seeding import load_orders
from openem.telemetry.tables import TrailPointRow

NOW = datetime.now(UTC).replace(microsecond=0)
FROM = NOW - timedelta(hours=6)
TO = FROM + timedelta(hours=1)
PURPOSE = {"purpose": "ruling suspects in or out", "reference": "20WM/1234"}


@pytest.fixture
def trails(world):
    """Two GPS wearers on trail-monitoring orders (one at the scene during the window, one 2 km away) and one at
    the scene whose order does not permit crime matching."""
    with world.db.uow() as uow:
        docs = []
        for i, name in enumerate(("AT", "AWAY", "NOPE")):
            d = sample_order(NOW, random.Random(i + 10))
            d["ref"], d["person_id"] = f"ORD-CRM{name}", f"PER-CRM-{name}"
            d["offence_risk"]["specials"] = False
            d["monitoring"]["scheme"] = None
            d["conditions"] = {"trail": {"start": (NOW - timedelta(days=20)).isoformat(), "end": (NOW + timedelta(days=20)).isoformat()}} if name != "NOPE" else {k: v for k, v in d["conditions"].items() if k != "trail"}  # fmt: skip
            docs.append(d)
        active, _ = load_orders(uow.session, docs, actor="test", now=NOW)
        for i, name in enumerate(("AT", "AWAY", "NOPE")):
            dev = f"GPS-CRM{i}"
            uow.session.add(ActivationRow(activation_id=f"ACT-{dev}", device_id=dev, device_kind="GPS_TAG",
                                          order_ref=f"ORD-CRM{name}", person_id=f"PER-CRM-{name}", role="WEARER",
                                          start=NOW - timedelta(days=10), end=None))  # fmt: skip
            for m in range(-60, 120):
                t = FROM + timedelta(minutes=m)
                lat, lon = offset(*SCENE, 2000.0, 0) if name == "AWAY" or not (20 <= m <= 23) else SCENE
                uow.session.add(TrailPointRow(device_id=dev, seq=m + 100, person_id=f"PER-CRM-{name}",
                                              activation_id=f"ACT-{dev}", device_time=t, lat=lat, lon=lon,
                                              accuracy_m=8.0))  # fmt: skip
    return world


def upload(client, text: str, name: str = "batch.csv"):
    page = client.get("/crime")
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)
    return client.post(
        "/crime/batches", data={"csrf_token": token}, files={"file": (name, text.encode(), "text/csv")}
    )


def audits(world, prefix: str) -> list[AuditRow]:
    with world.db.uow() as uow:
        return [
            r
            for r in uow.session.execute(select(AuditRow).order_by(AuditRow.seq)).scalars()
            if r.action.startswith(prefix)
        ]


def test_an_uploaded_batch_is_matched_at_once_and_the_wearer_at_the_scene_is_found(trails):
    c = trails.signed_in("demo-crime-matching-caseworker")
    good = crime_line("20WM/1", SCENE, FROM, TO)
    bad = crime_line("20WM/2", (55.9533, -3.1883), FROM, TO)  # Edinburgh
    page = upload(c, good + "\r\n" + bad + "\r\n")
    assert (
        page.status_code == 200 and "rows were refused" not in page.text and "1 row was refused" in page.text
    )
    assert "outside england wales" in page.text and "Check the location" in page.text
    key = re.search(r"/crime/batches/(CB-[^/\"]+)/errors.csv", page.text).group(1)
    errors = c.get(f"/crime/batches/{key}/errors.csv")
    assert errors.headers["content-type"].startswith("text/csv") and "outside_england_wales" in errors.text
    # matches need a purpose; with one, the wearer at the scene is placed there and the other two are not
    assert "PER-CRM-AT" not in c.get(f"/crime/batches/{key}/matches").text
    shown = c.get(f"/crime/batches/{key}/matches", params=PURPOSE)
    assert (
        "PER-CRM-AT" in shown.text and "PER-CRM-NOPE" not in shown.text and "PER-CRM-AWAY" not in shown.text
    )
    assert "1 placed at the scene, 0 unknown (a gap in the trail), 1 ruled out, of 2 wearers" in shown.text
    csv_text = c.get(f"/crime/batches/{key}/matches", params={**PURPOSE, "fmt": "csv"}).text
    header, row = csv_text.splitlines()[:2]
    assert header.startswith("crime_reference,crime_version,status,person_id,device_id,pass_label,closest_m")
    assert row.startswith("20WM/1,1,match,PER-CRM-AT,GPS-CRM0,A1,0.0")
    read = audits(trails, "crime:matches:")
    assert [r.action for r in read] == ["crime:matches:read", "crime:matches:export"]
    assert "PER-CRM-AT" in read[0].records and "ruling suspects" in read[0].purpose
    # the evidence view and its PDF, hashed and kept
    match_id = re.search(r"/crime/matches/(\d+)\?", shown.text).group(1)
    view = c.get(f"/crime/matches/{match_id}", params=PURPOSE)
    assert "<svg" in view.text and "Closest approach" in view.text and "Method" in view.text
    pdf = c.get(f"/crime/matches/{match_id}/evidence.pdf", params=PURPOSE)
    assert pdf.content.startswith(b"%PDF") and len(pdf.headers["x-evidence-sha256"]) == 64
    import hashlib

    assert hashlib.sha256(pdf.content).hexdigest() == pdf.headers["x-evidence-sha256"]
    [issued] = audits(trails, "crime:evidence:export")
    assert issued.details["sha256"] == pdf.headers["x-evidence-sha256"]


def test_a_batch_sent_again_with_a_change_gives_new_versions_and_unchanged_crimes_are_duplicates(trails):
    c = trails.signed_in("demo-crime-matching-caseworker")
    first = "\n".join([crime_line("V1", SCENE, FROM, TO), crime_line("V2", SCENE, FROM, TO)])
    upload(c, first)
    again = "\n".join(
        [crime_line("V1", SCENE, FROM, TO), crime_line("V2", SCENE, FROM, TO, text="Now with a van seen")]
    )
    page = upload(c, again)
    assert "1 new or changed, 1 sent before unchanged (duplicates)" in page.text
    assert "(changed: text)" in page.text and "(duplicate)" in page.text


def test_a_refused_file_keeps_nothing_and_says_why(trails):
    c = trails.signed_in("demo-crime-matching-caseworker")
    two_forces = (
        crime_line("X1", SCENE, FROM, TO)
        + "\n"
        + crime_line("X2", SCENE, FROM, TO)
        .replace("WestMidlands", "Kent")
        .replace("WMP20261103", "KNT20261103")
    )
    page = upload(c, two_forces)
    assert "The file was refused: nothing was kept" in page.text and "one force" in page.text
    junk = upload(c, "\x00\x01\x02binary" * 50)
    assert "not a text CSV file" in junk.text
    [r1, r2] = [r for r in audits(trails, "crime:batch:ingest")]
    assert r1.outcome == "refused" and r2.details["file_errors"] == ["not_csv"]


def test_the_api_takes_a_file_and_answers_with_every_refusal(trails):
    c = trails.signed_in("demo-crime-matching-caseworker")
    page = c.get("/crime")
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)
    resp = c.post("/api/crime/batches", headers={"X-CSRF-Token": token},
                  files={"file": ("b.csv", (crime_line("A1", SCENE, FROM, TO) + "\n" + crime_line("A2", SCENE, FROM, FROM - timedelta(hours=1))).encode())})  # fmt: skip
    body = resp.json()
    assert resp.status_code == 201 and body["outcome"] == "partial"
    assert body["row_errors"] == [{"row": 2, "type": "window_reversed", "field": "date_to",
                                   "value": (FROM - timedelta(hours=1)).strftime("%Y%m%d%H%M%S"),
                                   "action": body["row_errors"][0]["action"]}]  # fmt: skip


def test_police_see_their_own_force_only_and_others_cannot_upload(trails):
    hub = trails.signed_in("demo-crime-matching-caseworker")
    page = upload(hub, crime_line("P1", SCENE, FROM, TO))
    key = re.search(r"/crime/batches/(CB-[^/\"]+)", page.text).group(1)
    police = trails.signed_in("demo-police-officer")  # West Yorkshire: not a West Midlands batch
    assert police.get(f"/crime/batches/{key}").status_code == 404
    assert key not in police.get("/crime").text
    assert upload(police, crime_line("P2", SCENE, FROM, TO)).status_code == 403
    probation = trails.signed_in("demo-probation-practitioner")
    assert probation.get("/crime").status_code == 403
    refusals = [r for r in audits(trails, "") if r.outcome != "ok" and key in (r.records or [])]
    assert refusals


def test_a_manual_run_is_recorded_beside_the_automatic_one(trails):
    c = trails.signed_in("demo-crime-matching-caseworker")
    page = upload(c, crime_line("M1", SCENE, FROM, TO))
    key = re.search(r"/crime/batches/(CB-[^/\"]+)/match", page.text).group(1)
    first = c.get(f"/api/crime/batches/{key}").json()["run"]
    assert first["trigger"] == "automatic" and first["status"] == "done" and first["matches"] == 1
    assert first["algorithm"] == "cell-bucket-join/1" and "total_ms" in first["timings"]
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)
    c.post(f"/crime/batches/{key}/match", data={"csrf_token": token})
    again = c.get(f"/api/crime/batches/{key}").json()["run"]
    assert again["trigger"] == "manual" and again["run"] != first["run"] and again["matches"] == 1
    police = trails.signed_in("demo-police-officer")
    assert police.get(f"/api/crime/batches/{key}").status_code == 404


def test_the_location_search_finds_who_was_there_within_48_hours_and_exports_csv(trails):
    c = trails.signed_in("demo-crime-matching-caseworker")
    q = {
        "lat": str(SCENE[0]),
        "lon": str(SCENE[1]),
        "from": FROM.isoformat(),
        "to": TO.isoformat(),
        **PURPOSE,
    }
    page = c.get("/crime/search", params=q)
    assert "1 placed there, 0 unknown, 1 ruled out" in page.text and "PER-CRM-AT" in page.text
    rows = c.get("/crime/search", params={**q, "fmt": "csv"}).text.splitlines()
    assert rows[1].split(",")[3] == "PER-CRM-AT"
    too_long = c.get("/crime/search", params={**q, "to": (FROM + timedelta(hours=49)).isoformat()})
    assert "at most 48 hours" in too_long.text
    scotland = c.get("/crime/search", params={**q, "lat": "55.95", "lon": "-3.19"})
    assert "England or Wales" in scotland.text
    assert [r.action for r in audits(trails, "crime:search")] == ["crime:search:read", "crime:search:export"]
    assert trails.signed_in("demo-police-officer").get("/crime/search", params=q).status_code == 403
