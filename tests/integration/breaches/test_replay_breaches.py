"""`openem triage replay` writes breaches.jsonl and packs/ID.pdf|html|json for every escalated incident, the
same bytes on every run, each pack's hash in its line."""

from __future__ import annotations

import hashlib
import json

from openem.cli import main

from .conftest import order_doc


def _world(tmp_path):
    world = tmp_path / "world"
    world.mkdir()
    docs = [order_doc("ORD-RPBAIL001", "PER-RP-1", "COURT_BAIL", force="MERSEYSIDE"),
            order_doc("ORD-RPLIC0001", "PER-RP-2", "POST_RELEASE", seed=2)]  # fmt: skip
    (world / "orders.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    alerts = [
        {"alert_id": "T1", "kind": "strap_tamper", "severity": "HIGH", "person_id": "PER-RP-1", "order_ref": "ORD-RPBAIL001",
         "device_id": "D1", "start": "2026-12-01T21:00:00Z", "end": "2026-12-01T21:04:00Z", "evidence": [["D1", 5]]},
        {"alert_id": "T2", "kind": "case_tamper", "severity": "HIGH", "person_id": "PER-RP-2", "order_ref": "ORD-RPLIC0001",
         "device_id": "D2", "start": "2026-12-02T06:50:00Z", "end": None},
        {"alert_id": "L1", "kind": "low_battery", "severity": "LOW", "person_id": "PER-RP-2", "order_ref": "ORD-RPLIC0001",
         "device_id": "D2", "start": "2026-12-02T05:00:00Z", "end": "2026-12-02T05:10:00Z"},
        "not json at all",
    ]  # fmt: skip
    path = tmp_path / "alerts.jsonl"
    path.write_text("".join((json.dumps(a) if isinstance(a, dict) else a) + "\n" for a in alerts))
    return world, path


def test_replay_writes_breaches_and_packs_deterministically(tmp_path):
    world, alerts = _world(tmp_path)
    outs = []
    for run in ("a", "b"):
        out = tmp_path / run
        assert (
            main(["triage", "replay", "--world", str(world), "--alerts", str(alerts), "--out", str(out)]) == 0
        )
        outs.append(out)
    lines = [json.loads(x) for x in (outs[0] / "breaches.jsonl").read_text().splitlines()]
    assert (outs[0] / "breaches.jsonl").read_bytes() == (outs[1] / "breaches.jsonl").read_bytes()
    assert {(b["order_ref"], b["agency"]) for b in lines} == {
        ("ORD-RPBAIL001", "police"),
        ("ORD-RPLIC0001", "probation"),
    }
    incidents = {json.loads(x)["id"] for x in (outs[0] / "incidents.jsonl").read_text().splitlines()}
    for b in lines:
        assert {
            "id",
            "incident_id",
            "person_id",
            "order_ref",
            "agency",
            "confirmed_at",
            "pack_sha256",
        } <= set(b)
        assert b["incident_id"] in incidents
        pdf = (outs[0] / "packs" / f"{b['id']}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == b["pack_sha256"]
        assert pdf == (outs[1] / "packs" / f"{b['id']}.pdf").read_bytes()
        doc = json.loads((outs[0] / "packs" / f"{b['id']}.json").read_text())
        assert (
            doc["breach_id"] == b["id"]
            and "Evidence annex" in (outs[0] / "packs" / f"{b['id']}.html").read_text()
        )
    licence = next(b for b in lines if b["agency"] == "probation")
    assert licence["template"] == "non_bail" and licence["violation_start"] == "2026-12-02T06:50:00Z"
