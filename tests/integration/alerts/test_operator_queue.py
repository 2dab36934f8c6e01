"""The operator queue as an operator uses it, over HTTP: filters, the incident page at a glance, forms that
act with optimistic locking, why an incident never reached them; rules and silences on pages."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.integration.alerts.queue_world import add_order, alert

from openem.alerts import queries
from openem.alerts.service import on_alert_for_triage
from openem.auth.audit import AuditRow
from openem.bus.outbox import OutboxRow
from openem.core.time import utcnow


@pytest.fixture
def queue(world: Any) -> Any:
    add_order(world.db, "EM-Q1", "PER-Q1")
    now = utcnow()
    with world.db.uow() as uow:
        on_alert_for_triage(
            alert("q-curfew", "curfew_absent", now - timedelta(hours=3), now - timedelta(hours=1)), uow
        )
        on_alert_for_triage(alert("q-tamper", "strap_tamper", now - timedelta(minutes=30)), uow)
        on_alert_for_triage(alert("q-nocomms", "no_comms", now - timedelta(minutes=50), now - timedelta(minutes=40),
                                  severity="LOW"), uow)  # fmt: skip
    return world


def _token(client: Any, path: str = "/") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def _rows(html: str) -> str:
    """The queue table's rows only (the filters name every kind)."""
    return html.split('id="incidents-body">')[1].split("</tbody>")[0]


def _ids(world: Any, **kw: Any) -> dict[str, dict[str, Any]]:
    with world.db.uow() as uow:
        return {r["situation"]: r for r in queries.incident_queue(uow.session, include_all=True, **kw)}


def test_the_queue_filters_by_kind_priority_assignee_and_state(queue: Any) -> None:
    client = queue.signed_in("demo-mc-operator")
    page = client.get("/incidents")
    assert page.status_code == 200
    body = _rows(page.text)
    assert body.index("Tamper") < body.index("Curfew night")  # most urgent first
    assert "Alex Example" in body and "device fault" not in body.lower()  # noise not queued
    only_tamper = _rows(client.get("/incidents?kind=tamper").text)
    assert "Tamper" in only_tamper and "Curfew night" not in only_tamper
    held = _rows(client.get("/incidents?state=held_back").text)
    assert "Device fault" in held and "Suppressed by a rule" in held and "Tamper" not in held
    assert "No incidents match" in _rows(client.get("/incidents?assignee=me").text)
    assert "No incidents match" in _rows(client.get("/incidents?band=low&kind=tamper").text)
    api = client.get("/api/incidents?kind=curfew").json()
    assert [i["situation"][:12] for i in api["incidents"]] == ["curfew night"] and api["total"] == 1


@pytest.mark.parametrize(
    "query",
    ["state=%3Cscript%3E", "kind=../../etc", "band=" + "x" * 20, "assignee=" + "a" * 80, "page=10000",
     "state=resolved&page=2"],
)  # fmt: skip
def test_hostile_filters_give_a_normal_page(queue: Any, query: str) -> None:
    client = queue.signed_in("demo-mc-operator")
    resp = client.get("/incidents?" + query)
    assert resp.status_code == 200 and "<script>" not in resp.text.split("<main")[1]
    assert client.get("/incidents?page=0").status_code == 422
    assert client.get("/incidents?kind=" + "k" * 200).status_code == 422


def test_the_live_digest_changes_when_the_queue_does_and_rows_come_from_the_page_template(queue: Any) -> None:
    client = queue.signed_in("demo-mc-operator")
    before = client.get("/api/incidents/digest").json()
    assert client.get("/api/incidents/digest").json() == before  # nothing changed, nothing to fetch
    with queue.db.uow() as uow:
        on_alert_for_triage(alert("q-prox", "proximity", utcnow()), uow)
    after = client.get("/api/incidents/digest").json()
    assert after["total"] == before["total"] + 1 and after["digest"] != before["digest"]
    rows = client.get("/incidents/rows").text
    assert "Victim proximity" in rows and "<html" not in rows


def test_the_incident_page_shows_what_an_operator_needs_and_no_engine_internals(queue: Any) -> None:
    client = queue.signed_in("demo-mc-operator")
    inc = _ids(queue)["tamper"]
    page = client.get(f"/incidents/{inc['incident_id']}").text
    for words in ("Alex Example", "07700900123", "Domestic abuse", "EM-Q1", 'href="/orders/EM-Q1"',
                  "Curfew: 19:00 to 07:00", "Strap tamper", "Escalated at once", "escalate-tamper, version 1"):  # fmt: skip
        assert words in page, words
    assert re.search(r"\d{1,2} [A-Z][a-z]+ 20\d\d at \d{1,2}(:\d\d)?(am|pm)", page)  # GOV.UK London time
    assert (
        not re.search(r"\b1[78]\d{8}\b", page) and "_start" not in page and "T2" not in page.split("<main")[1]
    )
    with queue.db.uow() as uow:
        reads = uow.session.scalars(
            select(AuditRow).where(AuditRow.action == f"alerts:incident:{inc['incident_id']}:read")
        )
        assert [r.purpose for r in reads] == ["incident review"]


