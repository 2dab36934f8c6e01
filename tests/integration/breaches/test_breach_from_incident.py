"""An escalated incident becomes a breach routed to the responsible agency, with a pack (summary first, then
the annex) in HTML, PDF and JSON whose hashes are in the audit log; new evidence makes a new version and the
old one stays."""

from __future__ import annotations

import hashlib
import io
import json

import pypdf
from sqlalchemy import select

from openem.auth.tables import AuditRow
from openem.breaches import queries
from openem.notify import queries as notify_queries

from .conftest import load, order_doc, pump, tamper


def _only(db):
    with db.uow() as uow:
        found = queries.breaches_where(uow.session)
    assert len(found) == 1, found
    return found[0]


def test_escalated_tamper_becomes_police_breach_with_pack_in_three_forms(escalated):
    db = escalated
    b = _only(db)
    assert (b["agency"], b["team"], b["template"], b["route_rule"]) == (
        "police",
        "police:WEST_YORKSHIRE",
        "bail",
        "court-bail",
    )
    with db.uow() as uow:
        pdf, mime, sha = queries.pack_file(uow.session, b["breach_id"], None, "pdf")
        html = queries.pack_file(uow.session, b["breach_id"], None, "html")
        js = queries.pack_file(uow.session, b["breach_id"], None, "json")
        audit = [
            r
            for r in uow.session.scalars(select(AuditRow))
            if r.action.startswith(f"breaches:{b['breach_id']}:pack")
        ]
        inbox = notify_queries.inbox(uow.session, {"police:WEST_YORKSHIRE"})
    assert mime == "application/pdf" and hashlib.sha256(pdf).hexdigest() == sha == b["pack_sha256"]
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    first = reader.pages[0].extract_text()
    assert (
        "Breach of bail conditions" in first
        and "Strap tampered with" in first
        and "What policy suggests" in first
    )
    assert "Evidence annex" not in first and "Evidence annex" in "".join(
        p.extract_text() for p in reader.pages[1:]
    )
    assert (
        "<svg" in html[0].decode() and "tile" not in html[0].decode().split("<svg", 1)[1].split("</svg>")[0]
    )
    doc = json.loads(js[0])
    assert doc["routing"]["agency"] == "police" and doc["summary"]["kinds"] == ["strap_tamper"]
    assert (
        len(audit) == 1 and audit[0].details["sha256_pdf"] == sha and audit[0].details["sha256_json"] == js[2]
    )
    assert [m["subject_id"] for m in inbox] == [b["breach_id"]]
    assert b["delivered_at"] is not None and b["pack_at"] is not None


def test_second_escalation_of_same_incident_opens_no_second_breach(escalated):
    from openem.breaches.service import open_breach

    b = _only(escalated)
    with escalated.uow() as uow:
        again = open_breach(uow, {"incident_id": b["incident_id"], "order_ref": b["order_ref"]})
        assert again is not None and again.breach_id == b["breach_id"]
    _only(escalated)


def test_new_evidence_makes_a_new_version_and_keeps_the_old(escalated):
    from openem.breaches.service import refresh_pack

    db = escalated
    b = _only(db)
    with db.uow() as uow:
        assert refresh_pack(uow, b["breach_id"], "test") is None  # same evidence: no new version
    tamper(db, b["order_ref"], b["person_id"], alert_id="A2", minutes_ago=10)  # same tamper incident grows
    pump(db)
    with db.uow() as uow:
        new = refresh_pack(uow, b["breach_id"], "operator-1")
        assert new is not None and new.version == 2
    pump(db)
    with db.uow() as uow:
        versions = queries.pack_versions(uow.session, b["breach_id"])
        v1 = queries.pack_file(uow.session, b["breach_id"], 1, "pdf")
        inbox = notify_queries.inbox(uow.session, {"police:WEST_YORKSHIRE"})
    assert [v["version"] for v in versions] == [1, 2] and versions[0]["sha256_pdf"] == v1[2]
    assert versions[0]["sha256_pdf"] != versions[1]["sha256_pdf"]
    assert sorted(m["subject_version"] for m in inbox) == [1, 2]


def test_routing_by_cohort_and_specials_at_once(db):
    cases = [
        order_doc("ORD-BRLIC0001", "PER-BR-LIC", "POST_RELEASE", seed=2),
        order_doc("ORD-BRIMM0001", "PER-BR-IMM", "IMMIGRATION_BAIL", seed=3),
        order_doc("ORD-BRYTH0001", "PER-BR-YTH", "COURT_SENTENCE", youth=True, seed=4),
        order_doc("ORD-BRSPC0001", "PER-BR-SPC", "SPECIALS", specials=True, seed=5),
    ]
    load(db, *cases)
    for i, doc in enumerate(cases):
        tamper(db, doc["ref"], doc["person_id"], alert_id=f"R{i}")
    pump(db)
    with db.uow() as uow:
        got = {b["order_ref"]: (b["agency"], b["team"], b["officer"], b["urgency"], b["template"])
               for b in queries.breaches_where(uow.session)}  # fmt: skip
    assert got["ORD-BRLIC0001"] == (
        "probation",
        "probation:YORKSHIRE_AND_THE_HUMBER:LEEDS",
        "probation.demo@openem.example",
        "standard",
        "non_bail",
    )
    assert (
        got["ORD-BRIMM0001"][:2] == ("home_office", "home_office:immigration_enforcement")
        and got["ORD-BRIMM0001"][4] == "bail"
    )
    assert got["ORD-BRYTH0001"][:2] == ("youth_justice", "youth_justice:LEEDS")
    assert got["ORD-BRSPC0001"][:4] == (
        "probation",
        "probation:specials:YORKSHIRE_AND_THE_HUMBER",
        "probation.demo@openem.example",
        "immediate",
    )
