"""The order document (docs/order-format.md) as pydantic models, plus request types and statuses.

Every section and field is optional so that a draft can be saved half-filled; completeness is a rule, not a
type. The models guard the *shape* of hostile input: maximum lengths, no control characters (reported, never
stripped silently), no unknown fields, finite numbers, bounded list sizes. Dates and instants stay strings
here so that the rules can say precisely what is wrong with them.
"""

from __future__ import annotations

import enum
import unicodedata
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError


class RequestType(enum.StrEnum):
    NEW = "NEW"
    VARIATION = "VARIATION"
    AMEND_REJECTED = "AMEND_REJECTED"
    REINSTALL = "REINSTALL"
    REVOCATION = "REVOCATION"
    END_MONITORING = "END_MONITORING"


class OrderStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    ACTIVE = "ACTIVE"
    ENDED = "ENDED"
    SUSPENDED = "SUSPENDED"  # an active order whose monitoring is paused (reason, from, planned resume, who)
    SUPERSEDED = "SUPERSEDED"  # an accepted/active version replaced by an accepted variation


ADDRESS_TYPES = ("PRIMARY", "SECONDARY", "TERTIARY", "INSTALLATION")
COHORTS = ("POST_RELEASE", "COURT_BAIL", "IMMIGRATION_BAIL", "COURT_SENTENCE", "SPECIALS")
DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
SEXES = ("MALE", "FEMALE", "PREFER_NOT_TO_SAY", "UNKNOWN")
# CEMO's gender codes (API enum Gender) plus openem's older NOT_ABLE_TO_PROVIDE and UNKNOWN, kept for stored orders.
GENDERS = (
    "MALE",
    "FEMALE",
    "NON_BINARY",
    "NOT_ABLE_TO_PROVIDE_THIS_INFORMATION",
    "NOT_ABLE_TO_PROVIDE",
    "PREFER_TO_SELF_DESCRIBE",
    "UNKNOWN",
)
RISK_LEVELS = ("LOW", "MEDIUM", "HIGH", "VERY_HIGH")
MAPPA_LEVELS = (1, 2, 3)
# HOME and COURT are openem's; INSTALLATION ("at another address"), IMMIGRATION_REMOVAL_CENTRE and
# INSTALLATION_ALREADY_TAKEN_PLACE are CEMO's (API enum InstallationLocationType).
INSTALL_LOCATIONS = (
    "HOME",
    "PRISON",
    "COURT",
    "PROBATION_OFFICE",
    "INSTALLATION",
    "IMMIGRATION_REMOVAL_CENTRE",
    "INSTALLATION_ALREADY_TAKEN_PLACE",
)
ALCOHOL_MODES = ("ABSTINENCE", "LIMIT")

MAX_LIST = 50  # addresses, aliases, zones, slots...
MAX_VERTICES = 2000


def _no_control_characters(value: str) -> str:
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise PydanticCustomError("control_characters", "contains control characters")
    return value


def _no_control_except_newlines(value: str) -> str:
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in value):
        raise PydanticCustomError("control_characters", "contains control characters")
    return value


# 200, as CEMO allows (UpdateDeviceWearerDto, UpdateInterestedPartiesDto)
Name = Annotated[str, StringConstraints(max_length=200), AfterValidator(_no_control_characters)]
Text = Annotated[str, StringConstraints(max_length=200), AfterValidator(_no_control_characters)]
Code = Annotated[str, StringConstraints(max_length=100), AfterValidator(_no_control_characters)]
Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(_no_control_characters)]
Phone = Annotated[str, StringConstraints(max_length=30), AfterValidator(_no_control_characters)]
Instant = Annotated[
    str,
    StringConstraints(max_length=40),
    AfterValidator(_no_control_characters),
    Field(json_schema_extra={"format": "date-time"}),
]
Day = Annotated[
    str,
    StringConstraints(max_length=20),
    AfterValidator(_no_control_characters),
    Field(json_schema_extra={"format": "date"}),
]
WallTime = Annotated[str, StringConstraints(max_length=8), AfterValidator(_no_control_characters)]
Note = Annotated[str, StringConstraints(max_length=4000), AfterValidator(_no_control_except_newlines)]
Lat = Annotated[float, Field(allow_inf_nan=False)]
Lon = Annotated[float, Field(allow_inf_nan=False)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False, str_strip_whitespace=False)


class DeviceWearer(_Section):
    first_name: Name | None = None
    middle_name: Name | None = None
    last_name: Name | None = None
    aliases: list[Name] | None = Field(default=None, max_length=MAX_LIST)
    date_of_birth: Day | None = None
    is_adult: bool | None = None
    sex: Code | None = None
    gender: Code | None = None
    pnc: Code | None = None
    nomis_id: Code | None = None
    crn: Code | None = None
    prison_number: Code | None = None
    home_office_reference: Code | None = None
    language: Text | None = None
    interpreter_required: bool | None = None
    disabilities: list[Code] | None = Field(default=None, max_length=MAX_LIST)
    #: what the disability is, when it is not listed (disability OTHER; CEMO otherDisability)
    other_disability: Text | None = None
    no_fixed_abode: bool | None = None