def test_a_suppressed_incident_says_why_it_never_reached_a_person(queue: Any) -> None:
    client = queue.signed_in("demo-mc-operator")
    fault = _ids(queue)["device fault"]
    page = client.get(f"/incidents/{fault['incident_id']}").text
    why = page.split("Why this never reached a person")[1].split("</div>")[0]
    assert "route-device-fault</strong>, version 2" in why and "field-service" in why


def test_operator_forms_act_once_and_a_stale_form_is_refused(queue: Any) -> None:
    client = queue.signed_in("demo-mc-operator")
    inc = _ids(queue)["tamper"]
    url = f"/incidents/{inc['incident_id']}"
    token = _token(client, url)
    v = inc["row_version"]
    resp = client.post(url, data={"csrf_token": token, "version": v, "action": "acknowledge"})
    assert resp.status_code == 200 and "Incident acknowledged" in resp.text
    stale = client.post(
        url, data={"csrf_token": token, "version": v, "action": "resolve", "reason_resolve": "no_breach"}
    )
    assert stale.status_code == 409 and "Another operator changed this incident" in stale.text
    v = _ids(queue)["tamper"]["row_version"]
    missing = client.post(url, data={"csrf_token": token, "version": v, "action": "resolve"})
    assert missing.status_code == 422 and "Choose why the incident is resolved" in missing.text
    contact = client.post(url, data={"csrf_token": token, "version": v, "action": "contact",
                                     "reason_contact": "reasonable_excuse", "note_contact": "Strap caught on a door"})  # fmt: skip
    assert contact.status_code == 200 and "Strap caught on a door" in contact.text
    v = _ids(queue)["tamper"]["row_version"]
    client.post(
        url, data={"csrf_token": token, "version": v, "action": "assign", "assignee": "demo-mc-operator"}
    )
    assert "Tamper" in _rows(client.get("/incidents?assignee=me").text)
    v = _ids(queue)["tamper"]["row_version"]
    done = client.post(
        url,
        data={"csrf_token": token, "version": v, "action": "resolve", "reason_resolve": "reasonable_excuse"},
    )
    assert "Incident resolved" in done.text and "Reasonable excuse" in done.text
    assert "Tamper" not in _rows(client.get("/incidents").text)  # off the waiting queue
    no_csrf = client.post(url, data={"version": v, "action": "note", "note_note": "x"})
    assert no_csrf.status_code == 403


def test_escalating_to_a_breach_writes_the_event_breaches_consume(queue: Any) -> None:
    client = queue.signed_in("demo-mc-operator")
    inc = _ids(queue)["curfew night " + next(k for k in _ids(queue) if k.startswith("curfew"))[13:]]
    url = f"/incidents/{inc['incident_id']}"
    client.post(url, data={"csrf_token": _token(client, url), "version": inc["row_version"], "action": "escalate",
                           "reason_escalate": "no answer, out past midnight"})  # fmt: skip
    with queue.db.uow() as uow:
        msgs = [
            m.payload["incident"]
            for m in uow.session.scalars(
                select(OutboxRow).where(OutboxRow.topic == "alerts.IncidentEscalated")
            )
        ]
    mine = [m for m in msgs if m["incident_id"] == inc["incident_id"]]
    assert len(mine) == 1 and mine[0]["confirmed_by"].startswith("USR-")  # the operator, by user id
    for key in ("incident_id", "person_id", "order_ref", "episode_ids", "alert_ids", "kinds", "priority",
                "severity", "opened_at", "confirmed_at", "confirmed_by", "reason", "situation"):  # fmt: skip
        assert key in mine[0]


def test_a_probation_practitioner_cannot_act_and_an_unknown_incident_is_missing(queue: Any) -> None:
    pp = queue.signed_in("demo-probation-practitioner")
    inc = _ids(queue)["tamper"]
    assert pp.get("/incidents/INC-NOPE" + "x" * 300).status_code == 404
    resp = pp.post(
        f"/incidents/{inc['incident_id']}",
        data={"csrf_token": _token(pp), "version": 1, "action": "acknowledge"},
    )
    assert resp.status_code in (403, 404)


