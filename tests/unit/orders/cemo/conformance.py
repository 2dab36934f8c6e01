"""The CEMO conformance corpus: orders CEMO accepts and orders CEMO refuses, as changes to a valid openem order.

Written from the rules in ministryofjustice/hmpps-electronic-monitoring-create-an-order-api at commit
9c698f783d2aa7490f42c093e75e51b1e4a2c474 (DTO annotations in models/dto/, ValidationErrors.kt, the submit-time
check OrderVersion.isValid, the enums) and the UI's reference lists at aceb623c. Each case names its CEMO rule.
A refusal names the openem field that must carry an error, or `DIFFERENCE:<anchor>`: a deliberate difference
documented under that anchor in docs/order-validation.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Doc = dict[str, Any]


@dataclass(frozen=True)
class Case:
    name: str
    cemo_rule: str  # where CEMO says so
    change: Callable[[Doc], None]
    expect: str = ""  # refusals: the openem field with an error, or DIFFERENCE:<anchor>


def _set(path: str, value: Any) -> Callable[[Doc], None]:
    def apply(doc: Doc) -> None:
        *parents, leaf = path.split(".")
        node = doc
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        node[leaf] = value

    return apply


def _all(*changes: Callable[[Doc], None]) -> Callable[[Doc], None]:
    def apply(doc: Doc) -> None:
        for change in changes:
            change(doc)

    return apply


def _drop_conditions_but(keep: str) -> Callable[[Doc], None]:
    def apply(doc: Doc) -> None:
        for key in list(doc["conditions"]):
            if key != keep:
                doc["conditions"][key] = None

    return apply


_YJS = _all(
    _set("device_wearer.is_adult", False),
    _set("device_wearer.date_of_birth", "2011-05-01"),
    _set("monitoring.is_youth", True),
    _set("conditions.alcohol", None),  # openem's own rule: no alcohol monitoring for a child
    _set(
        "responsible_adult",
        {"full_name": "Sam Parent", "relationship": "Parent", "phone": "07700 900111"},
    ),
    _set("interested_parties.responsible_organisation", "YJS"),
    _set("interested_parties.probation_region", None),
    _set("interested_parties.delivery_unit", None),
    _set("interested_parties.youth_justice_region", "LONDON"),
)

CEMO_VALID: tuple[Case, ...] = (
    Case("the base order", "OrderVersion.isValid", lambda d: None),
    Case(
        "condition type: community order",
        "enum MonitoringConditionType",
        _set("monitoring.condition_type", "REQUIREMENT_OF_A_COMMUNITY_ORDER"),
    ),
    Case(
        "possible risk: threats of violence",
        "UI possibleRisks.ts; enum RiskCategory",
        _set("offence_risk.risk_categories", ["THREATS_OF_VIOLENCE", "RISK_TO_GENDER"]),
    ),
    Case(
        "possible risk: no risk",
        "UI possibleRisks.ts; enum RiskCategory",
        _set("offence_risk.risk_categories", ["NO_RISK"]),
    ),
    Case(
        "risk: safeguarding issue",
        "UI riskCategories.ts; enum RiskCategory",
        _set("offence_risk.risk_categories", ["SAFEGUARDING_ISSUE"]),
    ),
    Case(
        "London delivery unit Hammersmith ... Westminster",
        "UI ddv7/probationRegionDeliveryUnits.ts",
        _all(
            _set("interested_parties.probation_region", "LONDON"),
            _set("interested_parties.delivery_unit", "HAMMERSMITH_FULHAM_KENSINGTON_CHELSEA_AND_WESTMINSTER"),
        ),
    ),
    Case(
        "ddv6 delivery unit Tameside",
        "UI ddv6/probationRegionDeliveryUnits.ts",
        _all(
            _set("interested_parties.probation_region", "GREATER_MANCHESTER"),
            _set("interested_parties.delivery_unit", "TAMESIDE"),
        ),
    ),
    Case(
        "gender: not able to provide this information",
        "enum Gender; UI gender.ts",
        _set("device_wearer.gender", "NOT_ABLE_TO_PROVIDE_THIS_INFORMATION"),
    ),
    Case(
        "disability: skin condition",
        "enum Disability",
        _set("device_wearer.disabilities", ["SKIN_CONDITION", "LEARNING_UNDERSTANDING_CONCENTRATING"]),
    ),
    Case(
        "notified by Millsike prison",
        "enum Prison; UI prisons.ts",
        _all(
            _set("interested_parties.notifying_organisation", "PRISON"),
            _set("interested_parties.notifying_organisation_name", "MILLSIKE_PRISON"),
        ),
    ),
    Case(
        "notified by Worthing magistrates",
        "enum MagistrateCourtDDv5",
        _all(
            _set("interested_parties.notifying_organisation", "MAGISTRATES_COURT"),
            _set("interested_parties.notifying_organisation_name", "WORTHING_MAGISTRATE_COURT"),
        ),
    ),
    Case(
        "family court with no court named",
        "UpdateInterestedPartiesDto.isNotifyingOrganisationName",
        _all(
            _set("interested_parties.notifying_organisation", "FAMILY_COURT"),
            _set("interested_parties.notifying_organisation_name", None),
        ),
    ),
    Case(
        "installed at an immigration removal centre",
        "enum InstallationLocationType",
        _set("installation", {"location": "IMMIGRATION_REMOVAL_CENTRE"}),
    ),
    Case(
        "installation already taken place",
        "enum InstallationLocationType",
        _set("installation", {"location": "INSTALLATION_ALREADY_TAKEN_PLACE"}),
    ),
    Case(
        "a first name of 150 letters",
        "UpdateDeviceWearerDto firstName max 200",
        _set("device_wearer.first_name", "A" * 150),
    ),
    Case("a middle name", "UpdateDeviceWearerDto middleName", _set("device_wearer.middle_name", "Alex")),
    Case("an address with a county", "UpdateAddressDto addressLine4", _set("addresses.0.county", "Norfolk")),
    Case(
        "an international contact number",
        "ValidPhoneNumber (libphonenumber, any country with +)",
        _set("contact.phone", "+33 1 42 68 53 00"),
    ),
    Case(
        "a responsible officer's phone",
        "UpdateInterestedPartiesDto responsibleOfficerPhoneNumber",
        _set("interested_parties.responsible_officer_phone", "01632 960 001"),
    ),
    Case(
        "youth justice service with its region",
        "UpdateInterestedPartiesDto.isResponsibleOrganisationRegion",
        _YJS,
    ),
    Case(
        "a curfew release date",
        "UpdateCurfewReleaseDateConditionsDto",
        _set("conditions.curfew.release_date", "2026-11-23"),
    ),
    Case(
        "a zone with a description and duration",
        "UpdateEnforcementZoneDto",
        _all(
            _set("conditions.exclusion_zones.0.description", "The town centre inside the ring road"),
            _set("conditions.exclusion_zones.0.duration", "For the whole order"),
        ),
    ),
    Case(
        "scheme DAPOL HDC",
        "UI pilots.ts",
        _set("monitoring.scheme", "DOMESTIC_ABUSE_PERPETRATOR_ON_LICENCE_HOME_DETENTION_CURFEW_DAPOL_HDC"),
    ),
)


def _no_fixed_abode_unanswered(doc: Doc) -> None:
    doc["device_wearer"]["no_fixed_abode"] = None


CEMO_REFUSED: tuple[Case, ...] = (
    Case(
        "no first name",
        "DeviceWearer.FIRST_NAME_REQUIRED",
        _set("device_wearer.first_name", ""),
        "device_wearer.first_name",
    ),
    Case(
        "a first name of 201 letters",
        "DeviceWearer.FIRST_NAME_MAX_LENGTH",
        _set("device_wearer.first_name", "A" * 201),
        "device_wearer.first_name",
    ),
    Case(
        "a middle name of 201 letters",
        "DeviceWearer.MIDDLE_NAME_MAX_LENGTH",
        _set("device_wearer.middle_name", "A" * 201),
        "device_wearer.middle_name",
    ),
    Case(
        "date of birth in the future",
        "DeviceWearer.DOB_MUST_BE_IN_PAST",
        _set("device_wearer.date_of_birth", "2030-01-01"),
        "device_wearer.date_of_birth",
    ),
    Case(
        "no gender",
        "DeviceWearer.GENDER_REQUIRED",
        _set("device_wearer.gender", None),
        "device_wearer.gender",
    ),
    Case(
        "a gender CEMO does not know",
        "UpdateDeviceWearerDto.isGender",
        _set("device_wearer.gender", "OTHER"),
        "device_wearer.gender",
    ),
    Case("no sex", "DeviceWearer.SEX_REQUIRED", _set("device_wearer.sex", None), "device_wearer.sex"),
    Case(
        "interpreter without language",
        "DeviceWearer.LANGUAGE_REQUIRED",
        _all(_set("device_wearer.interpreter_required", True), _set("device_wearer.language", "")),
        "device_wearer.language",
    ),
    Case(
        "an unknown disability",
        "DeviceWearer.DISABILITIES_INVALID",
        _set("device_wearer.disabilities", ["TELEPATHY"]),
        "device_wearer.disabilities[0]",
    ),
    Case(
        "other disability without saying which",
        "DeviceWearer.OTHER_DISABILITY",
        _set("device_wearer.disabilities", ["OTHER"]),
        "device_wearer.other_disability",
    ),
    Case(
        "no fixed-abode answer",
        "OrderVersion.hasPrimaryAddressOrNoFixedAbode",
        _no_fixed_abode_unanswered,
        "device_wearer.no_fixed_abode",
    ),
    Case(
        "child without responsible adult",
        "OrderVersion.adultOrHasResponsibleAdult",
        _all(_set("device_wearer.is_adult", False), _set("responsible_adult", None)),
        "responsible_adult.full_name",
    ),
    Case(
        "no notifying organisation",
        "InterestedParties.NOTIFYING_ORGANISATION_REQUIRED",
        _set("interested_parties.notifying_organisation", None),
        "interested_parties.notifying_organisation",
    ),
    Case(
        "no team email",
        "InterestedParties.TEAM_EMAIL_REQUIRED",
        _set("interested_parties.notifying_team_email", ""),
        "interested_parties.notifying_team_email",
    ),
    Case(
        "a team email of 201 characters",
        "InterestedParties.TEAM_EMAIL_MAX_LENGTH",
        _set("interested_parties.notifying_team_email", "a" * 60 + "@" + ("b" * 60 + ".") * 2 + "c" * 18),
        "interested_parties.notifying_team_email",
    ),
    Case(
        "crown court not named",
        "InterestedParties.NOTIFYING_ORGANISATION_NAME_REQUIRED",
        _set("interested_parties.notifying_organisation_name", None),
        "interested_parties.notifying_organisation_name",
    ),
    Case(
        "an organisation name for the Home Office",
        'isNotifyingOrganisationName: "" unless court/prison/YCS',
        _all(
            _set("interested_parties.notifying_organisation", "HOME_OFFICE"),
            _set("interested_parties.notifying_organisation_name", "AYLESBURY_CROWN_COURT"),
        ),
        "DIFFERENCE:organisation-name",
    ),
    Case(
        "probation without region",
        "InterestedParties.RESPONSIBLE_ORGANISATION_REGION_REQUIRED",
        _set("interested_parties.probation_region", None),
        "interested_parties.probation_region",
    ),
    Case(
        "a probation region for the police",
        'isResponsibleOrganisationRegion: "" unless PROBATION/YJS/POLICE',
        _all(
            _set("interested_parties.responsible_organisation", "POLICE"),
            _set("interested_parties.police_area", "NORFOLK"),
            _set("interested_parties.delivery_unit", None),
        ),
        "DIFFERENCE:region-fields",
    ),
    Case(
        "a police area for probation",
        "isResponsibleOrganisationRegion: one region field",
        _set("interested_parties.police_area", "NORFOLK"),
        "DIFFERENCE:region-fields",
    ),
    Case(
        "a delivery unit when probation is not responsible",
        "UpdateProbationDeliveryUnitDto (probation only)",
        _all(
            _set("interested_parties.responsible_organisation", "HOME_OFFICE"),
            _set("interested_parties.probation_region", None),
        ),
        "DIFFERENCE:region-fields",
    ),
    Case(
        "youth justice without region",
        "isResponsibleOrganisationRegion (YJS)",
        _all(_YJS, _set("interested_parties.youth_justice_region", None)),
        "DIFFERENCE:region-fields",
    ),
    Case(
        "youth justice with an unknown region",
        "enum YouthJusticeServiceRegions",
        _all(_YJS, _set("interested_parties.youth_justice_region", "ATLANTIS")),
        "interested_parties.youth_justice_region",
    ),
    Case(
        "responsible officer phone not a number",
        "ValidPhoneNumber",
        _set("interested_parties.responsible_officer_phone", "ring the office"),
        "interested_parties.responsible_officer_phone",
    ),
    Case(
        "no order type",
        "MonitoringConditions.ORDER_TYPE_REQUIRED",
        _set("monitoring.order_type", None),
        "monitoring.order_type",
    ),
    Case(
        "no condition type",
        "MonitoringConditions.TYPE_REQUIRED",
        _set("monitoring.condition_type", None),
        "DIFFERENCE:condition-type",
    ),
    Case(
        "an unknown condition type",
        "enum MonitoringConditionType",
        _set("monitoring.condition_type", "HOUSE_ARREST"),
        "monitoring.condition_type",
    ),
    Case(
        "monitoring ends before it starts",
        "MonitoringConditions.END_DATE_MUST_BE_AFTER_START_DATE",
        _set("monitoring.end", "2026-11-23T05:00:00Z"),
        "monitoring.end",
    ),
    Case(
        "no monitoring condition",
        "OrderVersion.monitoringConditionsAreValid",
        lambda d: d.__setitem__("conditions", {}),
        "conditions",
    ),
    Case(
        "curfew without timetable",
        "OrderVersion.monitoringConditionsAreValid (curfewTimeTable)",
        _set("conditions.curfew.timetable", []),
        "conditions.curfew.timetable",
    ),
    Case(
        "curfew without release-day details",
        "OrderVersion.monitoringConditionsAreValid (release date)",
        _all(_drop_conditions_but("curfew"), _set("conditions.curfew.release_day", None)),
        "conditions.curfew.release_day",
    ),
    Case(
        "zone without name",
        "EnforcementZone.NAME_REQUIRED",
        _set("conditions.exclusion_zones.0.name", ""),
        "conditions.exclusion_zones[0].name",
    ),
    Case(
        "zone name of 201 characters",
        "EnforcementZone.NAME_MAX_LENGTH",
        _set("conditions.exclusion_zones.0.name", "Z" * 201),
        "conditions.exclusion_zones[0].name",
    ),
    Case(
        "zone without description",
        "UpdateEnforcementZoneDto description required",
        _set("conditions.exclusion_zones.0.description", None),
        "DIFFERENCE:zone-description",
    ),
    Case(
        "alcohol without monitoring type",
        "AlcoholMonitoring.MONITORING_TYPE_REQUIRED",
        _set(
            "conditions.alcohol",
            {"mode": None, "start": "2026-11-23T06:00:00Z", "end": "2027-03-01T06:00:00Z"},
        ),
        "conditions.alcohol.mode",
    ),
    Case(
        "installation appointment in the past",
        "InstallationAppointment.APPOINTMENT_DATE_MUST_BE_IN_FUTURE",
        _set("installation", {"location": "PROBATION_OFFICE", "appointment": "2026-11-21T10:00:00Z"}),
        "installation.appointment",
    ),
    Case(
        "variation without variation date",
        "OrderVersion.isOrderOrHasVariationDetails",
        _all(_set("request_type", "VARIATION"), _set("variation", {"type": "ADDRESS"})),
        "variation.date",
    ),
    Case(
        "no licence for a prison order",
        "OrderVersion.requiredDocuments",
        _all(
            _set("interested_parties.notifying_organisation", "PRISON"),
            _set("interested_parties.notifying_organisation_name", "MILLSIKE_PRISON"),
        ),
        "DIFFERENCE:documents",
    ),
)
