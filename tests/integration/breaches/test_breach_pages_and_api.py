"""The agency side over HTTP: a police officer finds the breach of their force in their inbox, opens the pack,
downloads it (audited with the purpose), and records RADU in order; a double submission is answered once, a
step out of order or another agency's breach is refused; the court then records its decision; the clocks show
each stage beside the contract's deadlines. A practitioner outside the case gets 404."""

from __future__ import annotations

import hashlib
import re
import uuid

from sqlalchemy import select

from openem.auth.tables import AuditRow

from .conftest import load, order_doc, pump, tamper


def _token(client):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)


def _setup(world):
    bail = order_doc("ORD-WBBAIL001", "PER-WB-1", "COURT_BAIL")
    bail["interested_parties"]["notifying_organisation_name"] = "LEEDS_MAGISTRATES_COURT"
    lic = order_doc("ORD-WBLIC0001", "PER-WB-2", "POST_RELEASE", seed=2)
    load(world.db, bail, lic)
    tamper(world.db, "ORD-WBBAIL001", "PER-WB-1", alert_id="W1")
    tamper(world.db, "ORD-WBLIC0001", "PER-WB-2", alert_id="W2")
    pump(world.db)


def test_police_inbox_pack_and_radu(world):
    _setup(world)
    police = world.signed_in("demo-police-officer")
    listed = police.get("/api/breaches").json()["breaches"]
    assert [b["order_ref"] for b in listed] == ["ORD-WBBAIL001"]  # not the probation breach
    bid = listed[0]["breach_id"]
    page = police.get("/breaches")
    assert bid in page.text and "New in your inbox" in page.text
    detail = police.get(f"/breaches/{bid}")
    assert detail.status_code == 200 and "Strap tampered with" in detail.text and "<svg" in detail.text
    assert "Today&#39;s contract" in detail.text or "Today's contract" in detail.text
    pdf = police.get(f"/breaches/{bid}/pack/1.pdf")
    assert (
        pdf.content.startswith(b"%PDF")
        and hashlib.sha256(pdf.content).hexdigest() == listed[0]["pack_sha256"]
    )
    assert police.get(f"/api/breaches/{bid}/pack", params={"format": "exe"}).status_code == 422
    assert police.get(f"/breaches/{bid}/pack/9.pdf").status_code == 404
    h = {"X-CSRF-Token": _token(police)}
    url = f"/api/breaches/{bid}/responses"
    assert (
        police.post(url, json={"step": "decide", "value": "arrest"}, headers=h).status_code == 409
    )  # out of order
    key = uuid.uuid4().hex
    first = police.post(url, json={"step": "receive", "submission_key": key}, headers=h)
    again = police.post(url, json={"step": "receive", "submission_key": key}, headers=h)
    assert first.status_code == 200 and again.json()["repeat"] is True
    other = police.post(url, json={"step": "receive", "submission_key": uuid.uuid4().hex}, headers=h)
    assert other.status_code == 409 and other.json()["error"] == "duplicate"
    assert police.post(url, json={"step": "assess"}, headers=h).status_code == 200
    bad = police.post(url, json={"step": "decide", "value": "remanded"}, headers=h)
    assert bad.status_code == 422
    assert police.post(url, json={"step": "decide", "value": "arrest"}, headers=h).status_code == 200
    assert police.post(url, json={"step": "update"}, headers=h).status_code == 200
    court = world.signed_in("demo-order-creator-court")
    ch = {"X-CSRF-Token": _token(court)}
    assert (
        court.post(url, json={"step": "court_decision", "value": "remanded"}, headers=ch).status_code == 200
    )
    d = police.get(f"/api/breaches/{bid}").json()
    assert [r["step"] for r in d["responses"]] == ["receive", "assess", "decide", "update", "court_decision"]
    clocks = {c["stage"]: c for c in d["clocks"]}
    assert all(
        clocks[s]["at"]
        for s in ("violation_start", "confirmed", "pack", "delivered", "acknowledged", "decision", "outcome")
    )
    assert clocks["delivered"]["contract_met"] is True and d["state"] == "closed"
    with world.db.uow() as uow:
        rows = list(uow.session.scalars(select(AuditRow).where(AuditRow.action.like(f"breaches:{bid}:%"))))
    actions = [r.action for r in rows]
    assert (
        f"breaches:{bid}:pack:download" in actions and actions.count(f"breaches:{bid}:response:refused") == 3
    )
    assert all(r.purpose for r in rows if r.action.endswith(("read", "download")))