def test_rules_page_refuses_a_rule_that_would_quiet_tamper_and_keeps_every_version(queue: Any) -> None:
    client = queue.signed_in("demo-mc-operator")
    token = _token(client, "/incidents/rules")
    bad = client.post("/incidents/rules", data={"csrf_token": token, "rule_id": "quiet-straps", "action": "suppress",
                                                "mode": "active", "match": '{"kinds": ["strap_tamper"]}', "reason": "noisy"})  # fmt: skip
    assert bad.status_code == 422 and "strap tamper, which always reaches a person" in bad.text
    junk = client.post("/incidents/rules", data={"csrf_token": token, "rule_id": "x-y", "action": "suppress",
                                                 "mode": "active", "match": "{not json", "reason": "r"})  # fmt: skip
    assert junk.status_code == 422 and "not valid JSON" in junk.text
    fixed = client.post("/incidents/rules", data={"csrf_token": token, "rule_id": "escalate-tamper", "action": "escalate",
                                                  "mode": "retired", "reason": "too many"})  # fmt: skip
    assert fixed.status_code == 422 and "cannot be retired" in fixed.text
    ok = client.post("/incidents/rules", data={"csrf_token": token, "rule_id": "suppress-alcohol-contaminant",
                                               "action": "suppress", "mode": "monitor", "window_minutes": "0",
                                               "match": '{"kinds": ["alcohol_contaminant"]}', "reason": "check it first"})  # fmt: skip
    assert ok.status_code == 200 and "Rule saved as a new version" in ok.text
    page = ok.text
    assert "demo-mc-operator: check it first" in page and page.count("suppress-alcohol-contaminant") >= 2
    with queue.db.uow() as uow:
        audit = [
            r.action
            for r in uow.session.scalars(select(AuditRow).where(AuditRow.action.like("alerts:rule:%")))
        ]
    assert audit == ["alerts:rule:suppress-alcohol-contaminant:v2"]
    with queue.db.uow() as uow:  # the new version decides in dry run: recorded and counted, not acted on
        on_alert_for_triage(alert("q-alc", "alcohol_contaminant", utcnow() - timedelta(hours=1), utcnow(),
                                  condition_id="ALC"), uow)  # fmt: skip
    alc = next(r for k, r in _ids(queue).items() if k.startswith("alcohol"))
    assert (
        alc["needs_person"]
        and {"rule": "suppress-alcohol-contaminant", "version": 2, "mode": "monitor"}.items()
        <= next(d for d in alc["decisions"] if d["rule"] == "suppress-alcohol-contaminant").items()
    )


def test_a_silence_set_on_the_page_holds_back_curfew_but_not_tamper_and_can_end_early(queue: Any) -> None:
    client = queue.signed_in("demo-mc-operator")
    token = _token(client, "/incidents/silences")
    refused = client.post(
        "/incidents/silences", data={"csrf_token": token, "person_id": "PER-Q1", "hours": "2", "reason": ""}
    )
    assert refused.status_code == 422 and "Give the reason" in refused.text
    too_long = client.post(
        "/incidents/silences",
        data={"csrf_token": token, "person_id": "PER-Q1", "hours": "9999", "reason": "x"},
    )
    assert too_long.status_code == 422
    ok = client.post("/incidents/silences", data={"csrf_token": token, "person_id": "PER-Q1", "hours": "4",
                                                  "reason": "in hospital, ward confirmed"})  # fmt: skip
    assert "Silence set" in ok.text and "in hospital, ward confirmed" in ok.text
    later = utcnow() + timedelta(minutes=1)
    with queue.db.uow() as uow:
        on_alert_for_triage(
            alert("s-zone", "exclusion_entry", later, later + timedelta(minutes=20), condition_id="Z9"), uow
        )
        on_alert_for_triage(alert("s-case", "case_tamper", later), uow)
    rows = _ids(queue)
    assert rows["zone visit Z9"]["state"] == "suppressed" and rows["tamper"]["needs_person"]
    sid = re.search(r"/incidents/silences/(SIL-[0-9A-F]+)/end", ok.text).group(1)
    ended = client.post(f"/incidents/silences/{sid}/end", data={"csrf_token": token, "reason": "discharged"})
    assert "Silence ended" in ended.text and "ended early by demo-mc-operator" in ended.text


def test_a_clear_late_return_goes_to_the_official_and_its_page_says_why(queue: Any) -> None:
    now = utcnow()
    with queue.db.uow() as uow:
        on_alert_for_triage(alert("q-late", "curfew_late_return", now - timedelta(days=1, hours=2),
                                  now - timedelta(days=1, hours=1), details={"minutes": 60}), uow)  # fmt: skip
    late = next(r for r in _ids(queue).values() if "curfew_late_return" in r["kinds"])
    assert late["state"] == "confirmed" and not late["needs_person"]
    with queue.db.uow() as uow:
        sent = [
            m.payload["incident"]
            for m in uow.session.scalars(
                select(OutboxRow).where(OutboxRow.topic == "alerts.IncidentEscalated")
            )
        ]
    assert any(
        m["incident_id"] == late["incident_id"] and m["confirmed_by"] == "policy:confirm-late-return@v1"
        for m in sent
    )
    client = queue.signed_in("demo-mc-operator")
    assert late["incident_id"] not in _rows(client.get("/incidents").text)  # not an operator's to review
    assert late["incident_id"] in _rows(client.get("/incidents?state=confirmed").text)
    page = client.get(f"/incidents/{late['incident_id']}").text
    assert "went straight to the official" in page and "confirm-late-return</strong>, version 1" in page
