"""The breaches step of `openem triage replay`: every escalated incident becomes a breach with its pack, offline
and deterministically (the pack's generation instant is the confirmation instant), written as breaches.jsonl
and packs/ID.pdf|html|json. The composition (openem.cli REPLAY_STEPS) hands this step to the replay, so alerts
never imports breaches."""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta
from typing import Any

from openem.breaches import service
from openem.core.time import iso
from openem.web.rendering import as_datetime


def _orders(world: str | None) -> dict[str, dict[str, Any]]:
    path = world and os.path.join(world, "orders.jsonl")
    out: dict[str, dict[str, Any]] = {}
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    doc = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(doc, dict) and isinstance(doc.get("ref"), str):
                    out[doc["ref"]] = doc
    return out


def _devices_of_people(world: str | None, people: set[str]) -> dict[str, set[str]]:
    """Every device each person wore in the world (activations.parquet), for device health at the time."""
    path = world and os.path.join(world, "activations.parquet")
    out: dict[str, set[str]] = {}
    if not path or not os.path.exists(path) or not people:
        return out
    import pyarrow.parquet as pq

    for r in pq.read_table(path, columns=["device_id", "person_id"]).to_pylist():
        if r["person_id"] in people:
            out.setdefault(str(r["person_id"]), set()).add(str(r["device_id"]))
    return out


def _plain(ep: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in ep.items() if not k.startswith("_")}


