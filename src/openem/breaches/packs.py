"""The breach pack: a one-page summary (who, order and condition, what happened, when and for how long,
evidence confidence, the map, a timeline, device health, previous breaches, what policy suggests), then the
evidence annex (positions, events, alcohol readings, message ids). One document (plain JSON) rendered to
HTML (Jinja, bail and non-bail templates) and PDF (WeasyPrint); each form hashed with SHA-256.

Deterministic: the same inputs give the same bytes (the generation instant is an input), so a replay can be
checked and a pack produced in court can be shown unaltered."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from openem.breaches import rules, svgmap
from openem.breaches.model import LABELS
from openem.core.time import iso
from openem.web.rendering import as_datetime, london_time

KIND_LABELS = {
    "curfew_absent": "Absent during curfew", "curfew_late_return": "Late back for curfew",
    "curfew_early_leave": "Left before curfew ended", "curfew_absence": "Absent during curfew",
    "exclusion_entry": "Entered an exclusion zone", "inclusion_exit": "Left an inclusion zone",
    "proximity": "Came near the protected person", "strap_tamper": "Strap tampered with",
    "case_tamper": "Tag case tampered with", "alcohol_skin_tamper": "Alcohol tag blocked from the skin",
    "alcohol_drinking": "Alcohol detected", "atv_threshold_reached": "Accumulated lateness over the limit",
}  # fmt: skip


ZONE_LABELS = {"exclusion_zones": "Exclusion zone", "inclusion_zones": "Inclusion zone",
               "restriction_zones": "Restriction zone"}  # fmt: skip
#: a restriction zone (CEMO's) is judged as an exclusion zone: its alerts are exclusion alerts
RESTRICTION_LABELS = {"exclusion_entry": "Entered a restriction zone",
                      "exclusion_possible": "Possibly entered a restriction zone"}  # fmt: skip


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())


def restriction_zone_ids(doc: dict[str, Any]) -> set[str]:
    """The ids the engine gives the order's restriction zones: its own id, else (or when an exclusion zone or
    an earlier restriction zone has it) `restriction_zones[i]` (monitoring/order_document.py)."""
    c = rules.part(doc, "conditions")
    taken = {str(z.get("id") or f"exclusion_zones[{i}]") for i, z in enumerate(c.get("exclusion_zones") or [])
             if isinstance(z, dict)}  # fmt: skip
    out = set()
    for i, z in enumerate(c.get("restriction_zones") or []):
        if isinstance(z, dict):
            zid = str(z.get("id") or "") or f"restriction_zones[{i}]"
            zid = f"restriction_zones[{i}]" if zid in taken else zid
            taken.add(zid)
            out.add(zid)
    return out


@dataclass(frozen=True)
class RenderedPack:
    document: dict[str, Any]
    json_text: str
    html: str
    pdf: bytes
    sha256_json: str
    sha256_html: str
    sha256_pdf: str


def sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "still going on when the pack was made"
    minutes = int(round(seconds / 60))
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    h, m = divmod(minutes, 60)
    return f"{h} hour{'s' if h != 1 else ''}" + (f" {m} minute{'s' if m != 1 else ''}" if m else "")


def _wearer(doc: dict[str, Any]) -> dict[str, Any]:
    w = rules.part(doc, "device_wearer")
    return {"name": f"{w.get('first_name') or ''} {w.get('last_name') or ''}".strip() or "Not known",
            "date_of_birth": w.get("date_of_birth") or "", "pnc": w.get("pnc") or "", "crn": w.get("crn") or "",
            "nomis_id": w.get("nomis_id") or "", "home_office_reference": w.get("home_office_reference") or "",
            "is_adult": w.get("is_adult", True)}  # fmt: skip


def _conditions_text(doc: dict[str, Any]) -> list[str]:
    c = rules.part(doc, "conditions")
    out = []
    cur = rules.part(c, "curfew")
    if cur:
        slot = (cur.get("timetable") or [{}])[0] if isinstance(cur.get("timetable"), list) else {}
        if isinstance(slot, dict) and slot.get("start"):
            out.append(f"Curfew {slot.get('start')} to {slot.get('end')} at the curfew address")
        else:
            out.append("Curfew at the curfew address")
    for kind, label in ZONE_LABELS.items():
        for z in c.get(kind) or []:
            if isinstance(z, dict):
                out.append(f"{label}: {z.get('name') or 'unnamed'}")
    if c.get("alcohol"):
        out.append("Alcohol monitoring")
    if c.get("trail"):
        out.append("Trail monitoring")
    return out or ["No conditions in the order document"]


def build_document(breach: dict[str, Any], doc: dict[str, Any], episodes: list[dict[str, Any]],
                   trail: list[dict[str, Any]], evidence: list[dict[str, Any]], previous: list[dict[str, Any]],
                   stamps: dict[str, datetime | None], version: int, generated_at: datetime,
                   health_at: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """The pack as plain JSON-safe data (the JSON form, and what the HTML renders)."""
    period = rules.violation_period(breach["violation_start"])
    eps = sorted(episodes, key=lambda e: str(e.get("start")))
    what: list[dict[str, Any]] = []
    restricted = restriction_zone_ids(doc)
    for e in eps:
        start, end = as_datetime(e.get("start")), as_datetime(e.get("end"))
        kind = str(e.get("kind") or "")
        label = RESTRICTION_LABELS.get(kind) if str(e.get("condition_id") or "") in restricted else None
        what.append({"kind": kind, "label": label or kind_label(kind),
                     "start": iso(start) if start else None, "end": iso(end) if end else None,
                     "duration_s": (end - start).total_seconds() if start and end else None,
                     "confidence": str(e.get("confidence") or "confirmed"),
                     "condition_id": str(e.get("condition_id") or ""),
                     "evidence": [list(x) for x in (e.get("evidence") or []) if isinstance(x, list | tuple)][:500],
                     "measure": e.get("measure") if isinstance(e.get("measure"), dict) else {}})  # fmt: skip
    starts = [as_datetime(w["start"]) for w in what if w["start"]]
    ends = [as_datetime(w["end"]) for w in what if w["end"]]
    first = min((s for s in starts if s), default=breach["violation_start"])
    last = max((e for e in ends if e), default=None)
    open_ended = any(w["end"] is None for w in what)
    confidences = {w["confidence"] for w in what}
    confidence = (
        "confirmed"
        if confidences <= {"confirmed"}
        else ("possible" if confidences == {"possible"} else "mixed")
    )
    facts = rules.order_facts(doc)
    kinds = sorted({w["kind"] for w in what} | set(breach.get("kinds") or []))
    health = _device_health(evidence, health_at or {})
    timeline = sorted(
        [{"at": w["start"], "text": f"{w['label']} began"} for w in what if w["start"]]
        + [{"at": w["end"], "text": f"{w['label']} ended"} for w in what if w["end"]]
        + [{"at": iso(v), "text": LABELS.get(k, k.replace("_", " ").capitalize())}
           for k, v in (("incident", stamps.get("incident")), ("confirmed", stamps.get("confirmed"))) if v],
        key=lambda r: str(r["at"]),
    )  # fmt: skip
    for row in timeline:
        if row["text"] == "Incident":
            row["text"] = "Incident opened in the monitoring centre"
        if row["text"] == "Confirmed":
            row["text"] = "Breach confirmed"
    ctx = map_ctx(doc)
    return {
        "format": "openem.breach_pack/1",
        "breach_id": breach["breach_id"], "version": version, "generated_at": iso(generated_at),
        "template": breach["template"], "incident_id": breach["incident_id"],
        "routing": {"agency": breach["agency"], "team": breach["team"], "officer": breach["officer"],
                    "urgency": breach["urgency"], "rule": breach["route_rule"], "rule_version": breach["route_version"]},
        "person": {"person_id": breach["person_id"], **_wearer(doc)},
        "order": {"ref": breach["order_ref"], "cohort": facts["cohort"], "specials": facts["specials"],
                  "order_type": str(rules.part(doc, "monitoring").get("order_type") or ""),
                  "conditions": _conditions_text(doc),
                  "police_area": facts["police_area"], "probation_region": facts["probation_region"],
                  "delivery_unit": facts["delivery_unit"],
                  "responsible_officer": facts["responsible_officer_email"],
                  "notifying_organisation": facts["notifying_organisation_name"]},
        "what_happened": what,
        "summary": {"headline": "; ".join(dict.fromkeys(w["label"] for w in what)) or "Breach confirmed",
                    "from": iso(first), "to": iso(last) if last and not open_ended else None,
                    "duration_s": (last - first).total_seconds() if last and not open_ended else None,
                    "confidence": confidence, "kinds": kinds},
        "violation_period": {"start": iso(period.start), "end": iso(period.end),
                             "last_minute": iso(period.end - timedelta(minutes=1)),
                             "contract_notification_due": iso(period.notification_due),
                             "contract_pack_due": iso(period.pack_due)},
        "timeline": timeline,
        "device_health": health,
        "previous_breaches": previous,
        "policy_suggestion": rules.suggestion(breach["agency"], kinds, len(previous), facts["specials"]),
        "map": ctx,
        "annex": {"positions": [{"at": iso(p["device_time"]), "lat": p["lat"], "lon": p["lon"],
                                 "accuracy_m": p.get("accuracy_m"), "device_id": p.get("device_id", ""),
                                 "seq": p.get("seq")} for p in trail],
                  "events": [{"at": iso(m["device_time"]), "device_id": m["device_id"], "seq": m["seq"],
                              "type": m["type"], "payload": m.get("payload") or {}} for m in evidence],
                  "alcohol": [{"at": iso(m["device_time"]), "tac": (m.get("payload") or {}).get("tac")}
                              for m in evidence if "tac" in (m.get("payload") or {})],
                  "message_ids": sorted({f"{d}:{s}" for w in what for d, s, *_ in w["evidence"]})},
    }  # fmt: skip


def map_ctx(doc: dict[str, Any]) -> dict[str, Any]:
    from openem.orders.queries import map_context_of

    try:
        return map_context_of(doc)
    except (TypeError, KeyError, AttributeError):
        return {"addresses": [], "zones": [], "places": []}


def _battery(payload: dict[str, Any]) -> Any:
    value = payload.get("level_pct", payload.get("battery"))
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _device_health(evidence: list[dict[str, Any]], health_at: dict[str, Any]) -> dict[str, Any]:
    """Device health at the time: the latest battery, home-unit (RF) and strap readings and the last message of
    any kind up to the end of the breach (`health_at`: telemetry.queries.device_health_at), else what the
    evidence messages say."""
    in_evidence = [m for m in evidence if _battery(m.get("payload") or {}) is not None]
    tamper = [m for m in evidence if str(m.get("type")) in ("tamper", "strap", "case")]
    battery = health_at.get("battery") or (in_evidence[-1] if in_evidence else None)
    b_payload = (battery or {}).get("payload") or {}
    last, rf, strap, gps = (health_at.get(k) or {} for k in ("last", "rf", "tamper", "gps"))
    rf_p, strap_p, gps_p = (x.get("payload") or {} for x in (rf, strap, gps))

    def at(m: dict[str, Any], key: str = "device_time") -> str | None:
        return iso(m[key]) if m.get(key) else None

    return {"battery_percent": _battery(b_payload) if battery else None,
            "battery_at": at(battery) if battery else None,
            "charging": b_payload.get("charging") if isinstance(b_payload.get("charging"), bool) else None,
            "last_message_at": at(last), "last_message_received_at": at(last, "receive_time"),
            "last_message_type": str(last.get("type") or "") or None,
            "home_unit_in_range": rf_p.get("present") if isinstance(rf_p.get("present"), bool) else None,
            "signal_dbm": rf_p.get("rssi_dbm") if isinstance(rf_p.get("rssi_dbm"), int | float) else None,
            "home_unit_at": at(rf),
            "strap": (f"{strap_p.get('kind') or 'strap'} {strap_p.get('state')}" if strap_p.get("state") else None),
            "strap_at": at(strap),
            "last_fix_at": at(gps), "last_fix_source": str(gps_p.get("source") or "") or None,
            "last_fix_accuracy_m": gps_p.get("accuracy_m") if isinstance(gps_p.get("accuracy_m"), int | float) else None,
            "tamper_events": len(tamper), "messages": len(evidence),
            "devices": sorted({str(m["device_id"]) for m in evidence}
                              | {str(x["device_id"]) for x in health_at.values() if x.get("device_id")})}  # fmt: skip


@lru_cache(maxsize=1)
def _env() -> Any:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("openem.breaches", "pack_templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True))  # fmt: skip
    env.filters["london"] = lambda v: london_time(v, empty="not yet")
    env.filters["duration"] = _duration
    env.filters["label"] = lambda v: LABELS.get(str(v), str(v).replace("_", " ").capitalize())
    return env


def positions_text(positions: list[dict[str, Any]]) -> str:
    """The annex's positions as aligned lines of text (time to the second, latitude, longitude, accuracy,
    message id). A table of a row per position was two thirds of a PDF's rendering time (decision 0022)."""
    rows = [(london_time(x.get("at"), seconds=True), f"{float(x['lat']):.5f}", f"{float(x['lon']):.5f}",
             "" if x.get("accuracy_m") is None else f"{float(x['accuracy_m']):g} m",
             f"{x.get('device_id', '')}:{x.get('seq')}") for x in positions]  # fmt: skip
    head = ("Time (London)", "Latitude", "Longitude", "Accuracy", "Message")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [head, *rows]
    )


