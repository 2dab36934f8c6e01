"""The person and where they live: CEMO completeness rules for the device wearer, responsible adult, contact
and addresses; formats of names, identity numbers, phones and UK postcodes."""

from __future__ import annotations

import re
from typing import Any

from openem.core import reference
from openem.orders.model import ADDRESS_TYPES, GENDERS, SEXES
from openem.orders.rules.base import Context, ValidationError, flag, items, path, present, section, text

# UK postcode (format only; the Royal Mail file is not open data). Accepts an optional single space.
POSTCODE_RE = re.compile(
    r"^(GIR ?0AA|[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][ABEHMNPRVWXY])"
    r" ?[0-9][ABD-HJLNP-UW-Z]{2})$"
)
NAME_RE = re.compile(r"^[^\W\d_]+(?:[ '\u2019.-]+[^\W\d_]+)*\.?$")
PHONE_RE = re.compile(r"^(?:\+44|0)\d{9,10}$")
# CEMO accepts any number libphonenumber calls valid, abroad too when written with +country code; openem
# checks the international form's shape (E.164: a country code and up to 15 digits in all).
INTERNATIONAL_PHONE_RE = re.compile(r"^\+(?!44)[1-9]\d{6,14}$")


def phone_ok(value: str) -> bool:
    """UK numbers in the usual written forms (07700 900982, (0121) 496 0017, +44 (0)808 157 0657) and
    international numbers written with their country code (+33 1 42 68 53 00)."""
    compact = re.sub(r"[\s().-]", "", value.replace("(0)", ""))
    return bool(PHONE_RE.match(compact) or INTERNATIONAL_PHONE_RE.match(compact))


EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+$")
PNC_RE = re.compile(r"^(?:\d{2}|\d{4})/\d{1,7}[A-Z]$")
NOMIS_RE = re.compile(r"^[A-Z]\d{4}[A-Z]{2}$")
CRN_RE = re.compile(r"^[A-Z]\d{6}$")
PRISON_NUMBER_RE = re.compile(r"^[A-Z0-9]{4,10}$")
HO_REF_RE = re.compile(r"^[A-Z0-9/-]{4,20}$")

COURT_LISTS = {
    "CROWN_COURT": "crown_courts",
    "MAGISTRATES_COURT": "magistrates_courts",
    "FAMILY_COURT": "family_courts",
    "CIVIL_COUNTY_COURT": "civil_county_courts",
    "YOUTH_COURT": "youth_courts",
    "MILITARY_COURT": "military_courts",
    "PRISON": "prisons",
    "YOUTH_CUSTODY_SERVICE": "youth_custody_service_regions",
}


def _err(code: str, field: str, message: str) -> ValidationError:
    return ValidationError(code, field, message)


def _required(d: Any, key: str, field: str, message: str, out: list[ValidationError]) -> None:
    if not present(d, key):
        out.append(_err("required", field, message))


def _code(
    d: Any, key: str, field: str, allowed: Any, message: str, out: list[ValidationError], fold: bool = False
) -> None:
    value = text(d, key)
    if value is not None and fold:
        value = value.strip().upper()
    if value is not None and value not in allowed:
        out.append(_err("unknown_code", field, message))


def check_device_wearer(doc: Any, ctx: Context) -> list[ValidationError]:
    out: list[ValidationError] = []
    dw = section(doc, "device_wearer")
    base = "device_wearer"
    _required(dw, "first_name", f"{base}.first_name", "Enter the device wearer's first name", out)
    _required(dw, "last_name", f"{base}.last_name", "Enter the device wearer's last name", out)
    _required(dw, "date_of_birth", f"{base}.date_of_birth", "Enter the device wearer's date of birth", out)
    _required(dw, "sex", f"{base}.sex", "Select the device wearer's sex", out)
    _required(dw, "gender", f"{base}.gender", "Select the device wearer's gender", out)
    if flag(dw, "is_adult") is None:
        out.append(_err("required", f"{base}.is_adult", "Select whether the device wearer is an adult"))
    if flag(dw, "interpreter_required") is None:
        out.append(
            _err("required", f"{base}.interpreter_required", "Select whether an interpreter is needed")
        )
    elif flag(dw, "interpreter_required") and not text(dw, "language"):
        out.append(_err("required", f"{base}.language", "Enter the language the interpreter needs to use"))
    for key, label in (("first_name", "First name"), ("last_name", "Last name")):
        value = text(dw, key)
        if value is not None and len(value) <= 200 and not NAME_RE.match(value.strip()):
            out.append(
                _err(
                    "name_format",
                    f"{base}.{key}",
                    f"{label} must only include letters, spaces, hyphens and apostrophes",
                )
            )
    aliases = dw.get("aliases")
    if isinstance(aliases, list):
        for i, alias in enumerate(aliases):
            if isinstance(alias, str) and len(alias) <= 200 and not NAME_RE.match(alias.strip()):
                out.append(
                    _err(
                        "name_format",
                        path(base, "aliases", i),
                        "Alias must only include letters, spaces, hyphens and apostrophes",
                    )
                )
    _code(dw, "sex", f"{base}.sex", SEXES, "Select the device wearer's sex from the list", out, fold=True)
    _code(
        dw,
        "gender",
        f"{base}.gender",
        GENDERS,
        "Select the device wearer's gender from the list",
        out,
        fold=True,
    )
    disabilities = dw.get("disabilities")
    if isinstance(disabilities, list):
        known = reference.codes("disabilities")
        for i, code in enumerate(disabilities):
            if isinstance(code, str) and code not in known:
                out.append(
                    _err("unknown_code", path(base, "disabilities", i), "Select disabilities from the list")
                )
        # CEMO UpdateDeviceWearerDto: "Other" needs saying what it is (OTHER_DISABILITY)
        if "OTHER" in disabilities and text(dw, "other_disability") is None:
            out.append(
                _err(
                    "required",
                    f"{base}.other_disability",
                    "Enter device wearer's disability or health condition",
                )
            )
    formats = (
        ("pnc", PNC_RE, "PNC number must be in the format YYYY/NNNNNNNA, like 2019/0123456A"),
        ("nomis_id", NOMIS_RE, "NOMIS ID must be in the format A1234BC"),
        ("crn", CRN_RE, "CRN must be a letter followed by 6 numbers, like X123456"),
        ("prison_number", PRISON_NUMBER_RE, "Prison number must only include letters and numbers"),
        (
            "home_office_reference",
            HO_REF_RE,
            "Home Office reference must only include letters, numbers, / and -",
        ),
    )
    for key, regex, message in formats:
        value = text(dw, key)
        if value is not None and not regex.match(value.strip().upper()):
            out.append(_err("identifier_format", f"{base}.{key}", message))
    cohort = text(section(doc, "monitoring"), "cohort")
    if cohort == "IMMIGRATION_BAIL" and not text(dw, "home_office_reference"):
        out.append(
            _err(
                "required", f"{base}.home_office_reference", "Enter the device wearer's Home Office reference"
            )
        )
    if cohort == "POST_RELEASE" and not (text(dw, "nomis_id") or text(dw, "prison_number")):
        out.append(
            _err("required", f"{base}.nomis_id", "Enter the device wearer's NOMIS ID or prison number")
        )
    return out