class _Telemetry:
    """Positions and evidence messages of the breaches' devices, cut from the replay's telemetry table once."""

    def __init__(self, table: Any, devices: set[str]) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {}
        if table is None or not devices or not getattr(table, "num_rows", 0):
            return
        import pyarrow as pa
        import pyarrow.compute as pc

        col = table.column("device_id")
        if pa.types.is_dictionary(col.type):
            col = pc.cast(col, pa.string())
        keep = table.filter(pc.is_in(col, value_set=pa.array(sorted(devices))))
        names = [n for n in ("device_id", "seq", "type", "device_time", "receive_time", "lat", "lon", "accuracy_m",
                             "level_pct", "charging", "present", "rssi_dbm", "source", "tac_gdl", "tamper_kind",
                             "tamper_state") if n in keep.column_names]  # fmt: skip
        for r in keep.select(names).to_pylist():
            r["device_id"] = str(r["device_id"])
            self.rows.setdefault(r["device_id"], []).append(r)
        for rows in self.rows.values():
            rows.sort(key=lambda r: (r["device_time"], r["seq"]))

    def health(self, devices: set[str], at: Any) -> dict[str, Any]:
        """The devices as they were at `at` (a day back at most), shaped as telemetry.queries.device_health_at."""
        fields = {"battery": ("level_pct", "charging"), "rf": ("present", "rssi_dbm"),
                  "tamper": ("tamper_kind", "tamper_state"), "gps": ("lat", "lon", "accuracy_m", "source")}  # fmt: skip
        latest: dict[str, dict[str, Any]] = {}
        since = at - timedelta(days=1)
        for d in sorted(devices):
            for r in self.rows.get(d, []):
                if not since <= r["device_time"] <= at:
                    continue
                for kind in ("last", r["type"]):
                    if kind in ("last", *fields) and (
                        kind not in latest or r["device_time"] >= latest[kind]["device_time"]
                    ):
                        names = fields.get(r["type"], ())
                        payload = {("kind" if n == "tamper_kind" else "state" if n == "tamper_state" else n): r[n]
                                   for n in names if r.get(n) is not None}  # fmt: skip
                        latest[kind] = {"device_id": d, "seq": int(r["seq"]), "type": r["type"],
                                        "device_time": r["device_time"], "receive_time": r.get("receive_time"),
                                        "payload": payload}  # fmt: skip
        return latest

    def gather(self, devices: set[str], start: Any, end: Any, keys: set[tuple[str, int]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
        trail, evidence = [], []
        for d in sorted(devices):
            for r in self.rows.get(d, []):
                if r.get("lat") is not None and r.get("lon") is not None and start <= r["device_time"] <= end:
                    trail.append({"device_id": d, "seq": r["seq"], "device_time": r["device_time"], "lat": r["lat"],
                                  "lon": r["lon"], "accuracy_m": r.get("accuracy_m")})  # fmt: skip
                if (d, int(r["seq"])) in keys:
                    payload = {
                        k: r[k] for k in ("level_pct", "tac_gdl", "tamper_kind") if r.get(k) is not None
                    }
                    if "level_pct" in payload:
                        payload["battery"] = payload["level_pct"]
                    if "tac_gdl" in payload:
                        payload["tac"] = payload["tac_gdl"]
                    evidence.append({"device_id": d, "seq": int(r["seq"]), "type": r["type"],
                                     "device_time": r["device_time"], "payload": payload})  # fmt: skip
        trail.sort(key=lambda p: (p["device_time"], p["device_id"], p["seq"]))
        return trail, evidence


def after_triage(ctx: dict[str, Any]) -> None:
    """Write breaches.jsonl and packs/ for the replay's escalations (ctx: out, world, incidents, escalations,
    telemetry)."""
    out, escalations = str(ctx["out"]), list(ctx.get("escalations") or [])
    by_id = {inc.incident_id: inc for inc in ctx.get("incidents") or []}
    docs = _orders(ctx.get("world"))
    os.makedirs(os.path.join(out, "packs"), exist_ok=True)
    episodes_of = {e["incident_id"]: [_plain(x) for x in by_id[e["incident_id"]].episodes.values()]
                   if e["incident_id"] in by_id else [] for e in escalations}  # fmt: skip
    devices = {str(x.get("device_id") or "") for eps in episodes_of.values() for x in eps} | {
        str(ev[0]) for eps in episodes_of.values() for x in eps for ev in (x.get("evidence") or [])
    }
    worn = _devices_of_people(ctx.get("world"), {str(e.get("person_id") or "") for e in escalations})
    devices |= {d for ds in worn.values() for d in ds}
    telemetry = _Telemetry(ctx.get("telemetry"), devices - {""})
    seen: dict[str, list[dict[str, Any]]] = {}
    lines = []
    for esc in sorted(escalations, key=lambda e: (str(e.get("confirmed_at")), str(e["incident_id"]))):
        eps = episodes_of.get(esc["incident_id"], [])
        doc = docs.get(str(esc.get("order_ref") or ""), {})
        confirmed = as_datetime(esc.get("confirmed_at"))
        assert confirmed is not None
        b = service.new_breach(esc, eps, doc, confirmed)
        b.update(pack_version=0, pack_at=confirmed)
        devs = {str(x.get("device_id") or "") for x in eps} | {
            str(v[0]) for x in eps for v in (x.get("evidence") or [])
        }
        ends = [d for d in (as_datetime(x.get("end")) for x in eps) if d]
        window = (
            b["violation_start"] - timedelta(minutes=30),
            max([*ends, b["violation_start"]]) + timedelta(minutes=30),
        )
        keys = {(str(v[0]), int(v[1])) for x in eps for v in (x.get("evidence") or []) if len(v) >= 2}
        trail, evidence = telemetry.gather(devs - {""}, window[0], window[1], keys)
        previous = seen.get(b["person_id"], [])
        stamps = {**{k: None for k in ("pack", "delivered")}, "violation_start": b["violation_start"],
                  "detected": b["detected_at"], "incident": b["incident_opened_at"], "confirmed": confirmed}  # fmt: skip
        at = min(max([*ends, b["violation_start"]]), max(confirmed, b["violation_start"]))
        health = telemetry.health((devs | worn.get(b["person_id"], set())) - {""}, at)
        pack = service.make_pack(
            b, doc, eps, trail, evidence, previous, stamps, 1, confirmed, health_at=health
        )
        for ext, data in (("pdf", pack.pdf), ("html", pack.html.encode()), ("json", pack.json_text.encode())):
            with open(os.path.join(out, "packs", f"{b['breach_id']}.{ext}"), "wb") as fh:
                fh.write(data)
        seen.setdefault(b["person_id"], []).append({"breach_id": b["breach_id"], "confirmed_at": iso(confirmed),
                                                    "headline": pack.document["summary"]["headline"], "outcome": ""})  # fmt: skip
        lines.append({"id": b["breach_id"], "incident_id": b["incident_id"], "person_id": b["person_id"],
                      "order_ref": b["order_ref"], "agency": b["agency"], "team": b["team"], "officer": b["officer"],
                      "urgency": b["urgency"], "template": b["template"], "route_rule": b["route_rule"],
                      "confirmed_at": iso(confirmed), "violation_start": iso(b["violation_start"]),
                      "pack_sha256": pack.sha256_pdf, "pack_sha256_html": pack.sha256_html,
                      "pack_sha256_json": pack.sha256_json})  # fmt: skip
    with open(os.path.join(out, "breaches.jsonl"), "w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(json.dumps(line, sort_keys=True) + "\n")
    print(f"{len(lines):,} breaches, packs in {os.path.join(out, 'packs')}", file=sys.stderr)
