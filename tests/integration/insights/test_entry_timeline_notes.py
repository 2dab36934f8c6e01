"""A practitioner finds a person by whatever number they have (PNC in any usual spelling, CRN, NOMIS number,
order reference), reads everything about them on one timeline filtered by kind, and writes notes that carry
their name. Restricted ("specials") cases only for cleared users; everything refused outside the caseload (403,
as an unknown id); every read and every note audited."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from tests.conftest import sign_in
from tests.integration.insights.test_person_view import PURPOSE, _doc, audit_rows

from openem.alerts.tables import AlertRow, IncidentRow
from openem.auth.service import create_user
from openem.devices.tables import ActivationRow
from openem.field.tables import AttemptRow, VisitRow
from openem.orders.seeding import load_orders

MINE, THEIRS, SPECIAL = "PER-ENT-MINE", "PER-ENT-THEIRS", "PER-ENT-SPECIAL"
ME = "probation.demo@openem.example"


@pytest.fixture
def people(world):
    now = datetime.now(UTC)
    mine = _doc(MINE, "ORD-ENTMINE01", ME, "WEST_YORKSHIRE", 1)
    mine["device_wearer"] |= {
        "last_name": "Mine",
        "pnc": "04/123456A",
        "crn": "X765432",
        "nomis_id": "A4321BC",
    }
    theirs = _doc(THEIRS, "ORD-ENTTHEIR1", "other@example.gov.uk", "MERSEYSIDE", 2)
    theirs["device_wearer"] |= {"last_name": "Theirs", "pnc": "2011/7654321K", "crn": "X111111"}
    special = _doc(SPECIAL, "ORD-ENTSPEC01", ME, "WEST_YORKSHIRE", 3)
    special["device_wearer"] |= {"pnc": "1999/0000042Z", "last_name": "Special"}
    special["offence_risk"]["specials"] = True
    with world.db.uow() as uow:
        active, _ = load_orders(uow.session, [mine, theirs, special], actor="test", now=now)
        assert len(active) == 3
        s = uow.session
        s.add(ActivationRow(activation_id="ACT-ENT-1", device_id="DEV-ENT-1", device_kind="GPS",
                            order_ref="ORD-ENTMINE01", person_id=MINE, start=now - timedelta(days=9),
                            end=now - timedelta(days=2)))  # fmt: skip
        s.add(VisitRow(visit_id="VIS-ENT-1", kind="FIT", order_ref="ORD-ENTMINE01", person_id=MINE,
                       created_at=now - timedelta(days=10), due_by=now - timedelta(days=9)))  # fmt: skip
        s.add(AttemptRow(visit_id="VIS-ENT-1", at=now - timedelta(days=9, hours=1), officer="fo-1",
                         outcome="NOT_AT_HOME"))  # fmt: skip
        s.add(AttemptRow(visit_id="VIS-ENT-1", at=now - timedelta(days=9), officer="fo-1", outcome="FITTED"))
        s.add(AlertRow(alert_id="ALR-ENT-1", kind="exclusion_zone_entry", severity="HIGH", person_id=MINE,
                       order_ref="ORD-ENTMINE01", start=now - timedelta(days=5), detected_at=now - timedelta(days=5),
                       stored_at=now - timedelta(days=5)))  # fmt: skip
        s.add(AlertRow(alert_id="ALR-ENT-2", kind="curfew_absence", severity="HIGH", person_id=THEIRS,
                       order_ref="ORD-ENTTHEIR1", start=now - timedelta(days=5), detected_at=now - timedelta(days=5),
                       stored_at=now - timedelta(days=5)))  # fmt: skip
        s.add(IncidentRow(incident_id="INC-ENT-1", group_key="g", person_id=MINE, order_ref="ORD-ENTMINE01",
                          situation="In an exclusion zone", state="resolved", severity="HIGH",
                          opened_at=now - timedelta(days=5), closed_at=now - timedelta(days=4),
                          resolution="no further action"))  # fmt: skip
    return world


def _found(c, q: str) -> list[str]:
    r = c.get("/api/people", params={"q": q, **PURPOSE})
    assert r.status_code == 200, r.text
    return [p["person_id"] for p in r.json()]


@pytest.mark.parametrize(
    "typed",
    ["04/123456A", "2004/0123456A", "2004/123456A", "04/0123456a", "20040123456A", "X765432", "x765432",
     "A4321BC", "ORD-ENTMINE01", "ord-entmine01", MINE],
)  # fmt: skip
def test_the_practitioner_finds_their_person_by_any_number_they_have(people, typed):
    c = people.signed_in("demo-probation-practitioner")
    assert _found(c, typed) == [MINE]


def test_numbers_of_people_outside_the_caseload_find_nobody(people):
    c = people.signed_in("demo-probation-practitioner")
    for typed in ("2011/7654321K", "11/7654321K", "X111111", "ORD-ENTTHEIR1", THEIRS):
        assert _found(c, typed) == [], typed
    page = c.get("/people", params={"q": "11/7654321K", **PURPOSE})
    assert "0 people found" in page.text and THEIRS not in page.text
    rows = audit_rows(people, "insights:search")
    assert rows and all(THEIRS not in r.records for r in rows)


def test_specials_only_for_users_cleared_for_restricted_cases(people):
    c = people.signed_in("demo-probation-practitioner")
    assert _found(c, "1999/42Z") == [] and _found(c, "Special") == []
    assert c.get(f"/api/people/{SPECIAL}/timeline", params=PURPOSE).status_code == 403
    with people.db.uow() as uow:
        create_user(uow.session, actor="test", username="cleared-pp", password="a-long-password-123",
                    roles=["probation_practitioner"], email=ME, restricted=True)  # fmt: skip
    cleared = people.client()
    sign_in(cleared, "cleared-pp", "a-long-password-123")
    assert _found(cleared, "99/0000042Z") == [SPECIAL]
    assert cleared.get(f"/api/people/{SPECIAL}/timeline", params=PURPOSE).status_code == 200


@pytest.mark.parametrize("q", ["%", "_", "'", "\x00", "a" * 100, "<script>alert(1)</script>", "04/"])
def test_hostile_search_text_is_answered_plainly(people, q):
    c = people.signed_in("demo-probation-practitioner")
    r = c.get("/api/people", params={"q": q, **PURPOSE})
    assert r.status_code in (200, 422)
    if r.status_code == 200:
        assert THEIRS not in r.text
    assert c.get("/api/people", params={"q": "a" * 101, **PURPOSE}).status_code == 422


def test_the_timeline_has_everything_about_the_person_newest_first_and_filters_by_kind(people):
    c = people.signed_in("demo-probation-practitioner")
    r = c.get(f"/api/people/{MINE}/timeline", params=PURPOSE)
    assert r.status_code == 200, r.text
    entries = r.json()["entries"]
    kinds = {e["kind"] for e in entries}
    assert kinds == {"order", "device", "visit", "alert", "incident"}
    titles = [e["title"] for e in entries]
    assert any("version 1" in t for t in titles)
    assert "GPS device DEV-ENT-1 fitted" in titles and "Device DEV-ENT-1 removed" in titles
    assert "Visit attempt (fit): not at home" in titles and "Visit attempt (fit): fitted" in titles
    assert "Alert: Exclusion zone entry" in titles and "Incident closed: no further action" in titles
    assert [e["at"] for e in entries] == sorted((e["at"] for e in entries), reverse=True)
    assert all(e["order_ref"] == "ORD-ENTMINE01" for e in entries)  # nothing of the other person's
    only = c.get(f"/api/people/{MINE}/timeline", params={**PURPOSE, "kind": ["visit", "device"]}).json()
    assert {e["kind"] for e in only["entries"]} == {"visit", "device"}
    page = c.get(f"/people/{MINE}/timeline", params={**PURPOSE, "kind": "alert"})
    assert page.status_code == 200 and "moj-timeline" in page.text
    assert "Alert: Exclusion zone entry" in page.text and "Visit attempt" not in page.text
    rows = audit_rows(people, "insights:timeline")
    assert len(rows) == 3 and all(r.records == [MINE, "ORD-ENTMINE01"] for r in rows)
    assert rows[1].details["kinds"] == ["visit", "device"]


def test_the_timeline_needs_a_purpose_and_is_refused_outside_the_caseload(people):
    c = people.signed_in("demo-probation-practitioner")
    r = c.get(f"/api/people/{MINE}/timeline")
    assert r.status_code == 422 and "Say why you are looking" in r.text
    page = c.get(f"/people/{MINE}/timeline")
    assert (
        page.status_code == 200
        and "Why are you looking?" in page.text
        and "moj-timeline__item" not in page.text
    )
    for url in (f"/api/people/{THEIRS}/timeline", f"/people/{THEIRS}/timeline"):
        r = c.get(url, params=PURPOSE)
        assert r.status_code == 403 and "Theirs" not in r.text and "curfew absence" not in r.text.lower()
    assert not audit_rows(people, "insights:timeline")


def _csrf(page_text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]*)"', page_text).group(1)  # type: ignore[union-attr]


def test_a_note_is_saved_with_its_author_shown_on_the_timeline_and_audited(people):
    c = people.signed_in("demo-probation-practitioner")
    page = c.get(f"/people/{MINE}/timeline", params=PURPOSE)
    text = "Spoke to the person about the park visit.\nThey say it was a mistake & <b>won't</b> happen again."
    r = c.post(f"/people/{MINE}/notes", data={"csrf_token": _csrf(page.text), "text": text, **PURPOSE})
    assert r.status_code == 200 and "Note by demo-probation-practitioner" in r.text
    assert "&lt;b&gt;won&#39;t&lt;/b&gt;" in r.text  # people's text is text, never markup
    api = c.get(f"/api/people/{MINE}/timeline", params={**PURPOSE, "kind": "note"}).json()["entries"]
    assert [e["detail"] for e in api] == [text]
    police = people.signed_in("demo-police-officer")  # same force: sees the practitioner's note
    notes = police.get(f"/api/people/{MINE}/timeline", params={**PURPOSE, "kind": "note"}).json()["entries"]
    assert notes[0]["title"] == "Note by demo-probation-practitioner"
    written = audit_rows(people, "insights:note:write")
    assert (
        len(written) == 1
        and written[0].records == [MINE, "ORD-ENTMINE01"]
        and written[0].details["chars"] == len(text)
    )


@pytest.mark.parametrize(
    "text,words",
    [
        ("", "Write the note"),
        ("   \n  ", "Write the note"),
        ("x" * 4001, "at most 4000"),
        ("bell\x07", "cannot be shown"),
    ],
)
def test_a_bad_note_is_not_saved_and_the_page_says_why(people, text, words):
    c = people.signed_in("demo-probation-practitioner")
    page = c.get(f"/people/{MINE}/timeline", params=PURPOSE)
    r = c.post(f"/people/{MINE}/notes", data={"csrf_token": _csrf(page.text), "text": text, **PURPOSE})
    assert r.status_code == 200 and words in r.text
    assert not audit_rows(people, "insights:note:write")
    api = c.post(f"/api/people/{MINE}/notes", json={"text": text}, headers={"x-csrf-token": _csrf(page.text)})
    assert api.status_code == 422 and words in api.text


def test_notes_need_the_form_token_and_cannot_be_written_about_someone_else(people):
    c = people.signed_in("demo-probation-practitioner")
    page = c.get(f"/people/{MINE}/timeline", params=PURPOSE)
    assert c.post(f"/people/{MINE}/notes", data={"text": "no token"}).status_code == 403
    r = c.post(f"/people/{THEIRS}/notes", data={"csrf_token": _csrf(page.text), "text": "about them"})
    assert r.status_code == 403 and "Theirs" not in r.text
    bad = c.post(
        f"/api/people/{MINE}/notes", json={"text": ["a"]}, headers={"x-csrf-token": _csrf(page.text)}
    )
    assert bad.status_code == 422
    assert not audit_rows(people, "insights:note:write")
    assert c.get(f"/api/people/{MINE}/timeline", params={**PURPOSE, "kind": "note"}).json()["entries"] == []


def test_control_characters_in_ids_purposes_and_kinds_never_break_a_page(people):
    c = people.signed_in("demo-probation-practitioner")
    for url in (f"/api/people/{MINE}%00", "/api/people/%00/timeline", f"/people/{MINE}%00/timeline"):
        assert c.get(url, params=PURPOSE).status_code == 403, url
    r = c.get(
        f"/api/people/{MINE}/timeline", params={"purpose": "risk\x00 review", "kind": ["note\x00", "alert"]}
    )
    assert r.status_code == 200
    rows = audit_rows(people, "insights:timeline")
    assert rows[-1].purpose == "risk review" and rows[-1].details["kinds"] == ["alert"]
    assert c.get("/api/people", params={"q": "\x00\x01", **PURPOSE}).status_code == 200


def _breach(uow, breach_id: str, person: str, ref: str, at: datetime) -> None:
    from openem.breaches.tables import BreachResponseRow, BreachRow

    uow.session.add(BreachRow(breach_id=breach_id, incident_id=f"INC-{breach_id}", person_id=person, order_ref=ref,
                              agency="probation", team="T", kinds=["curfew_absence"], situation="curfew",
                              period_start=at, violation_start=at, confirmed_at=at, confirmed_by="operator.one",
                              created_at=at, state="decided"))  # fmt: skip
    uow.session.add(BreachResponseRow(breach_id=breach_id, agency="probation", step="decision", value="warning",
                                      by="officer.two", at=at + timedelta(hours=3), submission_key=f"k-{breach_id}"))  # fmt: skip


def test_breaches_and_their_responses_are_on_the_timeline_of_the_person_they_belong_to(people):
    at = datetime.now(UTC) - timedelta(days=2)
    with people.db.uow() as uow:
        _breach(uow, "BR-MINE-1", MINE, "ORD-ENTMINE01", at)
        _breach(uow, "BR-THEIRS-1", THEIRS, "ORD-ENTTHEIR1", at)
    c = people.signed_in("demo-probation-practitioner")
    entries = c.get(f"/api/people/{MINE}/timeline", params={**PURPOSE, "kind": "breach"}).json()["entries"]
    assert [e["title"] for e in entries] == [
        "Breach BR-MINE-1 response (probation) decision: warning",
        "Breach BR-MINE-1 confirmed: curfew absence",
    ]
    assert entries[1]["detail"] == "By operator.one, now decided"
    page = c.get(f"/people/{MINE}/timeline", params=PURPOSE)
    assert "Breach BR-MINE-1 confirmed" in page.text and "BR-THEIRS-1" not in page.text
    assert "Breaches and responses" in page.text  # the filter offers the kind