class ResponsibleAdult(_Section):
    full_name: Name | None = None
    relationship: Text | None = None
    phone: Phone | None = None


class Contact(_Section):
    phone: Phone | None = None


class Address(_Section):
    type: Literal["PRIMARY", "SECONDARY", "TERTIARY", "INSTALLATION"] | None = None
    line1: Text | None = None
    line2: Text | None = None
    town: Text | None = None
    county: Text | None = None
    postcode: Code | None = None
    lat: Lat | None = None
    lon: Lon | None = None


class InterestedParties(_Section):
    notifying_organisation: Code | None = None
    notifying_organisation_name: Code | None = None
    notifying_team_email: Email | None = None
    responsible_organisation: Code | None = None
    probation_region: Code | None = None
    delivery_unit: Code | None = None
    police_area: Code | None = None
    responsible_officer_name: Name | None = None
    responsible_officer_phone: Phone | None = None
    #: region of the Youth Justice Service, when it is responsible (CEMO reference youthJusticeServiceRegions)
    youth_justice_region: Code | None = None
    responsible_officer_email: Email | None = None
    #: the responsible organisation's own email (CEMO responsibleOrganisationEmail, the supplier's ro_email)
    responsible_organisation_email: Email | None = None


class OffenceRisk(_Section):
    offence_category: Code | None = None
    risk_categories: list[Code] | None = Field(default=None, max_length=MAX_LIST)
    risk_level: Code | None = None
    mappa_level: int | None = None
    specials: bool | None = None
    details: Note | None = None


class DapoClause(_Section):
    """A clause of a Domestic Abuse Protection Order, and the date it was made."""

    clause: Text | None = None
    date: Day | None = None


class Monitoring(_Section):
    cohort: Literal["POST_RELEASE", "COURT_BAIL", "IMMIGRATION_BAIL", "COURT_SENTENCE", "SPECIALS"] | None = (
        None
    )
    order_type: Code | None = None
    condition_type: Code | None = None
    sentence_type: Code | None = None
    scheme: Code | None = None
    #: released on Home Detention Curfew (openem extension: selects the HDC curfew bounds)
    hdc: bool | None = None
    is_youth: bool | None = None
    start: Instant | None = None
    end: Instant | None = None
    dapo_clauses: list[DapoClause] | None = Field(default=None, max_length=MAX_LIST)


class CurfewSlot(_Section):
    day: Literal["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"] | None = None
    start: WallTime | None = None
    end: WallTime | None = None
    address_type: Code | None = None
    #: further curfew addresses for the same slot (CEMO: a timetable row at PRIMARY_ADDRESS,SECONDARY_ADDRESS)
    address_types: list[Code] | None = Field(default=None, max_length=3)


class ReleaseDay(_Section):
    start: WallTime | None = None
    end: WallTime | None = None
    address_type: Code | None = None


class Curfew(_Section):
    start: Instant | None = None
    end: Instant | None = None
    #: the day the wearer is released (CEMO curfewReleaseDateConditions.releaseDate)
    release_date: Day | None = None
    release_day: ReleaseDay | None = None
    timetable: list[CurfewSlot] | None = Field(default=None, max_length=7 * 8)
    grace_minutes: int | None = Field(default=None, ge=0, le=120)


class ScheduleSlot(_Section):
    day: Literal["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"] | None = None
    start: WallTime | None = None
    end: WallTime | None = None


class Geometry(_Section):
    type: Literal["Polygon"] | None = None
    coordinates: list[list[list[Annotated[float, Field(allow_inf_nan=False)]]]] | None = Field(
        default=None, max_length=20
    )


class Zone(_Section):
    id: Code | None = None
    name: Text | None = None
    description: Note | None = None
    duration: Text | None = None
    geometry: Geometry | None = None
    #: why a zone larger than the plausible size (policy `zone_plausible_km2`) is right for this order
    size_override_reason: Note | None = None
    start: Instant | None = None
    end: Instant | None = None
    schedule: list[ScheduleSlot] | None = Field(default=None, max_length=7 * 8)


class ZoneToDraw(Zone):
    """A zone given as a map file (CEMO fileId), not yet drawn: carried to the supplier, not judged by the
    engine until it is drawn and moved to its zone list (flag `zone_not_drawn`)."""

    kind: Literal["EXCLUSION", "INCLUSION", "RESTRICTION"] | None = None
    map_file: Text | None = None


class Trail(_Section):
    start: Instant | None = None
    end: Instant | None = None


class Attendance(_Section):
    id: Code | None = None
    name: Text | None = None
    lat: Lat | None = None
    lon: Lon | None = None
    radius_m: float | None = Field(default=None, gt=0, le=5000, allow_inf_nan=False)
    start: Instant | None = None
    end: Instant | None = None