def render(document: dict[str, Any], trail: list[dict[str, Any]], annex_table: bool = False) -> RenderedPack:
    """The three forms of a pack and their hashes. `annex_table` renders the positions as the first version's
    table (kept only as the benchmark's peer)."""
    json_text = json.dumps(document, sort_keys=True, ensure_ascii=False, indent=1)
    s = document["summary"]
    window = (as_datetime(s["from"]), as_datetime(s["to"]) or as_datetime(document["generated_at"]))
    svg = svgmap.draw(trail, document["map"]["zones"], document["map"]["addresses"], window,
                      title=f"Map of positions against the order's zones and addresses, {document['breach_id']}")  # fmt: skip
    template = _env().get_template(f"pack_{'bail' if document['template'] == 'bail' else 'non_bail'}.html")
    text = "" if annex_table else positions_text(document["annex"]["positions"])
    html = template.render(p=document, svg=svg, positions_text=text, annex_table=annex_table)
    pdf = html_to_pdf(html)
    return RenderedPack(document, json_text, html, pdf, sha256(json_text), sha256(html), sha256(pdf))


def html_to_pdf(html: str) -> bytes:
    """The PDF. The font subsetter stamps each embedded font with the current time unless SOURCE_DATE_EPOCH
    is set (the reproducible-builds convention): pinned, so that the same pack gives the same bytes."""
    import os

    from weasyprint import HTML

    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")
    with (
        _PDF_LOCK
    ):  # one shared font configuration (loading fonts is a good part of a render), one render at a time
        return bytes(HTML(string=html).write_pdf(font_config=_fonts()))


_PDF_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _fonts() -> Any:
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def warm() -> None:
    """Load WeasyPrint, the font configuration and the templates once (a tiny PDF), so the first breach's pack
    does not pay for them."""
    _env().get_template("pack_base.html")
    html_to_pdf("<html><body><p>openem</p><pre>0</pre></body></html>")
