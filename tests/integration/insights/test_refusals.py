"""A practitioner or police officer asks for someone who is not theirs, by any number they might have (the
person id, the CRN, the PNC in its usual spellings, the NOMIS number, the order reference): every page, API
read, export, PDF and note is refused with 403 and the same words and body as an id that names nobody, so the
answer says nothing about whether the person exists. Each refusal leaves an audit row with who asked, the id
asked, the purpose given and "denied" (issue 15, decision 0031 "Changed")."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from tests.integration.insights.test_person_view import HOME, PURPOSE, _doc, audit_rows, routes

from openem.insights.repository import add_note
from openem.insights.web.views import UNSEEN
from openem.orders.seeding import load_orders
from openem.telemetry.tables import TrailPointRow

MINE, THEIRS = "PER-REF-MINE", "PER-REF-THEIRS"
ME = "probation.demo@openem.example"
#: Every number the other person could be asked for by, in the spellings people type.
THEIR_IDS = [
    THEIRS,
    "per-ref-theirs",
    "ORD-REFTHEIR1",
    "ord-reftheir1",
    "X222222",
    "x 222222",
    "2011/7654321K",
    "11/7654321K",
    "2011/07654321k",
    "20117654321K",
    "B1234CD",
]
#: Ids that name nobody at all.
NOBODY = ["PER-NOSUCH", "ORD-NOSUCH01", "X999999", "2012/0000001A", "Z9999ZZ"]
WINDOW = {"from": (datetime.now(UTC) - timedelta(days=3)).date().isoformat()}


@pytest.fixture
def two(world):
    now = datetime.now(UTC)
    mine = _doc(MINE, "ORD-REFMINE01", ME, "WEST_YORKSHIRE", 11)
    mine["device_wearer"] |= {"last_name": "Mine", "pnc": "2010/1111111A", "crn": "X111112"}
    theirs = _doc(THEIRS, "ORD-REFTHEIR1", "other@example.gov.uk", "MERSEYSIDE", 12)
    theirs["device_wearer"] |= {
        "first_name": "Robin",
        "last_name": "Elsewhere",
        "pnc": "2011/7654321K",
        "crn": "X222222",
        "nomis_id": "B1234CD",
    }
    with world.db.uow() as uow:
        active, _ = load_orders(uow.session, [mine, theirs], actor="test", now=now)
        assert len(active) == 2
        for i in range(30):
            for person in (MINE, THEIRS):
                uow.session.add(TrailPointRow(device_id=f"DEV-{person}", seq=i + 1, person_id=person,
                                              activation_id="A", device_time=now - timedelta(hours=30 - i),
                                              lat=HOME[0], lon=HOME[1], accuracy_m=10.0))  # fmt: skip
        add_note(uow.session, person_id=THEIRS, order_ref="ORD-REFTHEIR1", author="u-other",
                 author_name="other.officer", text="Their private note", at=now)  # fmt: skip
    return world


def get_routes(person: str) -> list[str]:
    """Every GET a practitioner can make about one person: pages, the JSON API, exports and the PDF."""
    return [*routes(person), f"/people/{person}/timeline", f"/people/{person}/summary.pdf",
            f"/api/people/{person}/timeline"]  # fmt: skip


def _csrf(c) -> str:
    page = c.get(f"/people/{MINE}/timeline", params=PURPOSE)
    return re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)  # type: ignore[union-attr]


def ask_everything_routes() -> list[str]:
    return [u.replace(THEIRS, "{id}") for u in get_routes(THEIRS)] + [
        "POST /people/{id}/notes",
        "POST /api/people/{id}/notes",
    ]


def ask_everything(c, person: str, token: str) -> dict[str, tuple[int, str, bytes]]:
    """(status, content type, body) of every route about the person, keyed by the route with the id blanked."""
    out = {}
    for url in get_routes(person):
        r = c.get(url, params={**WINDOW, **PURPOSE})
        out[url.replace(person, "{id}")] = (r.status_code, r.headers["content-type"], r.content)
    r = c.post(f"/people/{person}/notes", data={"csrf_token": token, "text": "about them", **PURPOSE})
    out["POST /people/{id}/notes"] = (r.status_code, r.headers["content-type"], r.content)
    r = c.post(f"/api/people/{person}/notes", json={"text": "about them"}, headers={"x-csrf-token": token})
    out["POST /api/people/{id}/notes"] = (r.status_code, r.headers["content-type"], r.content)
    return out


@pytest.mark.parametrize("user", ["demo-probation-practitioner", "demo-police-officer"])
def test_someone_elses_person_by_any_number_gets_the_same_403_as_nobody_on_every_route(two, user):
    c = two.signed_in(user)
    token = _csrf(c)
    nobody = ask_everything(c, NOBODY[0], token)
    for route, (status, ctype, body) in nobody.items():
        assert status == 403, route
        if route.startswith(("/api", "POST /api")):
            assert ctype == "application/json" and body == (
                b'{"error":"forbidden","message":"' + UNSEEN.encode() + b'"}'
            ), route
        else:  # a GOV.UK page, not a stack trace
            page = body.decode()
            assert ctype.startswith("text/html") and "You do not have permission</h1>" in page, route
            assert UNSEEN in page and "govuk-header" in page and "Traceback" not in page
    slashed = ask_everything(c, "2012/0000001A", token)  # a PNC typed with its slash is no page's id
    assert {status for status, _, _ in slashed.values()} == {404}
    for asked in THEIR_IDS + NOBODY[1:]:
        answers = ask_everything(c, asked, token)
        # status, type and every byte of the body: nothing tells them apart
        assert answers == (slashed if "/" in asked else nobody), asked
    for body in {b for _, _, b in [*nobody.values(), *slashed.values()]}:
        for secret in ("Robin", "Elsewhere", "ORD-REFTHEIR1", "X222222", "B1234CD", "private note"):
            assert secret.encode() not in body


def test_searching_by_their_numbers_finds_nobody_and_links_to_nobody(two):
    c = two.signed_in("demo-probation-practitioner")
    for asked in THEIR_IDS:
        r = c.get("/api/people", params={"q": asked, **PURPOSE})
        assert r.status_code == 200 and r.json() == [], asked
        page = c.get("/people", params={"q": asked, **PURPOSE}).text
        assert "0 people found" in page and f'href="/people/{THEIRS}' not in page and "Elsewhere" not in page
    mine = c.get("/people", params={"q": "X111112", **PURPOSE}).text
    assert f'href="/people/{MINE}' in mine  # the search does link to a person who is theirs


def test_every_refusal_is_audited_with_who_the_id_asked_the_purpose_and_denied(two):
    c = two.signed_in("demo-probation-practitioner")
    token = _csrf(c)
    asked = [THEIRS, "B1234CD", "PER-NOSUCH"]
    for person in asked:
        ask_everything(c, person, token)
    rows = audit_rows(two, "insights:person:denied")
    per_person = len(get_routes(THEIRS)) + 2
    assert len(rows) == per_person * len(asked)
    me = audit_rows(two, "insights:timeline:read")[0].actor  # the practitioner's own look at MINE
    assert all(r.actor == me and r.outcome == "denied" for r in rows)
    assert [r.records for r in rows] == [[p] for p in asked for _ in range(per_person)]
    assert {r.details["path"] for r in rows} == {
        route.replace("POST ", "").replace("{id}", p) for p in asked for route in ask_everything_routes()
    }
    assert {r.purpose for r in rows} == {"risk review before visit [ref CR-123/26]", "practitioner note"}
    assert {r.details["reason"] for r in rows if r.records == [THEIRS]} == {"person outside your cases"}
    assert {r.details["reason"] for r in rows if r.records == ["PER-NOSUCH"]} == {"no such person"}
    # nothing was read, exported or written about anyone refused
    for action in ("insights:person:read", "insights:trail", "insights:curfew", "insights:export",
                   "insights:note:write"):  # fmt: skip
        assert not audit_rows(two, action), action
    assert all(r.records == [MINE, "ORD-REFMINE01"] for r in audit_rows(two, "insights:timeline"))


def test_a_refusal_without_a_purpose_is_still_403_and_audited_with_what_was_given(two):
    c = two.signed_in("demo-probation-practitioner")
    for url in get_routes(THEIRS):
        assert c.get(url).status_code == 403, url  # refused before the purpose is asked for
    r = c.get(f"/api/people/{THEIRS}/trail", params={"purpose": "curious\x00", "reference": ""})
    assert r.status_code == 403
    rows = audit_rows(two, "insights:person:denied")
    assert len(rows) == len(get_routes(THEIRS)) + 1
    assert rows[0].purpose == "" and rows[-1].purpose == "curious"


@pytest.mark.parametrize("hostile", ["PER-REF-MINE%00", "%00", "a" * 41, "%E2%80%AE", "%F0%9F%98%80"])
def test_ids_no_person_could_have_get_the_same_403(two, hostile):
    c = two.signed_in("demo-probation-practitioner")
    nobody = c.get("/api/people/PER-NOSUCH/trail", params=PURPOSE)
    r = c.get(f"/api/people/{hostile}/trail", params=PURPOSE)
    assert (r.status_code, r.content) == (nobody.status_code, nobody.content) == (403, nobody.content)
    page = c.get(f"/people/{hostile}", params=PURPOSE)
    assert page.status_code == 403 and UNSEEN in page.text
    assert audit_rows(two, "insights:person:denied")[-1].outcome == "denied"