def check_contact_and_adult(doc: Any, ctx: Context) -> list[ValidationError]:
    out: list[ValidationError] = []
    phone = text(section(doc, "contact"), "phone")
    if phone is not None and len(phone) <= 30 and not phone_ok(phone):
        out.append(
            _err(
                "phone_format",
                "contact.phone",
                "Enter a UK phone number, like 07700 900 982 or +44 7700 900 982",
            )
        )
    dw = section(doc, "device_wearer")
    youth = flag(dw, "is_adult") is False or flag(section(doc, "monitoring"), "is_youth") is True
    ra = section(doc, "responsible_adult")
    if youth:
        _required(
            ra, "full_name", "responsible_adult.full_name", "Enter the responsible adult's full name", out
        )
        _required(
            ra,
            "relationship",
            "responsible_adult.relationship",
            "Enter the responsible adult's relationship to the device wearer",
            out,
        )
        _required(ra, "phone", "responsible_adult.phone", "Enter the responsible adult's phone number", out)
    ra_phone = text(ra, "phone")
    if ra_phone is not None and len(ra_phone) <= 30 and not phone_ok(ra_phone):
        out.append(
            _err("phone_format", "responsible_adult.phone", "Enter a UK phone number, like 07700 900 982")
        )
    name = text(ra, "full_name")
    if name is not None and len(name) <= 200 and not NAME_RE.match(name.strip()):
        out.append(
            _err(
                "name_format",
                "responsible_adult.full_name",
                "Full name must only include letters, spaces, hyphens and apostrophes",
            )
        )
    return out


def normalise_postcode(value: str) -> str:
    compact = "".join(value.split()).upper()
    return compact[:-3] + " " + compact[-3:] if len(compact) > 3 else compact


def check_addresses(doc: Any, ctx: Context) -> list[ValidationError]:
    from openem.orders.rules.zones import in_england_wales

    out: list[ValidationError] = []
    addresses = items(doc, "addresses")
    nfa = flag(section(doc, "device_wearer"), "no_fixed_abode") is True
    types = [text(a, "type") for _, a in addresses]
    if "PRIMARY" not in types and not nfa:
        out.append(_err("required", "addresses", "Enter the device wearer's main address"))
    seen: set[str] = set()
    outside = ctx.policy["outside_england_wales_postcode_areas"]
    for i, a in addresses:
        base = path("addresses", i)
        kind = text(a, "type")
        if kind is None:
            out.append(_err("required", f"{base}.type", "Select the type of address"))
        elif kind in seen and kind in ADDRESS_TYPES:
            out.append(
                _err(
                    "duplicate_address_type",
                    f"{base}.type",
                    f"The order already has a {kind.lower()} address",
                )
            )
        if kind:
            seen.add(kind)
        _required(a, "line1", f"{base}.line1", "Enter address line 1, typically the building and street", out)
        _required(a, "town", f"{base}.town", "Enter town or city", out)
        postcode = text(a, "postcode")
        if postcode is None:
            out.append(_err("required", f"{base}.postcode", "Enter postcode"))
        elif len(postcode) <= 10 and POSTCODE_RE.match(normalise_postcode(postcode)):
            area = re.match(r"^[A-Z]+", normalise_postcode(postcode))
            if area and area.group(0) in outside:
                out.append(
                    _err(
                        "postcode_outside_england_wales",
                        f"{base}.postcode",
                        "Postcode must be in England or Wales",
                    )
                )
        else:
            out.append(
                _err(
                    "postcode_format",
                    f"{base}.postcode",
                    "Postcode must be a real UK postcode, like SW1A 1AA",
                )
            )
        lat, lon = a.get("lat"), a.get("lon")
        if isinstance(lat, int | float) and isinstance(lon, int | float) and not isinstance(lat, bool):
            if not in_england_wales(float(lon), float(lat), ctx.policy):
                out.append(
                    _err(
                        "location_outside_england_wales",
                        f"{base}.lat",
                        "The address location must be in England or Wales",
                    )
                )
    return out