class Alcohol(_Section):
    mode: Literal["ABSTINENCE", "LIMIT"] | None = None
    start: Instant | None = None
    end: Instant | None = None
    #: LIMIT orders: the level (g/dl) above which drinking is reported (read by the monitoring engine)
    limit_gdl: float | None = Field(default=None, ge=0.0, le=0.5, allow_inf_nan=False)
    #: planned reviews (instants); alcohol monitoring on licence is reviewed at least every 3 months
    review_dates: list[Instant] | None = Field(default=None, max_length=MAX_LIST)


class Proximity(_Section):
    victim_device_id: Code | None = None
    pre_alert_m: float | None = Field(default=None, gt=0, le=20_000, allow_inf_nan=False)
    alert_m: float | None = Field(default=None, gt=0, le=20_000, allow_inf_nan=False)


class Conditions(_Section):
    curfew: Curfew | None = None
    exclusion_zones: list[Zone] | None = Field(default=None, max_length=MAX_LIST)
    inclusion_zones: list[Zone] | None = Field(default=None, max_length=MAX_LIST)
    #: CEMO's restriction zones (EnforcementZoneType.RESTRICTION): places the wearer must not be, judged by the
    #: engine as exclusion zones and sent to the supplier as restriction zones
    restriction_zones: list[Zone] | None = Field(default=None, max_length=MAX_LIST)
    #: zones given as map files, waiting to be drawn (the engine reads only the drawn lists above)
    zones_to_draw: list[ZoneToDraw] | None = Field(default=None, max_length=MAX_LIST)
    trail: Trail | None = None
    attendance: list[Attendance] | None = Field(default=None, max_length=MAX_LIST)
    alcohol: Alcohol | None = None
    proximity: Proximity | None = None


class Installation(_Section):
    location: (
        Literal[
            "HOME",
            "PRISON",
            "COURT",
            "PROBATION_OFFICE",
            "INSTALLATION",
            "IMMIGRATION_REMOVAL_CENTRE",
            "INSTALLATION_ALREADY_TAKEN_PLACE",
        ]
        | None
    ) = None
    appointment: Instant | None = None
    #: where, in words, for the fitter (CEMO installationAppointment.placeName)
    place_name: Text | None = None


class Variation(_Section):
    """Why a variation was made and from when (CEMO variationDetails)."""

    type: Code | None = None
    date: Day | None = None
    details: Note | None = None


class Acknowledgement(_Section):
    """A flag someone checked (rules/acknowledge.py): its code and field, a fingerprint of the flagged value,
    who (USER at submit, CEMO_IMPORT when CEMO had accepted the order)."""

    code: Code | None = None
    field: Code | None = None
    value: Code | None = None
    source: Literal["USER", "CEMO_IMPORT"] | None = None
    note: Text | None = None


class Order(_Section):
    """One version of an EM order (docs/order-format.md)."""

    ref: Code | None = None
    version: int | None = Field(default=None, ge=1, le=10_000)
    request_type: RequestType | None = None
    person_id: Code | None = None
    device_wearer: DeviceWearer | None = None
    responsible_adult: ResponsibleAdult | None = None
    contact: Contact | None = None
    addresses: list[Address] | None = Field(default=None, max_length=MAX_LIST)
    interested_parties: InterestedParties | None = None
    offence_risk: OffenceRisk | None = None
    monitoring: Monitoring | None = None
    conditions: Conditions | None = None
    installation: Installation | None = None
    variation: Variation | None = None
    #: per-order overrides of the engine's rule thresholds ({"curfew": {"grace_minutes": 3}}), bounded by
    #: policy `order_thresholds` (rules/thresholds.py)
    thresholds: dict[Code, dict[Code, Annotated[float, Field(allow_inf_nan=False)]]] | None = Field(
        default=None, max_length=20
    )
    #: set by the platform, not by the creator: the suspensions of an active order, oldest first, each
    #: {"reason", "from", "until" (planned resume, optional), "by", "resumed_at", "resumed_by"}
    suspensions: list[dict[Code, Note | None]] | None = Field(default=None, max_length=200)
    #: flags of openem's stricter rules that were checked and accepted (rules/acknowledge.py)
    acknowledgements: list[Acknowledgement] | None = Field(default=None, max_length=200)
    #: labelled injected defects in a simulated corpus (docs/world-format.md); ignored by validation
    defects: list[Code] | None = Field(default=None, max_length=MAX_LIST)


SECTIONS: dict[str, type[BaseModel]] = {
    "device_wearer": DeviceWearer,
    "responsible_adult": ResponsibleAdult,
    "contact": Contact,
    "interested_parties": InterestedParties,
    "offence_risk": OffenceRisk,
    "monitoring": Monitoring,
    "conditions": Conditions,
    "installation": Installation,
    "variation": Variation,
}
LIST_SECTIONS: dict[str, type[BaseModel]] = {"addresses": Address}
