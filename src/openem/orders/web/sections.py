"""The order-entry task list (pure): one page per section, the questions on it, and each task's status
computed from the order's validation errors by field path."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from openem.core import reference
from openem.orders.model import ADDRESS_TYPES, DAYS, GENDERS, INSTALL_LOCATIONS, RISK_LEVELS, SEXES
from openem.orders.rules.base import ValidationError
from openem.orders.web.forms import Field, field_matches, get_path


def _labels(values: tuple[Any, ...]) -> Callable[[], Mapping[str, str]]:
    return lambda: {str(v): str(v).replace("_", " ").capitalize() for v in values}


def _ref(name: str) -> Callable[[], Mapping[str, str]]:
    return lambda: reference.codes(name)


@lru_cache(maxsize=1)
def _organisation_names() -> dict[str, str]:
    merged = dict(reference.all_courts())
    merged.update(reference.codes("prisons"))
    return dict(sorted(merged.items(), key=lambda kv: kv[1]))


ADDRESS_LABELS = {
    "PRIMARY": "Main address",
    "SECONDARY": "Second address",
    "TERTIARY": "Third address",
    "INSTALLATION": "Installation address",
}
ZONE_KINDS = {
    "exclusion_zones": "Exclusion zone",
    "inclusion_zones": "Inclusion zone",
    "restriction_zones": "Restriction zone",  # CEMO's: judged as an exclusion zone (docs/order-validation.md)
}
address_types = _labels(ADDRESS_TYPES)
days = _labels(DAYS)


@dataclasses.dataclass(frozen=True)
class Page:
    slug: str
    title: str
    prefixes: tuple[str, ...]
    fields: Callable[[dict[str, Any]], list[Field]]
    exact: tuple[str, ...] = ()  # error fields owned by this page although no input holds them
    condition: bool = False  # needs the monitoring details first
    optional: bool = False


def _static(*fields: Field) -> Callable[[dict[str, Any]], list[Field]]:
    return lambda doc: list(fields)


def address_fields(doc: dict[str, Any]) -> list[Field]:
    existing = get_path(doc, "addresses")
    existing = [a for a in existing if isinstance(a, dict)] if isinstance(existing, list) else []
    types = [a.get("type") for a in existing]
    count = len(existing) + sum(1 for t in ADDRESS_TYPES if t not in types)
    out = []
    for i in range(min(count, 8)):
        base = f"addresses[{i}]"
        out += [
            Field(f"{base}.type", "Type of address", "select", address_types),
            Field(f"{base}.line1", "Address line 1"),
            Field(f"{base}.line2", "Address line 2 (optional)"),
            Field(f"{base}.town", "Town or city", width="govuk-!-width-two-thirds"),
            Field(f"{base}.county", "County (optional)", width="govuk-!-width-two-thirds"),
            Field(f"{base}.postcode", "Postcode", width="govuk-input--width-10"),
        ]
    return out


def curfew_fields(doc: dict[str, Any]) -> list[Field]:
    base = "conditions.curfew"
    out = [
        Field(f"{base}.start", "Curfew start", "instant"),
        Field(f"{base}.end", "Curfew end", "instant"),
        Field(f"{base}.release_date", "Release date (optional)", "date", hint="For example, 27 3 2027"),
        Field(f"{base}.release_day.start", "Release day curfew starts", "time"),
        Field(f"{base}.release_day.end", "Release day curfew ends", "time"),
        Field(f"{base}.release_day.address_type", "Release day curfew address", "select", address_types),
        Field(
            f"{base}.grace_minutes", "Grace period in minutes (optional)", "int", width="govuk-input--width-3"
        ),
    ]
    assert len(out) == CURFEW_STATIC_FIELDS
    return out + slot_fields(len(timetable(doc)))


#: the curfew page's questions before the timetable slots (the editor template and the form reader split there)
CURFEW_STATIC_FIELDS = 7


def slot_fields(count: int) -> list[Field]:
    out = []
    for i in range(min(count, 56)):
        base = f"conditions.curfew.timetable[{i}]"
        out += [
            Field(f"{base}.day", "Day", "select", days),
            Field(f"{base}.start", "Start", "time"),
            Field(f"{base}.end", "End", "time"),
            Field(f"{base}.address_type", "Address", "select", address_types),
        ]
    return out


def repeated_fields(doc: dict[str, Any], path: str, questions: Callable[[str], list[Field]]) -> list[Field]:
    """The questions of every item of the list at `path` and of one blank item to add (a blank one is not
    saved; blanking an item removes it)."""
    existing = get_path(doc, path)
    count = len(existing) if isinstance(existing, list) else 0
    return [f for i in range(min(count + 1, 50)) for f in questions(f"{path}[{i}]")]


def attendance_fields(doc: dict[str, Any]) -> list[Field]:
    """Every appointment on the order and one blank one to add."""
    return repeated_fields(
        doc,
        "conditions.attendance",
        lambda base: [
            Field(f"{base}.name", "Name of the appointment"),
            Field(f"{base}.lat", "Latitude", "number", width="govuk-input--width-10"),
            Field(f"{base}.lon", "Longitude", "number", width="govuk-input--width-10"),
            Field(f"{base}.radius_m", "Radius in metres", "number", width="govuk-input--width-5"),
            Field(f"{base}.start", "Appointment starts", "instant"),
            Field(f"{base}.end", "Appointment ends", "instant"),
        ],
    )


def dapo_relevant(doc: dict[str, Any]) -> bool:
    """DAPO clauses are asked of a family court (as CEMO asks them, in place of offences) and of an order under
    the Domestic Abuse Protection Order scheme, and shown whenever the order has some."""
    return (
        get_path(doc, "interested_parties.notifying_organisation") == "FAMILY_COURT"
        or get_path(doc, "monitoring.scheme") == "DOMESTIC_ABUSE_PROTECTION_ORDER"
        or bool(get_path(doc, "monitoring.dapo_clauses"))
    )


def dapo_fields(doc: dict[str, Any]) -> list[Field]:
    """Every DAPO clause on the order and one blank one to add."""
    return repeated_fields(
        doc,
        "monitoring.dapo_clauses",
        lambda base: [
            Field(
                f"{base}.clause",
                "Clause number",
                hint="As the order numbers it, for example 3(a)",
                width="govuk-input--width-10",
            ),
            Field(f"{base}.date", "Date the clause was made", "date", hint="For example, 27 3 2026"),
        ],
    )


#: pages whose questions repeat per item: slug -> (questions per item, legend)
REPEATED = {"addresses": (6, "Address"), "attendance": (6, "Appointment"), "dapo-clauses": (2, "DAPO clause")}
#: tasks left off the task list when they do not apply to the order
HIDDEN_UNLESS_NEEDED = ("dapo-clauses", "variation")


def timetable(doc: dict[str, Any]) -> list[dict[str, Any]]:
    value = get_path(doc, "conditions.curfew.timetable")
    return [s for s in value if isinstance(s, dict)] if isinstance(value, list) else []


PAGES: tuple[Page, ...] = (
    Page(
        "device-wearer",
        "About the device wearer",
        ("device_wearer",),
        _static(
            Field("device_wearer.first_name", "First name"),
            Field("device_wearer.middle_name", "Middle names (optional)"),
            Field("device_wearer.last_name", "Last name"),
            Field("device_wearer.aliases", "Other names (optional)", "lines", hint="One name on each line"),
            Field("device_wearer.date_of_birth", "Date of birth", "date", hint="For example, 27 3 1990"),
            Field("device_wearer.is_adult", "Is the device wearer an adult?", "yesno"),
            Field("device_wearer.sex", "Sex", "radios", _labels(SEXES)),
            Field("device_wearer.gender", "Gender", "radios", _labels(GENDERS)),
            Field(
                "device_wearer.pnc",
                "Police National Computer (PNC) ID (optional)",
                width="govuk-input--width-20",
            ),
            Field("device_wearer.nomis_id", "NOMIS ID (optional)", width="govuk-input--width-10"),
            Field(
                "device_wearer.crn", "Case reference number (CRN) (optional)", width="govuk-input--width-10"
            ),
            Field("device_wearer.prison_number", "Prison number (optional)", width="govuk-input--width-10"),
            Field(
                "device_wearer.home_office_reference",
                "Home Office reference (optional)",
                width="govuk-input--width-20",
            ),
            Field("device_wearer.language", "Main language (optional)", width="govuk-input--width-20"),
            Field("device_wearer.interpreter_required", "Is an interpreter needed?", "yesno"),
            Field(
                "device_wearer.disabilities", "Disabilities (optional)", "checkboxes", _ref("disabilities")
            ),
            Field(
                "device_wearer.other_disability",
                "If the disability or health condition is not listed, what is it? (optional)",
            ),
            Field("device_wearer.no_fixed_abode", "Does the device wearer have no fixed address?", "yesno"),
        ),
    ),
    Page(
        "responsible-adult",
        "Responsible adult",
        ("responsible_adult",),
        _static(
            Field("responsible_adult.full_name", "Full name"),
            Field("responsible_adult.relationship", "Relationship to the device wearer"),
            Field("responsible_adult.phone", "Phone number", "tel", width="govuk-input--width-20"),
        ),
    ),
    Page(
        "contact",
        "Contact details",
        ("contact",),
        _static(
            Field(
                "contact.phone",
                "Device wearer's phone number (optional)",
                "tel",
                width="govuk-input--width-20",
            ),
        ),
    ),
    Page("addresses", "Addresses", ("addresses",), address_fields),
    Page(
        "interested-parties",
        "Interested parties",
        ("interested_parties",),
        _static(
            Field(
                "interested_parties.notifying_organisation",
                "Organisation you are part of",
                "select",
                _ref("notifying_organisations"),
            ),
            Field(
                "interested_parties.notifying_organisation_name",
                "Name of the court or prison",
                "select",
                _organisation_names,
            ),
            Field("interested_parties.notifying_team_email", "Your team's email address", "email"),
            Field(
                "interested_parties.responsible_organisation",
                "Responsible organisation",
                "select",
                _ref("responsible_organisations"),
            ),
            Field(
                "interested_parties.probation_region", "Probation region", "select", _ref("probation_regions")
            ),
            Field(
                "interested_parties.delivery_unit",
                "Probation delivery unit",
                "select",
                _ref("probation_delivery_units"),
            ),
            Field("interested_parties.police_area", "Police force area", "select", _ref("police_areas")),
            Field(
                "interested_parties.youth_justice_region",
                "Youth Justice Service region",
                "select",
                _ref("youth_justice_service_regions"),
            ),
            Field("interested_parties.responsible_officer_name", "Responsible officer's full name"),
            Field(
                "interested_parties.responsible_officer_phone",
                "Responsible officer's phone number (optional)",
                "tel",
                width="govuk-input--width-20",
            ),
            Field(
                "interested_parties.responsible_officer_email", "Responsible officer's email address", "email"
            ),
            Field(
                "interested_parties.responsible_organisation_email",
                "Responsible organisation's email address (optional)",
                "email",
            ),
        ),
    ),
    Page(
        "offence-risk",
        "Offence and risk",
        ("offence_risk",),
        _static(
            Field("offence_risk.offence_category", "Offence category", "select", _ref("offence_categories")),
            Field(
                "offence_risk.risk_categories",
                "Risk categories (optional)",
                "checkboxes",
                _ref("risk_categories"),
            ),
            Field("offence_risk.risk_level", "Risk level", "select", _labels(RISK_LEVELS)),
            Field(
                "offence_risk.mappa_level",
                "MAPPA level (optional)",
                "select",
                lambda: {"1": "1", "2": "2", "3": "3"},
                cast="int",
            ),
            Field("offence_risk.specials", "Is this a special case?", "yesno"),
            Field("offence_risk.details", "Details (optional)", "textarea"),
        ),
    ),
    Page(
        "dapo-clauses",
        "Domestic Abuse Protection Order (DAPO) clauses",
        ("monitoring.dapo_clauses",),
        dapo_fields,
        optional=True,
    ),
    Page(
        "monitoring",
        "Monitoring conditions",
        ("monitoring",),
        _static(
            Field(
                "monitoring.cohort",
                "Type of order the device wearer is on",
                "radios",
                _labels(("POST_RELEASE", "COURT_BAIL", "IMMIGRATION_BAIL", "COURT_SENTENCE", "SPECIALS")),
            ),
            Field("monitoring.order_type", "Order type", "select", _ref("order_types")),
            Field(
                "monitoring.condition_type", "Condition type (optional)", "select", _ref("condition_types")
            ),
            Field("monitoring.sentence_type", "Sentence type (optional)", "select", _ref("sentence_types")),
            Field("monitoring.scheme", "Scheme or pilot (optional)", "select", _ref("schemes")),
            Field("monitoring.hdc", "Released on Home Detention Curfew?", "yesno"),
            Field("monitoring.is_youth", "Is this a youth order?", "yesno"),
            Field("monitoring.start", "Monitoring starts", "instant"),
            Field("monitoring.end", "Monitoring ends", "instant"),
        ),
    ),
    Page("curfew", "Curfew", ("conditions.curfew",), curfew_fields, condition=True, optional=True),
    Page(
        "zones",
        "Exclusion, inclusion and restriction zones",
        (
            "conditions.exclusion_zones",
            "conditions.inclusion_zones",
            "conditions.restriction_zones",
            "conditions.zones_to_draw",
        ),
        lambda doc: [],
        condition=True,
        optional=True,
    ),
    Page(
        "trail",
        "Trail monitoring",
        ("conditions.trail",),
        _static(
            Field("conditions.trail.start", "Trail monitoring starts", "instant"),
            Field("conditions.trail.end", "Trail monitoring ends", "instant"),
        ),
        condition=True,
        optional=True,
    ),
    Page(
        "attendance",
        "Attendance appointments",
        ("conditions.attendance",),
        lambda doc: attendance_fields(doc),
        condition=True,
        optional=True,
    ),
    Page(
        "alcohol",
        "Alcohol monitoring",
        ("conditions.alcohol",),
        _static(
            Field(
                "conditions.alcohol.mode",
                "Type of alcohol monitoring",
                "radios",
                lambda: {"ABSTINENCE": "Abstinence", "LIMIT": "Limit"},
            ),
            Field("conditions.alcohol.start", "Alcohol monitoring starts", "instant"),
            Field("conditions.alcohol.end", "Alcohol monitoring ends", "instant"),
        ),
        condition=True,
        optional=True,
    ),
    Page(
        "installation",
        "Installation",
        ("installation",),
        _static(
            Field(
                "installation.location",
                "Where will the device be installed?",
                "radios",
                _labels(INSTALL_LOCATIONS),
            ),
            Field("installation.appointment", "Installation appointment", "instant"),
            Field("installation.place_name", "Where, for the fitter (optional)", hint="For example, Gate 2"),
        ),
    ),
    Page(
        "variation",
        "What the variation changes",
        ("variation",),
        _static(
            Field("variation.type", "What is changing?", "select", _ref("variation_types")),
            Field("variation.date", "Date the change applies from", "date", hint="For example, 27 3 2027"),
            Field("variation.details", "Details of the change (optional)", "textarea"),
        ),
        optional=True,
    ),
)
BY_SLUG = {p.slug: p for p in PAGES}
CONDITIONS_GROUP = "Monitoring"  # the task list's group holding the monitoring conditions (one is required)
GROUPS = (
    ("About the device wearer", ("device-wearer", "responsible-adult", "contact", "addresses")),
    ("Who is involved", ("interested-parties", "offence-risk", "dapo-clauses")),
    (CONDITIONS_GROUP, ("monitoring", "curfew", "zones", "trail", "attendance", "alcohol", "installation")),
    ("The variation", ("variation",)),
)


def page_for(field: str) -> Page | None:
    """The page asking for `field`: the one whose prefix matches it most closely (the DAPO clauses' page owns
    `monitoring.dapo_clauses`, the monitoring page the rest of `monitoring`)."""
    best: tuple[int, Page] | None = None
    for page in PAGES:
        if field in page.exact:
            return page
        for p in page.prefixes:
            if field_matches(field, p) and (best is None or len(p) > best[0]):
                best = (len(p), page)
    return best[1] if best else None


ITEM_NOUNS = {"timetable": "slot", "addresses": "address", "exclusion_zones": "exclusion zone",
              "inclusion_zones": "inclusion zone", "restriction_zones": "restriction zone", "attendance": "appointment", "aliases": "name",
              "dapo_clauses": "DAPO clause"}  # fmt: skip


def question_for(doc: dict[str, Any], field: str) -> str:
    """The words a person saw for a changed field: "Section: question, item n" (the section and the item
    when no single question holds the field, e.g. a whole zone or an added timetable slot)."""
    page = page_for(field)
    if page is None:
        return field
    item = re.findall(r"([a-z_]+)\[(\d+)\]", field)
    where = f"{ITEM_NOUNS.get(item[-1][0], 'item')} {int(item[-1][1]) + 1}" if item else ""
    label = ""
    for f in page.fields(doc):
        if f.path == field:
            label = f.label.removesuffix(" (optional)")
            break
    if not label:
        label = re.sub(r"\[\d+\]$", "", field.rsplit(".", 1)[-1]).replace("_", " ")
        if item and field.endswith("]"):
            return f"{page.title}: {where}"
    return f"{page.title}: {label}" + (f", {where}" if where else "")


def page_errors(page: Page, errors: list[ValidationError]) -> list[ValidationError]:
    return [e for e in errors if page_for(e.field) is page]


def status(page: Page, doc: dict[str, Any], errors: list[ValidationError]) -> str:
    """Completed / Incomplete / Not yet started / Cannot start yet / Optional / Not needed."""
    is_adult = get_path(doc, "device_wearer.is_adult")
    if page.slug == "responsible-adult":
        if is_adult is None:
            return "Cannot start yet"
        if is_adult is True and not page_errors(page, errors):
            return "Not needed"
    if page.slug == "variation" and get_path(doc, "request_type") in (None, "NEW"):
        return "Not needed"
    if page.slug == "dapo-clauses" and not dapo_relevant(doc) and not page_errors(page, errors):
        return "Not needed"
    if page.condition and not get_path(doc, "monitoring.cohort"):
        return "Cannot start yet"
    if page_errors(page, errors):
        return "Incomplete"
    has_content = any(get_path(doc, p) not in (None, [], {}) for p in page.prefixes)
    if not has_content:  # nothing the person gave: not "Completed" just because nothing is missing
        return "Optional" if page.optional else "Not yet started"
    return "Completed"
