"""One order contract: every order document the order validator accepts is read and monitored by the engine.

The orders capability saves what the pages and the API send; optional fields left blank arrive as null (or
are missing, or are numbers written as strings: the validator's models are lax). The engine must read every
one of those, taking the default for what is not given, and never quarantine a valid order.
"""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from openem.core.time import iso, parse_instant
from openem.monitoring.engine import Engine
from openem.monitoring.model import default_thresholds
from openem.monitoring.order_document import ATTENDANCE_RADIUS_M, parse_order
from openem.orders.rules import validate_order
from openem.orders.samples import COHORTS, sample_order

from .fixtures import Device

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


def valid(doc: dict[str, Any], now: datetime = NOW) -> bool:
    return validate_order(doc, now=now) == []


def sample(cohort: str = "COURT_BAIL", seed: int = 3) -> dict[str, Any]:
    doc = sample_order(NOW, random.Random(seed), cohort=cohort)
    start = doc["monitoring"]["start"]
    appt = parse_instant(start) + timedelta(days=2)
    doc["conditions"]["attendance"] = [{"id": "A1", "name": "Programme", "lat": doc["addresses"][0]["lat"] + 0.01,
                                        "lon": doc["addresses"][0]["lon"], "radius_m": 100, "start": iso(appt),
                                        "end": iso(appt + timedelta(hours=1))}]  # fmt: skip
    return doc


# ---- the two orders that stopped all alerting ------------------------------------------------------------


def test_an_order_saved_with_the_grace_period_left_blank_is_monitored_with_the_default_grace() -> None:
    doc = sample()
    doc["conditions"]["curfew"]["grace_minutes"] = None  # the pages' optional field, left blank
    assert valid(doc)
    spec = parse_order(doc)
    assert spec.curfew is not None
    assert spec.curfew["grace_s"] == default_thresholds()["curfew"]["grace_minutes"] * 60
    eng = Engine()
    eng.apply_order(doc)
    assert eng.quarantined == {} and doc["ref"] in eng.orders


def test_an_appointment_with_no_radius_is_monitored_at_the_default_radius() -> None:
    doc = sample()
    appt = doc["conditions"]["attendance"][0]
    appt["radius_m"] = None
    assert valid(doc)
    eng = Engine()
    eng.apply_order(doc)
    assert eng.quarantined == {}
    assert eng.orders[doc["ref"]].attendance[0]["radius_m"] == ATTENDANCE_RADIUS_M
    # the wearer attends, 40 m from the appointment's point: nothing is raised; a no-show would be
    eng.apply_activation({"activation_id": "ACT-G", "device_id": "GPS-1", "device_kind": "GPS_TAG",
                          "order_ref": doc["ref"], "person_id": doc["person_id"], "role": "WEARER",
                          "start": doc["monitoring"]["start"], "end": None})  # fmt: skip
    start = parse_instant(appt["start"])
    g = Device("GPS-1")
    lat = appt["lat"] + 40 / 111_320
    eng.process([g.fix(start + timedelta(minutes=m), lat, appt["lon"]) for m in range(0, 60, 5)])
    later = eng.advance_watermark((start + timedelta(hours=2)).timestamp())
    assert "attendance_missed" not in {a["kind"] for a in later}


# ---- every valid order: generated from valid samples with optional fields blanked, omitted or varied ------


@lru_cache(maxsize=1)
def base_orders() -> tuple[tuple[dict[str, Any], datetime], ...]:
    """Valid orders to vary: the orders capability's samples (every cohort) and the simulator's clean orders
    (every plan: curfews, zones, trails, attendance, alcohol, proximity)."""
    from openem.sim.world import generate_world

    out = [(sample(c, seed), NOW) for c in COHORTS for seed in (1, 2)]
    for o in generate_world(wearers=40, days=1, seed=3).orders:
        if o.get("defects"):
            continue
        doc = {k: v for k, v in o.items() if k != "defects"}
        now = parse_instant(doc["monitoring"]["start"]) - timedelta(hours=1)
        if valid(doc, now):
            out.append((doc, now))
    assert all(valid(d, n) for d, n in out)
    return tuple(out)


BLANK = st.sampled_from(["keep", "null", "omit", "blank"])


