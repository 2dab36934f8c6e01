"""CEMO in: an order in the API JSON shape of the MoJ's "Create an Electronic Monitoring Order" service
(`ministryofjustice/hmpps-electronic-monitoring-create-an-order-api`, its `Order` with `versions` and the
current version's sections: `deviceWearer`, `addresses`, `interestedParties`, `monitoringConditions`,
`curfewTimeTable`, `enforcementZoneConditions`...) mapped to an openem order document, with a report of what
was carried, what was filled in and what was dropped and why (docs/order-format.md "CEMO in").

Pure: no I/O. The result is a draft; `rules.validate_order` says what it still lacks (a CEMO zone is a map
file, an openem zone a drawn polygon, so an imported zone always needs drawing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from openem.orders.rules import validate_order
from openem.orders.rules.acknowledge import acknowledge

LONDON = ZoneInfo("Europe/London")
MAX_ITEMS = 200  # addresses, timetable rows, zones... past this the rest is dropped and reported

REQUEST_TYPES = {
    "REQUEST": "NEW",
    "VARIATION": "VARIATION",
    "AMEND_ORIGINAL_REQUEST": "AMEND_REJECTED",
    "REINSTALL_AT_DIFFERENT_ADDRESS": "REINSTALL",
    "REINSTALL_DEVICE": "REINSTALL",
    "REVOCATION": "REVOCATION",
    "END_MONITORING": "END_MONITORING",
}
# CEMO order type -> openem cohort (openem's question "which kind of order is this", asked once)
COHORTS = {
    "POST_RELEASE": "POST_RELEASE",
    "BAIL": "COURT_BAIL",
    "PRE_TRIAL": "COURT_BAIL",
    "CIVIL": "COURT_BAIL",
    "COMMUNITY": "COURT_SENTENCE",
    "IMMIGRATION": "IMMIGRATION_BAIL",
    "SPECIAL": "SPECIALS",
}
INSTALL_LOCATIONS = {
    "PRIMARY": "HOME",
    "INSTALLATION": "INSTALLATION",
    "PRISON": "PRISON",
    "PROBATION_OFFICE": "PROBATION_OFFICE",
    "IMMIGRATION_REMOVAL_CENTRE": "IMMIGRATION_REMOVAL_CENTRE",
    "INSTALLATION_ALREADY_TAKEN_PLACE": "INSTALLATION_ALREADY_TAKEN_PLACE",
}
ALCOHOL = {"ALCOHOL_ABSTINENCE": "ABSTINENCE", "ALCOHOL_LEVEL": "LIMIT"}
MAPPA = {"MAPPA_ONE": 1, "MAPPA_TWO": 2, "MAPPA_THREE": 3, "MAPPA 1": 1, "MAPPA 2": 2, "MAPPA 3": 3}
ZONE_LISTS = {
    "EXCLUSION": "exclusion_zones",
    "INCLUSION": "inclusion_zones",
    "RESTRICTION": "restriction_zones",
}
ADDRESS_TYPES = ("PRIMARY", "SECONDARY", "TERTIARY", "INSTALLATION")
DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
# sections openem has no home for: said once in the report when they hold anything
UNMAPPED_SECTIONS = {
    "additionalDocuments": "documents are files in CEMO's document store; upload them to the openem order",
    "orderParameters": "CEMO's form flags (havePhoto...); openem asks for the documents themselves",
    "fmsResultId": "CEMO's record of its own supplier submission",
    "fmsResultDate": "CEMO's record of its own supplier submission",
    "offenceAdditionalDetails": "openem keeps one details text (risk details)",
    "detailsOfInstallation": "ddv6 installation risk details: openem keeps risk details in offence_risk",
    "offences": "openem records one offence category (the first offence is carried)",
    "mappa": "carried as the MAPPA level only",
    "isValid": "CEMO's own completeness flag; openem validates the result itself",
}
KNOWN_SECTIONS = {
    "id",
    "versions",
    "status",
    "type",
    "username",
    "dataDictionaryVersion",
    "createdAt",
    "submittedAt",
    "submittedBy",
    "versionId",
    "addresses",
    "variationDetails",
    "interestedParties",
    "contactDetails",
    "curfewConditions",
    "curfewTimeTable",
    "curfewReleaseDateConditions",
    "deviceWearer",
    "deviceWearerResponsibleAdult",
    "installationAndRisk",
    "installationAppointment",
    "installationLocation",
    "probationDeliveryUnit",
    "monitoringConditions",
    "monitoringConditionsAlcohol",
    "monitoringConditionsTrail",
    "enforcementZoneConditions",
    "mandatoryAttendanceConditions",
    "dapoClauses",
    *UNMAPPED_SECTIONS,
}


class CemoImportError(ValueError):
    """The input is not a CEMO order at all (not a JSON object, or no sections)."""


@dataclass
class MappingReport:
    carried: list[str] = field(default_factory=list)
    filled: list[dict[str, str]] = field(default_factory=list)
    dropped: list[dict[str, str]] = field(default_factory=list)
    #: openem's stricter rules the order does not meet but CEMO accepted: acknowledged on import
    #: (`acknowledgements`, source CEMO_IMPORT), each {"code", "field", "message"}
    flagged: list[dict[str, str]] = field(default_factory=list)
    cemo_id: str | None = None
    data_dictionary_version: str | None = None

    def fill(self, openem_field: str, value: Any, reason: str) -> None:
        self.filled.append({"field": openem_field, "value": str(value), "reason": reason})

    def drop(self, cemo_field: str, reason: str) -> None:
        self.dropped.append({"field": cemo_field, "reason": reason})

    def to_dict(self) -> dict[str, Any]:
        return {
            "cemo_id": self.cemo_id,
            "data_dictionary_version": self.data_dictionary_version,
            "carried": self.carried,
            "filled": self.filled,
            "dropped": self.dropped,
            "flagged": self.flagged,
        }


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == [] or value == {}


class _Reader:
    """Reads typed values out of one CEMO section, recording in the report what it carried or refused."""

    def __init__(self, report: MappingReport) -> None:
        self.report = report

    def text(self, section: Any, key: str, path: str) -> str | None:
        if not isinstance(section, dict):
            return None
        value = section.get(key)
        if _blank(value):
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.report.drop(f"{path}.{key}", "not a text value")
            return None
        self.report.carried.append(f"{path}.{key}")
        return str(value)

    def flag(self, section: Any, key: str, path: str) -> bool | None:
        if not isinstance(section, dict) or section.get(key) is None:
            return None
        value = section.get(key)
        if isinstance(value, bool):
            self.report.carried.append(f"{path}.{key}")
            return value
        self.report.drop(f"{path}.{key}", "not true or false")
        return None

    def instant(self, section: Any, key: str, path: str) -> datetime | None:
        """CEMO writes instants as epoch seconds or ISO 8601 (Jackson's two ZonedDateTime forms)."""
        if not isinstance(section, dict) or _blank(section.get(key)):
            return None
        value = section[key]
        try:
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, (int, float)):
                if not -1e11 < value < 1e11:
                    raise ValueError
                moment = datetime.fromtimestamp(float(value), UTC)
            elif isinstance(value, str) and len(value) <= 40:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=UTC)
            else:
                raise ValueError
        except (ValueError, OverflowError, OSError):
            self.report.drop(f"{path}.{key}", "not a date and time openem can read")
            return None
        self.report.carried.append(f"{path}.{key}")
        return moment.astimezone(UTC)

    def wall_time(self, section: Any, key: str, path: str) -> str | None:
        raw = self.text(section, key, path)
        if raw is None:
            return None
        parts = raw.split(":")
        if len(parts) in (2, 3) and all(p.isdigit() and len(p) == 2 for p in parts):
            if len(parts) == 3 and parts[2] != "00":
                self.report.drop(f"{path}.{key}", "seconds are not kept (openem times are HH:MM)")
            return f"{parts[0]}:{parts[1]}"
        self.report.drop(f"{path}.{key}", "not a time HH:MM[:SS]")
        return None


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _london_day(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(LONDON).date().isoformat()


def _section(order: dict[str, Any], version: dict[str, Any], key: str) -> Any:
    """A section from the order (CEMO flattens the current version onto it) or from its last version."""
    if key in order:
        return order[key]
    return version.get(key)


def _list(value: Any, path: str, report: MappingReport) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        report.drop(path, "not a list")
        return []
    if len(value) > MAX_ITEMS:
        report.drop(f"{path}[{MAX_ITEMS}:]", f"more than {MAX_ITEMS} entries")
    return [v for v in value[:MAX_ITEMS] if isinstance(v, dict)]


def import_cemo(data: Any, now: datetime | None = None) -> tuple[dict[str, Any], MappingReport]:
    """(openem order document, mapping report) for one CEMO order. Raises CemoImportError for non-orders.
    Openem's flags (rules/acknowledge.py: its stricter rules CEMO does not have) that the order raises are
    acknowledged as CEMO_IMPORT and listed in `report.flagged`; `now` is when validation runs for that."""
    if not isinstance(data, dict):
        raise CemoImportError("A CEMO order is a JSON object")
    versions = data.get("versions")
    version: dict[str, Any] = {}
    if isinstance(versions, list) and versions and isinstance(versions[-1], dict):
        version = versions[-1]
    if not any(
        key in data or key in version for key in ("deviceWearer", "monitoringConditions", "addresses")
    ):
        raise CemoImportError("No CEMO order sections (deviceWearer, monitoringConditions, addresses) found")
    report = MappingReport()
    read = _Reader(report)
    report.cemo_id = read.text(data, "id", "order")
    report.data_dictionary_version = read.text(data, "dataDictionaryVersion", "order") or read.text(
        version, "dataDictionaryVersion", "versions[-1]"
    )
    doc: dict[str, Any] = {"version": 1}
    _request_type(data, version, doc, report, read)
    _device_wearer(data, version, doc, report, read)
    _addresses(data, version, doc, report, read)
    _interested_parties(data, version, doc, report, read)
    _risk(data, version, doc, report, read)
    _monitoring(data, version, doc, report, read)
    _conditions(data, version, doc, report, read)
    _installation(data, version, doc, report, read)
    _variation(data, version, doc, report, read)
    _monitoring_dates_from_conditions(doc, report)
    for key, reason in UNMAPPED_SECTIONS.items():
        value = _section(data, version, key)
        if not _blank(value) and key not in ("offences", "mappa"):
            report.drop(key, reason)
    for key in sorted(set(data) - KNOWN_SECTIONS):
        if not _blank(data[key]):
            report.drop(str(key)[:100], "not a section openem knows")
    errors = validate_order(doc, now=now or datetime.now(UTC))
    note = f"accepted by CEMO (order {report.cemo_id})"[:200]
    added = {(a["code"], a["field"]) for a in acknowledge(doc, errors, "CEMO_IMPORT", note)}
    report.flagged = [e.to_dict() for e in errors if (e.code, e.field) in added]
    return doc, report


def _request_type(
    data: dict[str, Any], version: dict[str, Any], doc: dict[str, Any], report: MappingReport, read: _Reader
) -> None:
    kind = read.text(version, "type", "versions[-1]") or read.text(data, "type", "order")
    if kind is None:
        doc["request_type"] = "NEW"
        report.fill("request_type", "NEW", "CEMO gave no request type")
    elif kind in REQUEST_TYPES:
        doc["request_type"] = REQUEST_TYPES[kind]
    else:
        doc["request_type"] = "NEW"
        report.drop(
            "versions[-1].type", f"request type {kind[:40]!r} has no openem equivalent; entered as NEW"
        )


def _device_wearer(
    data: dict[str, Any], version: dict[str, Any], doc: dict[str, Any], report: MappingReport, read: _Reader
) -> None:
    dw = _section(data, version, "deviceWearer")
    p = "deviceWearer"
    if not isinstance(dw, dict):
        return
    wearer: dict[str, Any] = {}
    for cemo_key, key in (
        ("firstName", "first_name"),
        ("middleName", "middle_name"),
        ("lastName", "last_name"),
        ("sex", "sex"),
        ("gender", "gender"),
        ("pncId", "pnc"),
        ("nomisId", "nomis_id"),
        ("deliusId", "crn"),
        ("prisonNumber", "prison_number"),
        ("homeOfficeReferenceNumber", "home_office_reference"),
        ("language", "language"),
    ):
        value = read.text(dw, cemo_key, p)
        if value is not None:
            wearer[key] = value
    alias = read.text(dw, "alias", p)
    wearer["aliases"] = [alias] if alias else []
    born = read.instant(dw, "dateOfBirth", p)
    if born is not None:
        wearer["date_of_birth"] = born.date().isoformat()
    for cemo_key, key in (
        ("adultAtTimeOfInstallation", "is_adult"),
        ("interpreterRequired", "interpreter_required"),
        ("noFixedAbode", "no_fixed_abode"),
    ):
        answer = read.flag(dw, cemo_key, p)
        if answer is not None:
            wearer[key] = answer
    disabilities = read.text(dw, "disabilities", p)
    wearer["disabilities"] = [d.strip() for d in (disabilities or "").split(",") if d.strip()][:50]
    other = read.text(dw, "otherDisability", p)
    if other:
        wearer["other_disability"] = other
    cepr = read.text(dw, "complianceAndEnforcementPersonReference", p)
    if cepr and "home_office_reference" not in wearer:
        wearer["home_office_reference"] = cepr
    elif cepr:
        report.drop(f"{p}.complianceAndEnforcementPersonReference", "openem keeps one Home Office reference")
    court_ref = read.text(dw, "courtCaseReferenceNumber", p)
    if court_ref:
        report.drop(f"{p}.courtCaseReferenceNumber", "openem has no court case reference yet")
    doc["device_wearer"] = wearer

    adult = _section(data, version, "deviceWearerResponsibleAdult")
    if isinstance(adult, dict):
        ra: dict[str, Any] = {}
        name = read.text(adult, "fullName", "deviceWearerResponsibleAdult")
        relation = read.text(adult, "relationship", "deviceWearerResponsibleAdult")
        other_relation = read.text(adult, "otherRelationshipDetails", "deviceWearerResponsibleAdult")
        phone = read.text(adult, "contactNumber", "deviceWearerResponsibleAdult")
        if name:
            ra["full_name"] = name
        if relation:
            ra["relationship"] = (
                other_relation if relation.lower() == "other" and other_relation else relation
            )
        if phone:
            ra["phone"] = phone
        doc["responsible_adult"] = ra or None
    contact = _section(data, version, "contactDetails")
    phone = read.text(contact, "contactNumber", "contactDetails")
    if phone:
        doc["contact"] = {"phone": phone}


def _addresses(
    data: dict[str, Any], version: dict[str, Any], doc: dict[str, Any], report: MappingReport, read: _Reader
) -> None:
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, a in enumerate(_list(_section(data, version, "addresses"), "addresses", report)):
        p = f"addresses[{i}]"
        kind = read.text(a, "addressType", p)
        if kind not in ADDRESS_TYPES:
            report.drop(f"{p}.addressType", f"address type {str(kind)[:40]!r} is not one openem keeps")
            continue
        if kind in seen:
            report.drop(p, f"a second {kind} address; openem keeps one of each type")
            continue
        seen.add(kind)
        address: dict[str, Any] = {"type": kind}
        for cemo_key, key in (
            ("addressLine1", "line1"),
            ("addressLine2", "line2"),
            ("addressLine3", "town"),
            ("addressLine4", "county"),
            ("postcode", "postcode"),
        ):
            value = read.text(a, cemo_key, p)
            address[key] = value if value is not None else ("" if key in ("line2", "county") else None)
        address = {k: v for k, v in address.items() if v is not None}
        out.append(address)
        usage = read.text(a, "addressUsage", p)
        if usage and usage != "NA":
            report.drop(f"{p}.addressUsage", "openem has no address usage")
    if out:
        doc["addresses"] = out


def _interested_parties(
    data: dict[str, Any], version: dict[str, Any], doc: dict[str, Any], report: MappingReport, read: _Reader
) -> None:
    ip = _section(data, version, "interestedParties")
    p = "interestedParties"
    if not isinstance(ip, dict):
        return
    out: dict[str, Any] = {}
    for cemo_key, key in (
        ("notifyingOrganisation", "notifying_organisation"),
        ("notifyingOrganisationName", "notifying_organisation_name"),
        ("notifyingOrganisationEmail", "notifying_team_email"),
        ("responsibleOrganisation", "responsible_organisation"),
        ("responsibleOrganisationEmail", "responsible_organisation_email"),
        ("responsibleOfficerEmail", "responsible_officer_email"),
        ("responsibleOfficerPhoneNumber", "responsible_officer_phone"),
    ):
        value = read.text(ip, cemo_key, p)
        if value is not None:
            out[key] = value
    name = read.text(ip, "responsibleOfficerName", p)
    if name is None:
        parts = [
            read.text(ip, "responsibleOfficerFirstName", p),
            read.text(ip, "responsibleOfficerLastName", p),
        ]
        name = " ".join(x for x in parts if x) or None
    if name:
        out["responsible_officer_name"] = name
    region = read.text(ip, "responsibleOrganisationRegion", p)
    org = out.get("responsible_organisation")
    if region:
        target = {
            "PROBATION": "probation_region",
            "YJS": "youth_justice_region",
            "POLICE": "police_area",
        }.get(org or "")
        if target:
            out[target] = region
        else:
            report.drop(f"{p}.responsibleOrganisationRegion", f"a region for {org or 'no organisation'}")
    unit = _section(data, version, "probationDeliveryUnit")
    delivery_unit = read.text(unit, "unit", "probationDeliveryUnit")
    if delivery_unit:
        out["delivery_unit"] = delivery_unit
    doc["interested_parties"] = out


def _risk(
    data: dict[str, Any], version: dict[str, Any], doc: dict[str, Any], report: MappingReport, read: _Reader
) -> None:
    risk = _section(data, version, "installationAndRisk")
    p = "installationAndRisk"
    out: dict[str, Any] = {"risk_categories": []}
    if isinstance(risk, dict):
        offence = read.text(risk, "offence", p)
        if offence:
            out["offence_category"] = offence
        categories = risk.get("riskCategory")
        if isinstance(categories, list):
            out["risk_categories"] = [c for c in categories if isinstance(c, str) and c.strip()][:50]
            report.carried.append(f"{p}.riskCategory")
        details = read.text(risk, "riskDetails", p)
        if details:
            out["details"] = details
        extra = read.text(risk, "offenceAdditionalDetails", p)
        if extra:
            report.drop(f"{p}.offenceAdditionalDetails", "openem keeps one details text (risk details)")
        level = read.text(risk, "mappaLevel", p)
        if level:
            if level in MAPPA:
                out["mappa_level"] = MAPPA[level]
            else:
                report.drop(f"{p}.mappaLevel", "not a MAPPA level")
        case_type = read.text(risk, "mappaCaseType", p)
        if case_type:
            report.drop(f"{p}.mappaCaseType", "openem records the MAPPA level, not its category")
    mappa = _section(data, version, "mappa")
    level = read.text(mappa, "level", "mappa")
    if level in MAPPA:
        out["mappa_level"] = MAPPA[level]
    offences = _list(_section(data, version, "offences"), "offences", report)
    for i, o in enumerate(offences):
        kind = read.text(o, "offenceType", f"offences[{i}]")
        if i == 0 and kind and "offence_category" not in out:
            out["offence_category"] = kind
        elif kind:
            report.drop(f"offences[{i}]", "openem records one offence category")
    doc["offence_risk"] = out


def _monitoring(
    data: dict[str, Any], version: dict[str, Any], doc: dict[str, Any], report: MappingReport, read: _Reader
) -> None:
    mc = _section(data, version, "monitoringConditions")
    p = "monitoringConditions"
    out: dict[str, Any] = {}
    wearer = doc.get("device_wearer") or {}
    if isinstance(wearer.get("is_adult"), bool):
        out["is_youth"] = not wearer["is_adult"]
    if isinstance(mc, dict):
        order_type = read.text(mc, "orderType", p)
        if order_type:
            out["order_type"] = order_type
            if order_type in COHORTS:
                out["cohort"] = COHORTS[order_type]
                report.fill("monitoring.cohort", COHORTS[order_type], f"from CEMO order type {order_type}")
        for cemo_key, key in (
            ("conditionType", "condition_type"),
            ("sentenceType", "sentence_type"),
            ("pilot", "scheme"),
        ):
            value = read.text(mc, cemo_key, p)
            if value is not None:
                out[key] = value
        for cemo_key, key in (("startDate", "start"), ("endDate", "end")):
            moment = read.instant(mc, cemo_key, p)
            if moment is not None:
                out[key] = _iso(moment)
        hdc = read.text(mc, "hdc", p)
        if hdc is not None:
            out["hdc"] = hdc == "YES"
        for flag in ("issp", "prarr", "dapolMissedInError"):
            if read.text(mc, flag, p) == "YES":
                report.drop(f"{p}.{flag}", "openem has no such answer yet")
        for key in ("orderTypeDescription", "caseId", "offenceType", "policeArea"):
            if read.text(mc, key, p):
                report.drop(f"{p}.{key}", "openem has no such field yet")
    clauses = []
    for i, c in enumerate(_list(_section(data, version, "dapoClauses"), "dapoClauses", report)):
        clause = {"clause": read.text(c, "clause", f"dapoClauses[{i}]")}
        made = read.instant(c, "date", f"dapoClauses[{i}]")
        clause["date"] = _london_day(made)
        clauses.append({k: v for k, v in clause.items() if v is not None})
    if clauses:
        out["dapo_clauses"] = clauses
    doc["monitoring"] = out


def _conditions(
    data: dict[str, Any], version: dict[str, Any], doc: dict[str, Any], report: MappingReport, read: _Reader
) -> None:
    conditions: dict[str, Any] = {}
    curfew_section = _section(data, version, "curfewConditions")
    timetable = _list(_section(data, version, "curfewTimeTable"), "curfewTimeTable", report)
    if isinstance(curfew_section, dict) or timetable:
        curfew: dict[str, Any] = {}
        start = read.instant(curfew_section, "startDate", "curfewConditions")
        end = read.instant(curfew_section, "endDate", "curfewConditions")
        if start:
            curfew["start"] = _iso(start)
        if end:
            curfew["end"] = _iso(end)
        for key in ("curfewAdditionalDetails", "curfewDescription"):
            if read.text(curfew_section, key, "curfewConditions"):
                report.drop(f"curfewConditions.{key}", "openem has no curfew description yet")
        release = _section(data, version, "curfewReleaseDateConditions")
        if isinstance(release, dict):
            rp = "curfewReleaseDateConditions"
            curfew["release_date"] = _london_day(read.instant(release, "releaseDate", rp))
            day = {
                "start": read.wall_time(release, "startTime", rp),
                "end": read.wall_time(release, "endTime", rp),
                "address_type": read.text(release, "curfewAddress", rp),
            }
            curfew["release_day"] = {k: v for k, v in day.items() if v is not None}
            curfew = {k: v for k, v in curfew.items() if v is not None}
        slots = []
        for i, row in enumerate(timetable):
            tp = f"curfewTimeTable[{i}]"
            day_name = read.text(row, "dayOfWeek", tp)
            if day_name not in DAYS:
                report.drop(f"{tp}.dayOfWeek", "not a day of the week")
                continue
            places = [
                x.strip().removesuffix("_ADDRESS")
                for x in (read.text(row, "curfewAddress", tp) or "").split(",")
                if x.strip()
            ]
            slot: dict[str, Any] = {
                "day": day_name,
                "start": read.wall_time(row, "startTime", tp),
                "end": read.wall_time(row, "endTime", tp),
                "address_type": places[0] if places else None,
            }
            if len(places) > 1:
                slot["address_types"] = places[1:8]
            slots.append({k: v for k, v in slot.items() if v is not None})
        curfew["timetable"] = slots
        conditions["curfew"] = curfew
    for i, z in enumerate(
        _list(_section(data, version, "enforcementZoneConditions"), "enforcementZones", report)
    ):
        zp = f"enforcementZoneConditions[{i}]"
        kind = read.text(z, "zoneType", zp)
        if kind not in ZONE_LISTS:
            report.drop(f"{zp}.zoneType", "not EXCLUSION, INCLUSION or RESTRICTION")
            continue
        zone_id = read.text(z, "zoneId", zp)
        zone: dict[str, Any] = {
            "id": f"Z{zone_id if zone_id is not None else i}",
            "name": read.text(z, "name", zp),
            "description": read.text(z, "description", zp),
            "duration": read.text(z, "duration", zp),
            "start": _iso(read.instant(z, "startDate", zp)),
            "end": _iso(read.instant(z, "endDate", zp)),
        }
        if zone["name"] is None:
            zone["name"] = f"{kind.title()} zone {i + 1}"
            report.fill(f"conditions.{ZONE_LISTS[kind]}[].name", zone["name"], "CEMO gave the zone no name")
        map_file = read.text(z, "fileId", zp) or read.text(z, "fileName", zp)
        if map_file:
            report.drop(f"{zp}.fileId", "the zone's map is a file in CEMO; draw the zone on the openem map")
            zone |= {"kind": kind, "map_file": map_file[:200]}
        target = "zones_to_draw" if map_file else ZONE_LISTS[kind]
        conditions.setdefault(target, []).append({k: v for k, v in zone.items() if v is not None})
    trail = _section(data, version, "monitoringConditionsTrail")
    if isinstance(trail, dict):
        conditions["trail"] = {
            k: v
            for k, v in (
                ("start", _iso(read.instant(trail, "startDate", "monitoringConditionsTrail"))),
                ("end", _iso(read.instant(trail, "endDate", "monitoringConditionsTrail"))),
            )
            if v is not None
        }
        if read.text(trail, "deviceType", "monitoringConditionsTrail"):
            report.drop("monitoringConditionsTrail.deviceType", "openem chooses devices when fitting")
    alcohol = _section(data, version, "monitoringConditionsAlcohol")
    if isinstance(alcohol, dict):
        ap = "monitoringConditionsAlcohol"
        kind = read.text(alcohol, "monitoringType", ap)
        alc: dict[str, Any] = {
            "mode": ALCOHOL.get(kind or ""),
            "start": _iso(read.instant(alcohol, "startDate", ap)),
            "end": _iso(read.instant(alcohol, "endDate", ap)),
        }
        if kind and kind not in ALCOHOL:
            report.drop(f"{ap}.monitoringType", "not ALCOHOL_ABSTINENCE or ALCOHOL_LEVEL")
        conditions["alcohol"] = {k: v for k, v in alc.items() if v is not None}
    attendance = _list(
        _section(data, version, "mandatoryAttendanceConditions"), "mandatoryAttendanceConditions", report
    )
    for i, a in enumerate(attendance):
        mp = f"mandatoryAttendanceConditions[{i}]"
        item = {
            "id": f"A{i + 1}",
            "name": read.text(a, "purpose", mp) or read.text(a, "appointmentDay", mp),
            "start": _iso(read.instant(a, "startDate", mp)),
            "end": _iso(read.instant(a, "endDate", mp)),
        }
        report.drop(mp + ".address", "openem attendance is a place on the map; mark it there")
        conditions.setdefault("attendance", []).append({k: v for k, v in item.items() if v is not None})
    if conditions:
        doc["conditions"] = conditions


def _monitoring_dates_from_conditions(doc: dict[str, Any], report: MappingReport) -> None:
    """CEMO's monitoring start (end) when the order gives none is its conditions' earliest (latest) date
    (OrderVersion.getMonitoringStartDate); openem asks for them, so the import fills them in the same way."""
    monitoring = doc.setdefault("monitoring", {})
    cond = doc.get("conditions") or {}
    items = [cond.get(k) for k in ("curfew", "trail", "alcohol")]
    for k in ("exclusion_zones", "inclusion_zones", "restriction_zones", "zones_to_draw", "attendance"):
        items += list(cond.get(k) or [])
    for key, pick in (("start", min), ("end", max)):
        if key in monitoring:
            continue
        found = [i[key] for i in items if isinstance(i, dict) and isinstance(i.get(key), str)]
        if found:
            monitoring[key] = pick(found)
            report.fill(
                f"monitoring.{key}", monitoring[key], f"CEMO gave none: the conditions' {pick.__name__}"
            )


def _installation(
    data: dict[str, Any], version: dict[str, Any], doc: dict[str, Any], report: MappingReport, read: _Reader
) -> None:
    where = _section(data, version, "installationLocation")
    kind = read.text(where, "location", "installationLocation")
    appointment = _section(data, version, "installationAppointment")
    moment = read.instant(appointment, "appointmentDate", "installationAppointment")
    if kind is None and moment is None:
        return
    out: dict[str, Any] = {}
    if kind in INSTALL_LOCATIONS:
        out["location"] = INSTALL_LOCATIONS[kind]
        if kind == "PRIMARY":
            report.fill("installation.location", "HOME", "CEMO's PRIMARY installation is openem's HOME")
    elif kind:
        report.drop("installationLocation.location", f"{kind[:40]} has no openem installation location")
    if moment:
        out["appointment"] = _iso(moment)
    place = read.text(appointment, "placeName", "installationAppointment")
    if place:
        out["place_name"] = place
    details = read.text(appointment, "appointmentTimeDetails", "installationAppointment")
    if details:
        report.drop("installationAppointment.appointmentTimeDetails", "openem has no appointment time notes")
    doc["installation"] = out


def _variation(
    data: dict[str, Any], version: dict[str, Any], doc: dict[str, Any], report: MappingReport, read: _Reader
) -> None:
    details = _section(data, version, "variationDetails")
    if not isinstance(details, dict):
        return
    p = "variationDetails"
    out = {
        "type": read.text(details, "variationType", p),
        "date": _london_day(read.instant(details, "variationDate", p)),
        "details": read.text(details, "variationDetails", p),
    }
    doc["variation"] = {k: v for k, v in out.items() if v is not None}
