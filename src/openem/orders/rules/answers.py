"""CEMO's rules on which answers belong together, and the answers CEMO requires that openem's older rules
left optional: an organisation name only for courts, prisons and youth custody; one region field, for the
organisation that is responsible; a fixed-address answer; release-day details for a curfew; zone names;
the alcohol monitoring type; an installation appointment still to come; the variation's date."""

from __future__ import annotations

from typing import Any

from openem.core import reference
from openem.orders.rules.base import Context, ValidationError, day, flag, instant, items, path, section, text
from openem.orders.rules.people import COURT_LISTS, phone_ok

# CEMO accepts a blank name for these (UpdateInterestedPartiesDto.isNotifyingOrganisationName)
NAME_OPTIONAL = frozenset({"FAMILY_COURT", "MILITARY_COURT", "YOUTH_COURT", "YOUTH_CUSTODY_SERVICE"})
# the organisation each region field belongs to (isResponsibleOrganisationRegion)
TEAM_EMAIL_MAX = 200  # CEMO InterestedParties.TEAM_EMAIL_MAX_LENGTH
DAPO_CLAUSE_MAX = 20  # CEMO UpdateDapoDto clause @Size(max = 20), ValidationErrors.Dapo.CAUSE_TOO_LONG


def _err(code: str, field: str, message: str) -> ValidationError:
    return ValidationError(code, field, message)


def check_party_answers(doc: Any, ctx: Context) -> list[ValidationError]:
    out: list[ValidationError] = []
    ip = section(doc, "interested_parties")
    base = "interested_parties"
    # CEMO's "one region field, the responsible organisation's" is not enforced for the police area and the
    # probation region: openem uses the police area for police access (auth.policy) and keeps the local
    # probation region for every wearer (docs/order-validation.md, deliberate differences, region-fields).
    notifying = text(ip, "notifying_organisation")
    if (
        notifying is not None
        and notifying not in COURT_LISTS
        and notifying != "PROBATION"
        and text(ip, "notifying_organisation_name") is not None
    ):
        # UpdateInterestedPartiesDto.isNotifyingOrganisationName: a name only for courts, prisons and YCS
        out.append(
            _err(
                "not_applicable",
                f"{base}.notifying_organisation_name",
                "Only give the name of the organisation for a court, prison or the Youth Custody Service",
            )
        )
    region = text(ip, "youth_justice_region")
    if region is None and text(ip, "responsible_organisation") == "YJS":
        # isResponsibleOrganisationRegion (YJS)
        out.append(
            _err("required", f"{base}.youth_justice_region", "Select the youth justice service region")
        )
    if region is not None and region not in reference.codes("youth_justice_service_regions"):
        out.append(
            _err(
                "unknown_code",
                f"{base}.youth_justice_region",
                "Select a youth justice service region from the list",
            )
        )
    phone = text(ip, "responsible_officer_phone")
    if phone is not None and len(phone) <= 30 and not phone_ok(phone):
        out.append(
            _err(
                "phone_format",
                f"{base}.responsible_officer_phone",
                "Enter a phone number, like 07700 900 982 or +44 7700 900 982",
            )
        )
    for key, what in (
        ("notifying_team_email", "Your team's email address"),
        ("responsible_organisation_email", "The responsible organisation's email address"),
    ):
        email = text(ip, key)
        if email is not None and TEAM_EMAIL_MAX < len(email) <= 254:
            out.append(
                _err("too_long", f"{base}.{key}", f"{what} must be {TEAM_EMAIL_MAX} characters or fewer")
            )
    if flag(section(doc, "device_wearer"), "no_fixed_abode") is None:
        out.append(
            _err(
                "required",
                "device_wearer.no_fixed_abode",
                "Select whether the device wearer has a fixed address",
            )
        )
    return out


def check_condition_answers(doc: Any, ctx: Context) -> list[ValidationError]:
    out: list[ValidationError] = []
    cond = section(doc, "conditions")
    curfew = cond.get("curfew")
    if isinstance(curfew, dict) and not isinstance(curfew.get("release_day"), dict):
        out.append(
            _err("required", "conditions.curfew.release_day", "Enter the curfew hours on the day of release")
        )
    if (
        isinstance(curfew, dict)
        and text(curfew, "release_date") is not None
        and day(curfew, "release_date") is None
    ):
        out.append(
            _err("invalid_date", "conditions.curfew.release_date", "The release date must be a real date")
        )
    for kind in ("exclusion_zones", "inclusion_zones", "restriction_zones"):
        for i, zone in items(cond, kind):
            if text(zone, "name") is None:
                out.append(
                    _err("required", f"{path('conditions', kind, i)}.name", "Enter the name of the zone")
                )
    for i, appointment in items(cond, "attendance"):
        # CEMO MandatoryAttendance.PURPOSE_REQUIRED: what the appointment is for
        if text(appointment, "name") is None:
            out.append(
                _err(
                    "required",
                    f"{path('conditions', 'attendance', i)}.name",
                    "Enter what the appointment is for",
                )
            )
    alcohol = cond.get("alcohol")
    if isinstance(alcohol, dict) and text(alcohol, "mode") is None:
        out.append(_err("required", "conditions.alcohol.mode", "Select the type of alcohol monitoring"))
    for i, clause in items(section(doc, "monitoring"), "dapo_clauses"):
        base = path("monitoring", "dapo_clauses", i)
        number = text(clause, "clause")
        if number is None:
            out.append(_err("required", f"{base}.clause", "Enter the DAPO clause number"))
        elif DAPO_CLAUSE_MAX < len(number) <= 200:  # longer: the model's own limit says so
            out.append(
                _err(
                    "too_long",
                    f"{base}.clause",
                    f"The DAPO clause number must be {DAPO_CLAUSE_MAX} characters or fewer",
                )
            )
        if day(clause, "date") is None:
            out.append(_err("required", f"{base}.date", "Enter the date the DAPO clause was made"))
    return out


def check_request_answers(doc: Any, ctx: Context) -> list[ValidationError]:
    out: list[ValidationError] = []
    appointment = instant(section(doc, "installation"), "appointment")
    # CEMO asks for an appointment still to come (@Future) when the order is entered; a variation carries
    # the original appointment forward, so only a new order is held to it.
    # An order whose monitoring has already started records a past installation, so it is not held to it.
    started = instant(section(doc, "monitoring"), "start")
    if (
        text(doc, "request_type") in (None, "NEW")
        and appointment is not None
        and appointment <= ctx.now
        and (started is None or started > ctx.now)
    ):
        out.append(
            _err(
                "appointment_in_past",
                "installation.appointment",
                "The installation appointment must be in the future",
            )
        )
    variation = section(doc, "variation")
    # openem's own variations are dated when accepted (lifecycle); details given, as CEMO sends them, must
    # include the date
    if text(doc, "request_type") == "VARIATION" and variation and day(variation, "date") is None:
        out.append(_err("required", "variation.date", "Enter the date the variation takes effect"))
    if text(doc, "request_type") == "VARIATION" and variation and text(variation, "type") is None:
        # CEMO VariationDetails.TYPE_REQUIRED
        out.append(_err("required", "variation.type", "Select what you have changed"))
    kind = text(variation, "type")
    if kind is not None and kind not in reference.codes("variation_types"):
        out.append(_err("unknown_code", "variation.type", "Select the type of variation from the list"))
    return out