def _blank(d: dict[str, Any], key: str, how: str) -> None:
    if key not in d or how == "keep":
        return
    if how == "omit":
        del d[key]
    elif how == "null" or not isinstance(d[key], str):
        d[key] = None
    else:
        d[key] = ""


def _as_text(d: dict[str, Any], key: str) -> None:
    if isinstance(d.get(key), int | float) and not isinstance(d.get(key), bool):
        d[key] = str(d[key])


@st.composite
def valid_orders(draw: st.DrawFn) -> tuple[dict[str, Any], datetime]:
    base, now = draw(st.sampled_from(base_orders()))
    doc = copy.deepcopy(base)
    for key in ("person_id", "contact", "offence_risk", "version"):
        _blank(doc, key, draw(st.sampled_from(["keep", "null", "omit"])))
    if draw(st.booleans()):
        _as_text(doc, "version")
    doc["request_type"] = draw(st.sampled_from(["NEW", "VARIATION", "REINSTALL", "REVOCATION", None]))
    for a in doc.get("addresses") or []:
        how = draw(st.sampled_from(["keep", "null", "omit", "text"]))
        for key in ("lat", "lon"):
            _as_text(a, key) if how == "text" else _blank(a, key, how)
    c = doc.setdefault("conditions", {})
    for key in ("exclusion_zones", "inclusion_zones", "attendance", "trail", "alcohol", "proximity"):
        if key not in c:
            _blank(c, key, "keep")
            if draw(st.booleans()):
                c[key] = None  # an empty optional block
    _vary_curfew(draw, doc)
    for kind in ("exclusion_zones", "inclusion_zones"):
        for z in c.get(kind) or []:
            for key in ("id", "name", "start", "end"):
                _blank(z, key, draw(BLANK))
            z["schedule"] = draw(st.sampled_from([None, [], [{"start": "09:00", "end": "17:00"}],
                                                  [{"day": None, "start": "22:00", "end": "06:00"}],
                                                  [{"day": "SATURDAY", "start": "10:00", "end": "16:00"}]]))  # fmt: skip
            _vary_geometry(z["geometry"], draw(st.sampled_from(["keep", "3d", "mixed", "hole"])))
    for a in c.get("attendance") or []:
        for key in ("id", "name"):
            _blank(a, key, draw(BLANK))
        how = draw(st.sampled_from(["keep", "null", "omit", "text", "vary"]))
        if how == "vary":
            a["radius_m"] = draw(st.floats(0.5, 5000))
        else:
            _as_text(a, "radius_m") if how == "text" else _blank(a, "radius_m", how)
    if isinstance(c.get("alcohol"), dict):
        _blank(c["alcohol"], "mode", draw(st.sampled_from(["keep", "null", "omit"])))
        for key in ("start", "end"):
            _blank(c["alcohol"], key, draw(BLANK))
        c["alcohol"]["limit_gdl"] = draw(st.sampled_from([None, 0.05, "0.08", 0]))
    if isinstance(c.get("proximity"), dict):
        for key in ("victim_device_id", "pre_alert_m", "alert_m"):
            _blank(c["proximity"], key, draw(BLANK))
        if draw(st.booleans()):
            _as_text(c["proximity"], "pre_alert_m")
    if isinstance(c.get("trail"), dict):
        for key in ("start", "end"):
            _blank(c["trail"], key, draw(BLANK))
    assume(valid(doc, now))  # only what the validator accepts (the variations above nearly always are)
    return doc, now


def _vary_curfew(draw: st.DrawFn, doc: dict[str, Any]) -> None:
    curfew = (doc.get("conditions") or {}).get("curfew")
    if not isinstance(curfew, dict):
        return
    grace = draw(st.sampled_from(["keep", "null", "omit", "text", "float", "vary"]))
    if grace == "vary":
        curfew["grace_minutes"] = draw(st.integers(0, 120))
    elif grace == "text":
        curfew["grace_minutes"] = "10"
    elif grace == "float":
        curfew["grace_minutes"] = 15.0
    else:
        _blank(curfew, "grace_minutes", grace)
    for key in ("start", "end"):
        _blank(curfew, key, draw(BLANK))
    _blank(curfew, "release_day", draw(st.sampled_from(["keep", "null", "omit"])))
    if draw(st.booleans()):  # a split-address curfew: some days at a second address
        primary = doc["addresses"][0]
        doc["addresses"].append({**primary, "type": "SECONDARY", "line1": "2 Other Road",
                                 "lat": _shift(primary.get("lat")), "lon": primary.get("lon")})  # fmt: skip
        days = draw(st.sets(st.sampled_from(DAYS), min_size=1))
        for slot in curfew.get("timetable") or []:
            if slot.get("day") in days:
                slot["address_type"] = "SECONDARY"


