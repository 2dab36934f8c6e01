"""Who is involved and what is ordered: notifying and responsible organisations, probation region and
delivery unit, agency consistent with the cohort, offence and risk codes, order type, conditions, installation."""

from __future__ import annotations

from typing import Any

from openem.core import reference
from openem.orders.model import RISK_LEVELS
from openem.orders.rules.answers import NAME_OPTIONAL
from openem.orders.rules.base import Context, ValidationError, flag, items, path, present, section, text
from openem.orders.rules.people import COURT_LISTS, EMAIL_RE, _code, _err, _required


def check_interested_parties(doc: Any, ctx: Context) -> list[ValidationError]:
    out: list[ValidationError] = []
    ip = section(doc, "interested_parties")
    base = "interested_parties"
    _required(
        ip,
        "notifying_organisation",
        f"{base}.notifying_organisation",
        "Select the organisation you are part of",
        out,
    )
    _required(
        ip, "notifying_team_email", f"{base}.notifying_team_email", "Enter your team's email address", out
    )
    _required(
        ip,
        "responsible_organisation",
        f"{base}.responsible_organisation",
        "Select the responsible organisation",
        out,
    )
    _required(
        ip,
        "responsible_officer_name",
        f"{base}.responsible_officer_name",
        "Enter the responsible officer's full name",
        out,
    )
    notifying = text(ip, "notifying_organisation")
    _code(
        ip,
        "notifying_organisation",
        f"{base}.notifying_organisation",
        reference.codes("notifying_organisations"),
        "Select the organisation from the list",
        out,
    )
    if notifying in COURT_LISTS:
        name = text(ip, "notifying_organisation_name")
        if name is None and notifying not in NAME_OPTIONAL:
            out.append(
                _err(
                    "required",
                    f"{base}.notifying_organisation_name",
                    "Select the name of the court or prison",
                )
            )
        elif name is not None and name not in reference.codes(COURT_LISTS[notifying]):
            out.append(
                _err(
                    "unknown_code",
                    f"{base}.notifying_organisation_name",
                    "Select a court or prison from the list",
                )
            )
    for key in ("notifying_team_email", "responsible_officer_email", "responsible_organisation_email"):
        email = text(ip, key)
        if email is not None and len(email) <= 254 and not EMAIL_RE.match(email.strip()):
            out.append(
                _err(
                    "email_format",
                    f"{base}.{key}",
                    "Enter an email address in the correct format, like name@example.com",
                )
            )
    responsible = text(ip, "responsible_organisation")
    _code(
        ip,
        "responsible_organisation",
        f"{base}.responsible_organisation",
        reference.codes("responsible_organisations"),
        "Select the responsible organisation from the list",
        out,
    )
    region, unit = text(ip, "probation_region"), text(ip, "delivery_unit")
    _code(
        ip,
        "probation_region",
        f"{base}.probation_region",
        reference.codes("probation_regions"),
        "Select a probation region from the list",
        out,
    )
    _code(
        ip,
        "police_area",
        f"{base}.police_area",
        reference.codes("police_areas"),
        "Select a police force area from the list",
        out,
    )
    if responsible == "PROBATION" and region is None:
        out.append(_err("required", f"{base}.probation_region", "Select the probation region"))
    if (responsible == "PROBATION" or region is not None) and unit is None:
        out.append(_err("required", f"{base}.delivery_unit", "Select the probation delivery unit"))
    if responsible == "POLICE" and text(ip, "police_area") is None:
        out.append(_err("required", f"{base}.police_area", "Select the police force area"))
    if unit is not None:
        units = reference.delivery_unit_regions()
        if unit not in units:
            out.append(
                _err(
                    "unknown_code", f"{base}.delivery_unit", "Select a probation delivery unit from the list"
                )
            )
        elif region is not None and units[unit] != region:
            out.append(
                _err(
                    "delivery_unit_region_mismatch",
                    f"{base}.delivery_unit",
                    "Select a probation delivery unit in the probation region you chose",
                )
            )
    cohort = text(section(doc, "monitoring"), "cohort")
    allowed = ctx.policy["responsible_organisations"].get(cohort or "")
    if (
        responsible is not None
        and allowed is not None
        and responsible in reference.codes("responsible_organisations")
    ):
        youth = flag(section(doc, "device_wearer"), "is_adult") is False
        youth_only = ctx.policy["youth_only_responsible_organisations"]
        if responsible not in allowed or (responsible in youth_only and not youth):
            names = " or ".join(
                reference.codes("responsible_organisations")[c]
                for c in allowed
                if c not in youth_only or youth
            )
            out.append(
                _err(
                    "agency_cohort_mismatch",
                    f"{base}.responsible_organisation",
                    f"The responsible organisation for this kind of order must be {names}",
                )
            )
    return out