def test_form_response_and_refusals_for_others(world):
    _setup(world)
    probation = world.signed_in("demo-probation-practitioner")
    (b,) = probation.get("/api/breaches").json()["breaches"]
    assert b["order_ref"] == "ORD-WBLIC0001" and b["agency"] == "probation"
    page = probation.get(f"/breaches/{b['breach_id']}")
    key = re.search(r'name="submission_key" value="([^"]+)"', page.text).group(1)
    form = {"csrf_token": _token(probation), "step": "receive", "submission_key": key}
    assert probation.post(f"/breaches/{b['breach_id']}/responses", data=form).status_code == 200
    wrong = probation.post(
        f"/breaches/{b['breach_id']}/responses", data={**form, "step": "close", "submission_key": "x"}
    )
    assert wrong.status_code == 409 and "The response was not recorded" in wrong.text
    police = world.signed_in("demo-police-officer")
    assert police.get(f"/breaches/{b['breach_id']}").status_code == 404  # another agency's breach: as missing
    hp = {"X-CSRF-Token": _token(police)}
    assert (
        police.post(
            f"/api/breaches/{b['breach_id']}/responses", json={"step": "receive"}, headers=hp
        ).status_code
        == 404
    )
    operator = world.signed_in("demo-mc-operator")
    assert len(operator.get("/api/breaches").json()["breaches"]) == 2
    ho = {"X-CSRF-Token": _token(operator)}
    assert (
        operator.post(
            f"/api/breaches/{b['breach_id']}/responses", json={"step": "receive"}, headers=ho
        ).status_code
        == 403
    )
    assert (
        operator.post(f"/api/breaches/{b['breach_id']}/packs", headers=ho).status_code == 409
    )  # no new evidence
    analyst = world.signed_in("demo-analyst")
    assert analyst.get("/api/breaches").status_code == 403


def test_inbox_acknowledge(world):
    _setup(world)
    police = world.signed_in("demo-police-officer")
    (m,) = police.get("/api/inbox").json()["messages"]
    h = {"X-CSRF-Token": _token(police)}
    assert police.post(f"/api/inbox/{m['message_id']}/acknowledge", headers=h).json()["first"] is True
    assert police.post(f"/api/inbox/{m['message_id']}/acknowledge", headers=h).json()["first"] is False
    pump(world.db)
    (b,) = police.get("/api/breaches").json()["breaches"]
    clocks = {c["stage"]: c for c in police.get(f"/api/breaches/{b['breach_id']}").json()["clocks"]}
    assert clocks["acknowledged"]["at"] is not None
    probation = world.signed_in("demo-probation-practitioner")
    hp = {"X-CSRF-Token": _token(probation)}
    assert probation.post(f"/api/inbox/{m['message_id']}/acknowledge", headers=hp).status_code == 404


def test_a_team_inbox_message_is_read_once_and_the_team_sees_who_has_it(world):
    """The responsible officer is in the delivery unit's team: the breach is in the team's inbox and in theirs,
    once on their page; when they acknowledge it, a colleague in the same team sees it taken (who, when), not
    new, and cannot take it up a second time."""
    from tests.conftest import sign_in

    from openem.auth.service import create_user

    team = "YORKSHIRE_AND_THE_HUMBER:LEEDS"
    with world.db.uow() as uow:
        for name in ("po-one", "po-two"):
            create_user(uow.session, actor="test", username=name, password=f"a long password {name}",
                        roles=["probation_practitioner"], email=f"{name}@probation.example", organisation=team)  # fmt: skip
    load(
        world.db,
        order_doc("ORD-WBTEAM001", "PER-WB-T", "POST_RELEASE", email="po-two@probation.example", seed=5),
    )
    tamper(world.db, "ORD-WBTEAM001", "PER-WB-T", alert_id="WT")
    pump(world.db)
    officer, colleague = world.client(), world.client()
    sign_in(officer, "po-two", "a long password po-two")
    sign_in(colleague, "po-one", "a long password po-one")
    mine = officer.get("/api/inbox").json()["messages"]
    assert sorted(m["inbox"] for m in mine) == ["po-two@probation.example", f"probation:{team}"]
    (bid,) = {m["subject_id"] for m in mine}
    button = f'Acknowledge<span class="govuk-visually-hidden"> Breach {bid}'
    assert officer.get("/breaches").text.count(button) == 1  # one message to them, not two
    assert colleague.get("/breaches").text.count(button) == 1  # new to the team until someone has it
    own = next(m for m in mine if m["inbox"] == "po-two@probation.example")
    h = {"X-CSRF-Token": _token(officer)}
    assert officer.post(f"/api/inbox/{own['message_id']}/acknowledge", headers=h).json()["first"] is True
    (shared,) = colleague.get("/api/inbox").json()["messages"]
    by = {m["inbox"]: m["acknowledged_by"] for m in officer.get("/api/inbox").json()["messages"]}
    assert shared["inbox"] == f"probation:{team}" and shared["acknowledged_at"]
    assert shared["acknowledged_by"] == by[own["inbox"]] == by[shared["inbox"]] != ""  # who has it
    assert button not in colleague.get("/breaches").text
    hc = {"X-CSRF-Token": _token(colleague)}
    assert (
        colleague.post(f"/api/inbox/{shared['message_id']}/acknowledge", headers=hc).json()["first"] is False
    )
