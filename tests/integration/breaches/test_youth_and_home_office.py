"""Youth justice and the Home Office answer their own breaches: a youth's breach reaches the youth justice
service's inbox (team and worker) and not probation's; an immigration bail breach reaches the Home Office's
caseworker, who records the Home Office's outcome; each sees only their own caseload."""

from __future__ import annotations

import re

from .conftest import load, order_doc, pump, tamper


def _token(client):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)


def _inbox_refs(client):
    return {m["order_ref"] for m in client.get("/api/inbox").json()["messages"]}


def test_a_youths_breach_reaches_youth_justice_not_probation(world):
    youth = order_doc(
        "ORD-YJS000001", "PER-YJS-1", "COURT_SENTENCE", youth=True, email="yjs.demo@openem.example"
    )
    adult = order_doc("ORD-PRB000001", "PER-PRB-1", "COURT_SENTENCE", seed=2)
    load(world.db, youth, adult)
    tamper(world.db, "ORD-YJS000001", "PER-YJS-1", alert_id="Y1")
    tamper(world.db, "ORD-PRB000001", "PER-PRB-1", alert_id="P1")
    pump(world.db)
    yjs = world.signed_in("demo-youth-justice-worker")
    probation = world.signed_in("demo-probation-practitioner")
    assert _inbox_refs(yjs) == {"ORD-YJS000001"}
    assert "ORD-YJS000001" not in _inbox_refs(probation) and "ORD-PRB000001" in _inbox_refs(probation)
    listed = yjs.get("/api/breaches").json()["breaches"]
    assert [(b["order_ref"], b["agency"], b["team"]) for b in listed] == [
        ("ORD-YJS000001", "youth_justice", "youth_justice:LEEDS")
    ]
    bid = listed[0]["breach_id"]
    assert bid not in {b["breach_id"] for b in probation.get("/api/breaches").json()["breaches"]}
    assert probation.get(f"/breaches/{bid}").status_code == 404
    page = yjs.get(f"/breaches/{bid}")
    assert page.status_code == 200 and "Strap tampered with" in page.text and 'name="step"' in page.text
    h = {"X-CSRF-Token": _token(yjs)}
    url = f"/api/breaches/{bid}/responses"
    assert yjs.post(url, json={"step": "receive"}, headers=h).status_code == 200
    assert (
        yjs.post(url, json={"step": "decide", "value": "recall"}, headers=h).status_code == 422
    )  # not YJS's
    assert yjs.post(url, json={"step": "decide", "value": "engage"}, headers=h).status_code == 200
    assert yjs.post(url, json={"step": "close"}, headers=h).status_code == 200
    assert yjs.get(f"/api/breaches/{bid}").json()["state"] == "closed"
    nav = yjs.get("/").text
    assert 'href="/breaches"' in nav and 'href="/incidents"' not in nav


def test_an_immigration_bail_breach_reaches_the_home_office_caseworker(world):
    mine = order_doc("ORD-HO0000001", "PER-HO-1", "IMMIGRATION_BAIL", email="homeoffice.demo@openem.example")
    other = order_doc(
        "ORD-HO0000002", "PER-HO-2", "IMMIGRATION_BAIL", email="someone.else@openem.example", seed=3
    )
    load(world.db, mine, other)
    tamper(world.db, "ORD-HO0000001", "PER-HO-1", alert_id="H1")
    tamper(world.db, "ORD-HO0000002", "PER-HO-2", alert_id="H2")
    pump(world.db)
    ho = world.signed_in("demo-home-office-caseworker")
    assert "ORD-HO0000001" in _inbox_refs(ho)
    listed = ho.get("/api/breaches").json()["breaches"]
    assert [(b["order_ref"], b["agency"]) for b in listed] == [
        ("ORD-HO0000001", "home_office")
    ]  # caseload only
    bid = listed[0]["breach_id"]
    others = world.signed_in("demo-youth-justice-worker")
    assert others.get(f"/breaches/{bid}").status_code == 404
    h = {"X-CSRF-Token": _token(ho)}
    url = f"/api/breaches/{bid}/responses"
    assert ho.post(url, json={"step": "receive"}, headers=h).status_code == 200
    assert ho.post(url, json={"step": "decide", "value": "engage"}, headers=h).status_code == 422  # not HO's
    form = ho.post(f"/breaches/{bid}/responses", data={"step": "decide", "value": "adjust_bail",
                                                     "csrf_token": _token(ho), "submission_key": "k1"})  # fmt: skip
    assert form.status_code == 200 and "Adjust bail" in form.text
    assert ho.get(f"/api/breaches/{bid}").json()["decision"] == "adjust_bail"


def test_the_operator_queue_is_in_the_monitoring_centres_navigation(world):
    operator = world.signed_in("demo-mc-operator")
    nav = operator.get("/").text.split('id="navigation"')[1].split("</ul>")[0]
    assert 'href="/incidents"' in nav and nav.index('href="/alerts"') < nav.index('href="/incidents"')
    police = world.signed_in("demo-police-officer")
    assert 'href="/incidents"' not in police.get("/").text.split('id="navigation"')[1].split("</ul>")[0]