def _vary_geometry(geometry: dict[str, Any], how: str) -> None:
    """Points with an altitude (all, or some: GeoJSON allows both), or a small hole at the zone's middle."""
    rings = geometry["coordinates"]
    if how == "3d":
        geometry["coordinates"] = [[[*p[:2], 0.0] for p in ring] for ring in rings]
    elif how == "mixed":
        geometry["coordinates"] = [
            [[*p[:2], 12.5] if i % 2 else p for i, p in enumerate(ring)] for ring in rings
        ]
    elif how == "hole":
        lon = sum(p[0] for p in rings[0][:-1]) / (len(rings[0]) - 1)
        lat = sum(p[1] for p in rings[0][:-1]) / (len(rings[0]) - 1)
        d = 1e-4  # about 10 m
        hole = [
            [lon - d, lat - d],
            [lon - d, lat + d],
            [lon + d, lat + d],
            [lon + d, lat - d],
            [lon - d, lat - d],
        ]
        geometry["coordinates"] = [rings[0], hole]


def _shift(lat: Any) -> Any:
    return round(float(lat) + 0.02, 6) if isinstance(lat, int | float | str) and lat != "" else lat


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
@given(valid_orders())
def test_every_order_the_validator_accepts_is_read_and_monitored(
    case: tuple[dict[str, Any], datetime],
) -> None:
    doc, now = case
    spec = parse_order(doc)  # the engine reads it...
    curfew = (doc.get("conditions") or {}).get("curfew")
    if isinstance(curfew, dict) and curfew.get("grace_minutes") in (None, ""):
        assert spec.curfew is not None and spec.curfew["grace_s"] == 300.0  # blank is the default
    for got, raw in zip(spec.attendance, (doc.get("conditions") or {}).get("attendance") or [], strict=True):
        assert got["radius_m"] == (
            ATTENDANCE_RADIUS_M if raw.get("radius_m") in (None, "") else float(raw["radius_m"])
        )
    eng = Engine()  # ...and monitors it: applied, indexed, and its rules run over a fix and the passing time
    eng.apply_order(doc)
    assert eng.quarantined == {}
    ref = str(doc.get("ref") or "")
    eng.apply_activation({"activation_id": "ACT-1", "device_id": "GPS-1", "device_kind": "GPS_TAG",
                          "order_ref": ref, "person_id": "PER-1", "role": "WEARER", "start": iso(now), "end": None})  # fmt: skip
    at = max(now, datetime.fromtimestamp(spec.start, UTC)) + timedelta(hours=1)
    alerts = eng.process([Device("GPS-1").fix(at, 52.5, -1.9)])
    alerts += eng.advance_watermark((at + timedelta(days=2)).timestamp())
    assert all(a["kind"] != "order_unusable" for a in alerts)


def test_a_limit_order_with_a_limit_of_nothing_reports_confirmed_drinking_not_every_reading() -> None:
    from openem.monitoring.index import Index
    from openem.monitoring.model import Activation

    doc = sample("COURT_SENTENCE")
    doc["conditions"]["alcohol"] = {"mode": "LIMIT", "limit_gdl": 0, "start": doc["monitoring"]["start"],
                                    "end": doc["conditions"]["curfew"]["end"]}  # fmt: skip
    spec = parse_order(doc)
    act = Activation(
        "ACT-A", "ALC-1", "ALCOHOL_TAG", spec.ref, spec.person_id, "WEARER", spec.start, spec.end
    )
    eng = Engine()
    eng.apply_order(doc)
    eng.apply_activation(act)
    threshold = Index.build(eng.orders, eng.activations, eng.defaults, eng.reg).a_alc[2][0]
    assert threshold == default_thresholds()["alcohol"]["threshold_gdl"]  # 0.02 g/dl, not 0
