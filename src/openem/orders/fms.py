"""Supplier out: an openem order as the two payloads CEMO sends the field-monitoring supplier today, device
wearer first, then monitoring order (snake_case fields, dates `yyyy-MM-dd HH:mm:ss` in Europe/London, open
ends as CEMO writes them, names and condition labels as CEMO's API enums map them).

The field list and mapping follow CEMO's `DeviceWearer.fromOrder` / `MonitoringOrder.fromOrder` at the commit
recorded in `openem/reference/cemo_fms_values.json` (orders from CEMO itself, current data dictionary, court
mappings on). Pure: no I/O; `now` decides what CEMO decides from the clock (a variation whose monitoring
started in the past carries no responsible officer; the removal date of an ended bail order).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from openem.core.time import parse_instant

LONDON = ZoneInfo("Europe/London")
# CEMO writes an open end as 1 January 2040 23:59 London (FmsOrderSource.CEMO)
OPEN_END = datetime(2040, 1, 1, 23, 59, tzinfo=LONDON)
COURTS = (
    "CIVIL_COUNTY_COURT",
    "CROWN_COURT",
    "MAGISTRATES_COURT",
    "MILITARY_COURT",
    "FAMILY_COURT",
    "YOUTH_COURT",
    "SCOTTISH_COURT",
)
PRISONS_IN_PILOT = (
    "CARDIFF_PRISON",
    "FOSSE_WAY_PRISON",
    "PETERBOROUGH_PRISON",
    "RANBY_PRISON",
    "SUDBURY_PRISON",
    "SWANSEA_PRISON",
)
VARIATIONS = ("VARIATION", "REINSTALL", "REVOCATION", "END_MONITORING")
# openem request type -> CEMO request type (RequestType enum)
CEMO_REQUEST_TYPES = {
    "NEW": "REQUEST",
    "AMEND_REJECTED": "AMEND_ORIGINAL_REQUEST",
    "VARIATION": "VARIATION",
    "REINSTALL": "REINSTALL_DEVICE",
    "REVOCATION": "REVOCATION",
    "END_MONITORING": "END_MONITORING",
}
# openem cohort -> CEMO condition type, when the order gives none (docs/order-validation.md, condition-type)
CONDITION_FROM_COHORT = {
    "POST_RELEASE": "LICENSE_CONDITION_OF_A_CUSTODIAL_ORDER",
    "COURT_BAIL": "BAIL_ORDER",
    "IMMIGRATION_BAIL": "BAIL_ORDER",
    "COURT_SENTENCE": "REQUIREMENT_OF_A_COMMUNITY_ORDER",
}
SHORT_DAYS = {
    "MONDAY": "Mo",
    "TUESDAY": "Tu",
    "WEDNESDAY": "Wed",
    "THURSDAY": "Th",
    "FRIDAY": "Fr",
    "SATURDAY": "Sa",
    "SUNDAY": "Su",
}
NOTIFYING_NAME_ENUMS = (
    "ddv5.CivilCountyCourtDDv5",
    "ddv5.CrownCourtDDv5",
    "ddv5.FamilyCourtDDv5",
    "ddv5.MagistrateCourtDDv5",
    "ddv5.MilitaryCourtDDv5",
    "Prison",
    "ddv5.YouthCourtDDv5",
    "ddv5.YouthCustodyServiceRegionDDv5",
    "ddv6.YouthCustodyServiceRegionDDv6",
)


@lru_cache(maxsize=1)
def fms_values() -> dict[str, Any]:
    """CEMO's API enums (code -> the text sent to the supplier) and the commit they were read at."""
    text = resources.files("openem.reference").joinpath("cemo_fms_values.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _value(enum: str, code: Any) -> str | None:
    if not isinstance(code, str):
        return None
    found = fms_values()["enums"].get(enum, {}).get(code)
    return found if isinstance(found, str) else None


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _sec(doc: Any, key: str) -> dict[str, Any]:
    value = doc.get(key) if isinstance(doc, dict) else None
    return value if isinstance(value, dict) else {}


def _items(doc: Any, key: str) -> list[dict[str, Any]]:
    value = doc.get(key) if isinstance(doc, dict) else None
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_instant(value)
    except ValueError:
        return None


def _london_time(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(LONDON).strftime("%Y-%m-%d %H:%M:%S")


def _london_date(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(LONDON).strftime("%Y-%m-%d")


def _seconds(wall: Any) -> str:
    return f"{wall}:00" if isinstance(wall, str) and re.fullmatch(r"\d\d:\d\d", wall) else _s(wall)


def idd_phone(number: Any) -> str | None:
    """A phone number as the supplier takes it: international direct dialling from the UK (0044...)."""
    if not isinstance(number, str):
        return None
    compact = re.sub(r"[\s().-]", "", number.replace("(0)", ""))
    if compact == "":
        return ""
    if compact.startswith("+"):
        return "00" + compact[1:]
    if compact.startswith("00"):
        return compact
    if compact.startswith("0"):
        return "0044" + compact[1:]
    return compact


def _address(doc: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((a for a in _items(doc, "addresses") if a.get("type") == kind), None)


def device_wearer_payload(doc: dict[str, Any]) -> dict[str, Any]:
    """The supplier's device wearer (CEMO DeviceWearer.fromOrder)."""
    dw = _sec(doc, "device_wearer")
    risk = _sec(doc, "offence_risk")
    adult = doc.get("responsible_adult") if isinstance(doc.get("responsible_adult"), dict) else None
    sex = _s(dw.get("sex")).upper()
    aliases = [a for a in dw.get("aliases") or [] if isinstance(a, str)]
    mappa = risk.get("mappa_level")
    out: dict[str, Any] = {
        "title": "",
        "first_name": _s(dw.get("first_name")),
        "middle_name": _s(dw.get("middle_name")),
        "last_name": _s(dw.get("last_name")),
        "alias": ", ".join(aliases),
        "date_of_birth": _s(dw.get("date_of_birth")),
        "adult_child": "adult" if dw.get("is_adult", True) is not False else "child",
        "sex": "Prefer Not to Say" if sex == "UNKNOWN" else (_value("Sex", sex) or _s(dw.get("sex"))),
        "gender_identity": _value("Gender", _s(dw.get("gender")).upper())
        if _s(dw.get("gender")).upper() in fms_values()["enums"]["Gender"]
        else (
            "" if _s(dw.get("gender")).upper() in ("NOT_ABLE_TO_PROVIDE", "UNKNOWN") else _s(dw.get("gender"))
        ),
        "disability": [
            {"disability": _value("Disability", d) or d}
            for d in dw.get("disabilities") or []
            if isinstance(d, str)
        ],
        "address_1": "",
        "address_2": "",
        "address_3": "",
        "address_4": "",
        "address_post_code": "",
        "no_fixed_address": "false",
    }
    if dw.get("no_fixed_abode") is True:
        out["no_fixed_address"] = "true"
    else:
        primary = _address(doc, "PRIMARY") or {}
        out |= {
            "address_1": _s(primary.get("line1")),
            "address_2": _s(primary.get("line2")) or "N/A",
            "address_3": _s(primary.get("town")),
            "address_4": _s(primary.get("county")) or "N/A",
            "address_post_code": _s(primary.get("postcode")),
        }
    for kind, prefix in (("SECONDARY", "secondary_address"), ("TERTIARY", "tertiary_address")):
        a = _address(doc, kind)
        out |= {
            f"{prefix}_1": _s(a.get("line1")) if a else "",
            f"{prefix}_2": (_s(a.get("line2")) or "N/A") if a else "",
            f"{prefix}_3": _s(a.get("town")) if a else "",
            f"{prefix}_4": (_s(a.get("county")) or "N/A") if a else "",
            f"{prefix}_post_code": _s(a.get("postcode")) if a else "",
        }
    out |= {
        "phone_number": idd_phone(_sec(doc, "contact").get("phone")),
        "risk_serious_harm": "",
        "risk_self_harm": "",
        "risk_details": risk.get("details") if isinstance(risk.get("details"), str) else None,
        "mappa": f"MAPPA {mappa}" if isinstance(mappa, int) and not isinstance(mappa, bool) else None,
        "mappa_case_type": None,
        "mappa_category": None,
        "risk_categories": [
            {"category": _value("RiskCategory", c)}
            for c in risk.get("risk_categories") or []
            if isinstance(c, str) and c != "NO_RISK" and _value("RiskCategory", c) is not None
        ],
        "responsible_adult_required": "true" if adult is not None else "false",
        "parent": _s(adult.get("full_name")) if adult else "",
        "guardian": "",
        "parent_address_1": "",
        "parent_address_2": "",
        "parent_address_3": "",
        "parent_address_4": "",
        "parent_address_post_code": "",
        "parent_phone_number": idd_phone(adult.get("phone")) if adult else None,
        "parent_dob": "",
        "pnc_id": _s(dw.get("pnc")),
        "nomis_id": _s(dw.get("nomis_id")),
        "delius_id": _s(dw.get("crn")),
        "prison_number": _s(dw.get("prison_number")),
        "home_office_case_reference_number": "",
        "cepr": _s(dw.get("home_office_reference")),
        "interpreter_required": "true" if dw.get("interpreter_required") is True else "false",
        "language": _s(dw.get("language")),
    }
    return out


def _condition_bound(doc: dict[str, Any], key: str, pick: Any) -> datetime | None:
    """CEMO's monitoring start (end) when the order gives none: the earliest (latest) of its conditions'."""
    cond = _sec(doc, "conditions")
    found = [_instant(_sec(cond, k).get(key)) for k in ("curfew", "trail", "alcohol")]
    for k in ("exclusion_zones", "inclusion_zones", "restriction_zones", "attendance"):
        found += [_instant(item.get(key)) for item in _items(cond, k)]
    moments = [m for m in found if m is not None]
    return pick(moments) if moments else None


def _subcategory(request_type: str, is_bail: bool, start: datetime | None, now: datetime) -> str:
    """CEMO RequestType.getSubCategory."""
    cemo = CEMO_REQUEST_TYPES.get(request_type, "")
    if cemo in ("VARIATION", "REINSTALL_DEVICE", "REVOCATION", "END_MONITORING"):
        if start is not None and start.astimezone(LONDON).date() >= now.astimezone(LONDON).date():
            return "SR08-Amend monitoring requirements"
    if cemo == "VARIATION":
        return "SR08-Amend monitoring requirements"
    if cemo in ("REVOCATION", "END_MONITORING"):
        return "SR11-Removal of devices (bail)" if is_bail else "SR21-Revocation monitoring requirements"
    if cemo == "REINSTALL_DEVICE":
        return "SR04-Re-install monitoring equipment"
    return ""


def _end_of_day(day: datetime) -> datetime:
    local = day.astimezone(LONDON)
    return datetime(local.year, local.month, local.day, 23, 59, tzinfo=LONDON)


def _zone_list(zones: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {
            "description": _s(z.get("description")) or _s(z.get("name")),
            "duration": _s(z.get("duration")),
            "start": _london_date(_instant(z.get("start"))),
            "end": _london_date(_instant(z.get("end")) or OPEN_END),
        }
        for z in zones
    ]


def monitoring_order_payload(doc: dict[str, Any], now: datetime, case_id: str = "") -> dict[str, Any]:
    """The supplier's monitoring order (CEMO MonitoringOrder.fromOrder)."""
    doc = _with_zones_to_draw(doc)
    dw = _sec(doc, "device_wearer")
    mon = _sec(doc, "monitoring")
    ip = _sec(doc, "interested_parties")
    cond = _sec(doc, "conditions")
    request_type = _s(doc.get("request_type")) or "NEW"
    order_type = _s(mon.get("order_type"))
    start = _instant(mon.get("start")) or _condition_bound(doc, "start", min)
    is_bail = order_type in ("BAIL", "IMMIGRATION")
    subcategory = _subcategory(request_type, is_bail, start, now)
    if subcategory == "SR11-Removal of devices (bail)":
        end: datetime | None = _end_of_day(now)
    elif subcategory == "SR21-Revocation monitoring requirements":
        past = start is not None and start.astimezone(LONDON).date() < now.astimezone(LONDON).date()
        end = _end_of_day(now if past and request_type == "END_MONITORING" else now + timedelta(days=7))
    else:
        end = _instant(mon.get("end")) or _condition_bound(doc, "end", max) or OPEN_END
    condition = _s(mon.get("condition_type")) or CONDITION_FROM_COHORT.get(_s(mon.get("cohort")), "")
    notifying = _s(ip.get("notifying_organisation"))
    if order_type in ("CIVIL", "BAIL"):
        fms_order_type = _value("OrderType", "PRE_TRIAL") or ""
    else:
        fms_order_type = _value("OrderType", order_type) or order_type
    if notifying in ("CIVIL_COUNTY_COURT", "FAMILY_COURT"):
        fms_order_type = _value("OrderType", "CIVIL") or "Civil"
    name = " ".join(
        x for x in (_s(dw.get(k)).strip() for k in ("first_name", "middle_name", "last_name")) if x
    )
    mo: dict[str, Any] = {
        "case_id": case_id,
        "allday_lockdown": "",
        "atv_allowance": "",
        "condition_type": _value("MonitoringConditionType", condition) or condition,
        "court": "",
        "court_order_email": "",
        "device_type": "",
        "device_wearer": name,
        "enforceable_condition": [],
        "exclusion_allday": "",
        "interim_court_date": "",
        "issuing_organisation": "",
        "media_interest": "",
        "new_order_received": "",
        "notifying_officer_email": "",
        "notifying_officer_name": "",
        "notifying_organization": "",
        "no_post_code": "",
        "no_address_1": "",
        "no_address_2": "",
        "no_address_3": "",
        "no_address_4": "",
        "no_email": "",
        "no_name": "",
        "no_phone_number": "",
        "offence": "",
        "offence_additional_details": "",
        "offence_date": "",
        "order_end": _london_time(end),
        "order_id": _s(doc.get("ref")),
        "order_request_type": _value("RequestType", CEMO_REQUEST_TYPES.get(request_type, "REQUEST")) or "",
        "order_start": _london_time(start),
        "order_type": fms_order_type,
        "order_type_description": "",
        "order_type_detail": "",
        "order_variation_date": "",
        "order_variation_details": "",
        "order_variation_req_received_date": "",
        "order_variation_type": "",
        "pdu_responsible": "",
        "pdu_responsible_email": "",
        "planned_order_end_date": "",
        "responsible_officer_details_received": "",
        "responsible_officer_email": "",
        "responsible_officer_phone": "",
        "responsible_officer_name": "",
        "responsible_organization": "",
        "ro_post_code": "",
        "ro_address_1": "",
        "ro_address_2": "",
        "ro_address_3": "",
        "ro_address_4": "",
        "ro_email": "",
        "ro_phone": "",
        "ro_region": "",
        "sentence_date": "",
        "sentence_expiry": "",
        "sentence_type": "",
        "tag_at_source": "",
        "tag_at_source_details": "",
        "date_and_time_installation_will_take_place": "",
        "released_under_prarr": "false",
        "technical_bail": "",
        "trial_date": "",
        "trial_outcome": "",
        "conditional_release_date": "",
        "conditional_release_start_time": "",
        "conditional_release_end_time": "",
        "reason_for_order_ending_early": "",
        "business_unit": "",
        "service_end_date": _london_date(end),
        "curfew_description": "",
        "curfew_start": "",
        "curfew_end": "",
        "curfew_duration": [],
        "trail_monitoring": "",
        "exclusion_zones": [],
        "inclusion_zones": [],
        "restriction_zones": [],
        "abstinence": "",
        "schedule": "",
        "checkin_schedule": [],
        "revocation_date": "",
        "revocation_type": "",
        "installation_address_1": "",
        "installation_address_2": "",
        "installation_address_3": "",
        "installation_address_4": "",
        "installation_address_post_code": "",
        "crown_court_case_reference_number": "",
        "magistrate_court_case_reference_number": "",
        "issp": "No",
        "hdc": "Yes" if mon.get("hdc") is True else "No",
        "order_status": "Not Started",
        "pilot": _value("Pilot", mon.get("scheme")) or "",
        "subcategory": subcategory,
        "dapol_missed_in_error": "",
        "ac_eligible_offences": [],
        "install_at_source_pilot": "",
        "dapo_order_clause_numbers": [
            {"dapo_order_clause_number": _s(c.get("clause")), "date": _s(c.get("date"))}
            for c in _items(mon, "dapo_clauses")
        ],
        "offences": [],
    }
    sentence = _s(mon.get("sentence_type"))
    mo["sentence_type"] = (
        "IPP (Imprisonment for Public Protection)"
        if sentence == "IPP"
        else (_value("SentenceType", sentence) or sentence)
    )
    offence = _s(_sec(doc, "offence_risk").get("offence_category"))
    if offence:
        mo["offences"] = [{"offence": _value("Offence", offence) or offence, "offence_date": ""}]
    _parties(mo, doc, ip, notifying, start, request_type, now)
    _conditions(mo, doc, _dated(cond, start, _instant(mon.get("end"))))
    _installation(mo, doc, notifying)
    if request_type in VARIATIONS:
        variation = _sec(doc, "variation")
        day = _s(variation.get("date"))
        mo["order_variation_date"] = f"{day} 00:00:00" if day else ""
        mo["order_variation_details"] = _s(variation.get("details"))
        mo["order_variation_type"] = _value("VariationType", variation.get("type")) or ""
    return mo


def _parties(
    mo: dict[str, Any],
    doc: dict[str, Any],
    ip: dict[str, Any],
    notifying: str,
    start: datetime | None,
    request_type: str,
    now: datetime,
) -> None:
    if not ip:
        return
    past = start is not None and start.astimezone(LONDON).date() < now.astimezone(LONDON).date()
    variation_in_past = past and request_type in VARIATIONS
    responsible = _s(ip.get("responsible_organisation"))
    organisation = _value("ResponsibleOrganisation", responsible) or responsible
    if not organisation and notifying == "HOME_OFFICE":
        organisation = _value("ResponsibleOrganisation", "HOME_OFFICE") or "Home Office"
    if notifying == "HOME_OFFICE":
        region = "UKBA"
    elif responsible == "PROBATION":
        code = _s(ip.get("probation_region"))
        region = _value("ProbationServiceRegion", code) or code
    elif responsible == "YJS":
        code = _s(ip.get("youth_justice_region"))
        region = _value("YouthJusticeServiceRegions", code) or code
    elif responsible == "POLICE":
        code = _s(ip.get("police_area"))
        region = _value("ddv6.PoliceAreasDDv6", code) or _value("PoliceAreas", code) or code
    else:
        region = ""
    officer_phone = ip.get("responsible_officer_phone")
    mo |= {
        "responsible_officer_name": _s(ip.get("responsible_officer_name")),
        "responsible_officer_phone": idd_phone(officer_phone) if isinstance(officer_phone, str) else None,
        "responsible_officer_email": _s(ip.get("responsible_officer_email")),
        "responsible_organization": organisation,
        "ro_region": region,
        "ro_email": _s(ip.get("responsible_organisation_email")),
    }
    if organisation == _value("ResponsibleOrganisation", "PROBATION"):
        mo["pdu_responsible"] = _value("ddv6.ProbationDeliveryUnitsDDv6", ip.get("delivery_unit")) or ""
    mo["notifying_organization"] = _value("ddv5.NotifyingOrganisationDDv5", notifying) or notifying or "N/A"
    if notifying == "HOME_OFFICE":
        mo["notifying_officer_name"] = "Home Office"
    name_code = _s(ip.get("notifying_organisation_name"))
    if notifying == "PROBATION":
        mo["no_name"] = "Probation Board"
    elif notifying == "HOME_OFFICE":
        mo["no_name"] = "Home Office"
    else:
        mo["no_name"] = next(
            (v for v in (_value(e, name_code) for e in NOTIFYING_NAME_ENUMS) if v is not None), name_code
        )
    mo["no_email"] = _s(ip.get("notifying_team_email"))
    mo["responsible_officer_details_received"] = "No" if notifying in COURTS or variation_in_past else "Yes"
    if variation_in_past:
        for key in (
            "responsible_officer_name",
            "responsible_officer_phone",
            "responsible_officer_email",
            "responsible_organization",
            "ro_region",
            "ro_email",
            "pdu_responsible",
        ):
            mo[key] = ""


def _dated(cond: dict[str, Any], start: datetime | None, end: datetime | None) -> dict[str, Any]:
    """The conditions with the order's dates where a condition gives none (openem: a condition without dates
    runs for the order's dates; CEMO always sends a condition's own)."""
    out = dict(cond)

    def fill(item: dict[str, Any]) -> dict[str, Any]:
        return item | {
            key: _iso_z(moment)
            for key, moment in (("start", start), ("end", end))
            if _instant(item.get(key)) is None and moment is not None
        }

    for key in ("curfew", "trail", "alcohol"):
        if isinstance(cond.get(key), dict):
            out[key] = fill(cond[key])
    for key in ("exclusion_zones", "inclusion_zones", "restriction_zones"):
        out[key] = [fill(z) for z in _items(cond, key)]
    return out


def _iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _conditions(mo: dict[str, Any], doc: dict[str, Any], cond: dict[str, Any]) -> None:
    conditions: list[dict[str, Any]] = mo["enforceable_condition"]
    curfew = _sec(cond, "curfew")
    curfew_start = _instant(curfew.get("start"))
    if curfew_start is not None:
        curfew_end = _instant(curfew.get("end")) or OPEN_END
        conditions.append(
            {
                "condition": "Curfew with EM",
                "start_date": _london_time(curfew_start),
                "end_date": _london_time(curfew_end),
            }
        )
        release = _sec(curfew, "release_day")
        mo["conditional_release_date"] = _s(curfew.get("release_date"))
        mo["conditional_release_start_time"] = _seconds(release.get("start"))
        mo["conditional_release_end_time"] = _seconds(release.get("end"))
        mo["curfew_start"] = _london_time(curfew_start)
        mo["curfew_end"] = _london_time(curfew_end)
        slots = _items(curfew, "timetable")

        def at(kind: str) -> list[dict[str, str]]:
            return [
                {
                    "day": SHORT_DAYS.get(_s(s.get("day")), ""),
                    "start": _seconds(s.get("start")),
                    "end": _seconds(s.get("end")),
                }
                for s in slots
                if s.get("address_type") == kind or kind in (s.get("address_types") or [])
            ]

        schedules = []
        primary = at("PRIMARY")
        if primary:
            schedules.append({"location": "primary", "allday": "", "schedule": primary})
        for kind in ("SECONDARY", "TERTIARY"):
            if _address(doc, kind) is not None:
                schedules.append({"location": kind.lower(), "allday": "", "schedule": at(kind)})
        mo["curfew_duration"] = schedules
    trail = _sec(cond, "trail")
    trail_start = _instant(trail.get("start"))
    if trail_start is not None:
        conditions.append(
            {
                "condition": "Location Monitoring (Fitted Device)",
                "start_date": _london_time(trail_start),
                "end_date": _london_time(_instant(trail.get("end")) or OPEN_END),
            }
        )
        mo["trail_monitoring"] = "Yes"
    zones = {k: _items(cond, k) for k in ("exclusion_zones", "inclusion_zones", "restriction_zones")}
    every = [z for group in zones.values() for z in group]
    if every:
        starts = [m for m in (_instant(z.get("start")) for z in every) if m is not None]
        ends = [m for m in (_instant(z.get("end")) for z in every) if m is not None]
        first = min(starts) if starts else None
        last = max(ends) if ends else OPEN_END
        if zones["exclusion_zones"] or zones["inclusion_zones"]:
            conditions.append(
                {
                    "condition": "EM Exclusion / Inclusion Zone",
                    "start_date": _london_time(first),
                    "end_date": _london_time(last),
                }
            )
        if zones["restriction_zones"]:
            conditions.append(
                {
                    "condition": "Restriction Zones",
                    "start_date": _london_time(first),
                    "end_date": _london_time(last),
                }
            )
        for key, group in zones.items():
            mo[key] = _zone_list(group)
        mo["trail_monitoring"] = "No"
    attendance = _items(cond, "attendance")
    if attendance:
        starts = [m for m in (_instant(a.get("start")) for a in attendance) if m is not None]
        ends = [m for m in (_instant(a.get("end")) for a in attendance) if m is not None]
        conditions.append(
            {
                "condition": "Attendance Requirement",
                "start_date": _london_time(min(starts) if starts else None),
                "end_date": _london_time(max(ends) if ends else None),
            }
        )
        mo["inclusion_zones"] = mo["inclusion_zones"] + [
            {
                "description": _s(a.get("name")),
                "duration": "",
                "start": _london_date(_instant(a.get("start"))),
                "end": _london_date(_instant(a.get("end"))),
            }
            for a in attendance
        ]
    alcohol = _sec(cond, "alcohol")
    alcohol_start = _instant(alcohol.get("start"))
    if alcohol_start is not None:
        notifying = mo["notifying_organization"]
        kind = "AML" if notifying in ("Prison", "Probation") else "AAMR"
        conditions.append(
            {
                "condition": kind,
                "start_date": _london_time(alcohol_start),
                "end_date": _london_time(_instant(alcohol.get("end"))),
            }
        )
        mo["abstinence"] = "Yes" if alcohol.get("mode") == "ABSTINENCE" else "No"


def _installation(mo: dict[str, Any], doc: dict[str, Any], notifying: str) -> None:
    inst = _sec(doc, "installation")
    location = _s(inst.get("location"))
    if not location:
        return
    appointment = _london_time(_instant(inst.get("appointment")))
    place = _s(inst.get("place_name"))
    if location in ("PROBATION_OFFICE", "PRISON", "IMMIGRATION_REMOVAL_CENTRE"):
        mo["tag_at_source"] = "true"
        mo["tag_at_source_details"] = place
        mo["date_and_time_installation_will_take_place"] = appointment
    elif location == "INSTALLATION" or (location == "HOME" and notifying == "HOME_OFFICE"):
        mo["tag_at_source"] = "false"
        mo["tag_at_source_details"] = place
        mo["date_and_time_installation_will_take_place"] = appointment
    else:
        mo["tag_at_source"] = "false"
    if location != "INSTALLATION_ALREADY_TAKEN_PLACE":
        address = _address(doc, "PRIMARY" if location == "HOME" else "INSTALLATION")
        if address:
            mo |= {
                "installation_address_1": _s(address.get("line1")),
                "installation_address_2": _s(address.get("line2")),
                "installation_address_3": _s(address.get("town")),
                "installation_address_4": _s(address.get("county")),
                "installation_address_post_code": _s(address.get("postcode")),
            }
    name_code = _s(_sec(doc, "interested_parties").get("notifying_organisation_name"))
    if location == "PRISON" and name_code in PRISONS_IN_PILOT:
        mo["install_at_source_pilot"] = "true"
        mo["tag_at_source"] = "false"
    else:
        mo["install_at_source_pilot"] = "false"


_ZONE_KINDS = {
    "EXCLUSION": "exclusion_zones",
    "INCLUSION": "inclusion_zones",
    "RESTRICTION": "restriction_zones",
}


def _with_zones_to_draw(doc: dict[str, Any]) -> dict[str, Any]:
    """Zones still to be drawn (map files) go to the supplier as CEMO sends them: in their kind's list."""
    cond = doc.get("conditions")
    if not isinstance(cond, dict) or not _items(cond, "zones_to_draw"):
        return doc
    cond = dict(cond)
    for zone in _items(cond, "zones_to_draw"):
        key = _ZONE_KINDS.get(str(zone.get("kind")))
        if key:
            cond[key] = [*_items(cond, key), {k: v for k, v in zone.items() if k not in ("kind", "map_file")}]
    cond.pop("zones_to_draw")
    return {**doc, "conditions": cond}


def fms_payloads(doc: dict[str, Any], now: datetime, case_id: str = "") -> dict[str, Any]:
    """Both payloads in the order CEMO sends them (device wearer, then monitoring order)."""
    if not isinstance(doc, dict):
        raise ValueError("an order document is a JSON object")
    return {
        "source": {"repository": fms_values()["repository"], "commit": fms_values()["commit"]},
        "device_wearer": device_wearer_payload(doc),
        "monitoring_order": monitoring_order_payload(doc, now.astimezone(UTC), case_id),
    }