def check_offence_and_monitoring_codes(doc: Any, ctx: Context) -> list[ValidationError]:
    out: list[ValidationError] = []
    orisk = section(doc, "offence_risk")
    _code(
        orisk,
        "offence_category",
        "offence_risk.offence_category",
        reference.codes("offence_categories"),
        "Select the offence from the list",
        out,
    )
    _code(
        orisk,
        "risk_level",
        "offence_risk.risk_level",
        RISK_LEVELS,
        "Select the risk level from the list",
        out,
    )
    risks = orisk.get("risk_categories")
    if isinstance(risks, list):
        known = reference.codes("risk_categories")
        for i, code in enumerate(risks):
            if isinstance(code, str) and code not in known:
                out.append(
                    _err(
                        "unknown_code",
                        path("offence_risk", "risk_categories", i),
                        "Select risk categories from the list",
                    )
                )
    mappa = orisk.get("mappa_level")
    if isinstance(mappa, int) and not isinstance(mappa, bool) and mappa not in (1, 2, 3):
        out.append(_err("unknown_code", "offence_risk.mappa_level", "MAPPA level must be 1, 2 or 3"))
    m = section(doc, "monitoring")
    base = "monitoring"
    _required(m, "cohort", f"{base}.cohort", "Select the type of order the device wearer is on", out)
    _required(m, "order_type", f"{base}.order_type", "Select the order type", out)
    _required(m, "start", f"{base}.start", "Enter the date monitoring starts", out)
    _required(m, "end", f"{base}.end", "Enter the date monitoring ends", out)
    _code(
        m,
        "order_type",
        f"{base}.order_type",
        reference.codes("order_types"),
        "Select the order type from the list",
        out,
    )
    _code(
        m,
        "condition_type",
        f"{base}.condition_type",
        reference.codes("condition_types"),
        "Select the condition type from the list",
        out,
    )
    _code(
        m,
        "sentence_type",
        f"{base}.sentence_type",
        reference.codes("sentence_types"),
        "Select the sentence type from the list",
        out,
    )
    _code(
        m,
        "scheme",
        f"{base}.scheme",
        reference.codes("schemes"),
        "Select the pilot or scheme from the list",
        out,
    )
    cohort, order_type = text(m, "cohort"), text(m, "order_type")
    allowed = ctx.policy["order_types"].get(cohort or "")
    if allowed is not None and order_type in reference.codes("order_types") and order_type not in allowed:
        out.append(
            _err(
                "order_type_cohort_mismatch",
                f"{base}.order_type",
                "The order type does not match the type of order the device wearer is on",
            )
        )
    conditions = section(doc, "conditions")
    if cohort not in ctx.policy["cohorts_without_conditions"] and not any(
        present(conditions, k)
        for k in (
            "curfew",
            "exclusion_zones",
            "inclusion_zones",
            "restriction_zones",
            "zones_to_draw",
            "trail",
            "attendance",
            "alcohol",
            "proximity",
        )
    ):
        out.append(_err("required", "conditions", "Select at least one monitoring condition"))
    inst = section(doc, "installation")
    _required(inst, "location", "installation.location", "Select where the device will be installed", out)
    if text(inst, "location") == "PROBATION_OFFICE":
        _required(
            inst,
            "appointment",
            "installation.appointment",
            "Enter the date and time of the installation appointment",
            out,
        )
    if text(inst, "location") in ("PROBATION_OFFICE", "IMMIGRATION_REMOVAL_CENTRE") and text(
        inst, "appointment"
    ):
        # CEMO InstallationAppointment.PLACE_NAME_REQUIRED: an appointment says at which office or centre
        # (for a prison openem has the prison: the notifying organisation)
        _required(
            inst,
            "place_name",
            "installation.place_name",
            "Enter name of the place where installation takes place",
            out,
        )
    if text(inst, "location") in ("HOME", "INSTALLATION") and not any(
        text(a, "type") in ("PRIMARY", "INSTALLATION") for _, a in items(doc, "addresses")
    ):
        out.append(_err("required", "installation.location", "Enter an address to install the device at"))
    return out
