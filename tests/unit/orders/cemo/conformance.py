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
        "interested_parties.notifying_organisation_name",
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
        "interested_parties.youth_justice_region",
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

# Further refusals, one per CEMO ValidationErrors message (data/ValidationErrors.kt) not covered above; the
# openem field that must carry an error, or a documented difference.
_ATTEND = {"id": "A1", "name": "Programme", "lat": 51.75, "lon": -0.8, "radius_m": 100,
           "start": "2026-12-01T10:00:00Z", "end": "2026-12-01T12:00:00Z"}  # fmt: skip
_VARIATION = _all(
    _set("request_type", "VARIATION"),
    _set("variation", {"type": "CHANGE_TO_ADDRESS", "date": "2026-11-30", "details": "Moved"}),
)


def _add_attendance(**changes: Any) -> Callable[[Doc], None]:
    def apply(doc: Doc) -> None:
        doc["conditions"]["attendance"] = [dict(_ATTEND, **changes)]

    return apply


def _long(n: int = 201) -> str:
    return "a" * n


CEMO_REFUSED_MORE: tuple[Case, ...] = (
    Case(
        "no address line 1", "Address.ADDRESS_1_REQUIRED", _set("addresses.0.line1", ""), "addresses[0].line1"
    ),
    Case(
        "address line 1 of 201",
        "Address.ADDRESS_1_MAX_LENGTH",
        _set("addresses.0.line1", _long()),
        "addresses[0].line1",
    ),  # fmt: skip
    Case(
        "address line 2 of 201",
        "Address.ADDRESS_2_MAX_LENGTH",
        _set("addresses.0.line2", _long()),
        "addresses[0].line2",
    ),  # fmt: skip
    Case("no town", "Address.ADDRESS_3_REQUIRED", _set("addresses.0.town", ""), "addresses[0].town"),
    Case(
        "town of 201", "Address.ADDRESS_3_MAX_LENGTH", _set("addresses.0.town", _long()), "addresses[0].town"
    ),
    Case(
        "county of 201",
        "Address.ADDRESS_4_MAX_LENGTH",
        _set("addresses.0.county", _long()),
        "addresses[0].county",
    ),  # fmt: skip
    Case(
        "no postcode", "Address.POSTCODE_REQUIRED", _set("addresses.0.postcode", ""), "addresses[0].postcode"
    ),
    Case(
        "not a postcode",
        "Address.POSTCODE_MUST_BE_VALID",
        _set("addresses.0.postcode", "LS1"),
        "addresses[0].postcode",
    ),  # fmt: skip
    Case(
        "alcohol without a start",
        "AlcoholMonitoring.START_DATE_REQUIRED",
        _set("conditions.alcohol.start", None),
        "DIFFERENCE:condition-dates",
    ),  # fmt: skip
    Case(
        "alcohol ending in the past",
        "AlcoholMonitoring.END_DATE_MUST_BE_IN_FUTURE",
        _set("conditions.alcohol.end", "2026-11-01T06:00:00Z"),
        "conditions.alcohol.end",
    ),  # fmt: skip
    Case(
        "alcohol ending before it starts",
        "AlcoholMonitoring.END_DATE_MUST_BE_AFTER_START_DATE",
        _set("conditions.alcohol.end", "2026-11-23T05:00:00Z"),
        "conditions.alcohol.end",
    ),  # fmt: skip
    Case(
        "curfew without a start",
        "CurfewConditions.START_DATE_REQUIRED",
        _set("conditions.curfew.start", None),
        "DIFFERENCE:condition-dates",
    ),  # fmt: skip
    Case(
        "curfew without an end",
        "CurfewConditions.END_DATE_REQUIRED",
        _set("conditions.curfew.end", None),
        "DIFFERENCE:condition-dates",
    ),  # fmt: skip
    Case(
        "curfew ending in the past",
        "CurfewConditions.END_DATE_MUST_BE_IN_FUTURE",
        _set("conditions.curfew.end", "2026-11-01T06:00:00Z"),
        "conditions.curfew.end",
    ),  # fmt: skip
    Case(
        "curfew ending before it starts",
        "CurfewConditions.END_DATE_MUST_BE_AFTER_START_DATE",
        _set("conditions.curfew.end", "2026-11-23T05:00:00Z"),
        "conditions.curfew.end",
    ),  # fmt: skip
    Case(
        "release day without a start time",
        "CurfewReleaseDateConditions.START_TIME_REQUIRED",
        _set("conditions.curfew.release_day.start", None),
        "conditions.curfew.release_day.start",
    ),  # fmt: skip
    Case(
        "release day without an end time",
        "CurfewReleaseDateConditions.END_TIME_REQUIRED",
        _set("conditions.curfew.release_day.end", None),
        "conditions.curfew.release_day.end",
    ),  # fmt: skip
    Case(
        "release day without an address",
        "CurfewReleaseDateConditions.ADDRESS_REQUIRED",
        _set("conditions.curfew.release_day.address_type", None),
        "conditions.curfew.release_day.address_type",
    ),  # fmt: skip
    Case(
        "release day without the release date",
        "CurfewReleaseDateConditions.START_DATE_REQUIRED",
        _set("conditions.curfew.release_date", None),
        "DIFFERENCE:release-date",
    ),  # fmt: skip
    Case(
        "timetable slot without a start",
        "CurfewTimetable.START_TIME_REQUIRED",
        _set("conditions.curfew.timetable.0.start", None),
        "conditions.curfew.timetable[0].start",
    ),  # fmt: skip
    Case(
        "timetable slot without an end",
        "CurfewTimetable.END_TIME_REQUIRED",
        _set("conditions.curfew.timetable.0.end", None),
        "conditions.curfew.timetable[0].end",
    ),  # fmt: skip
    Case(
        "timetable slot without an address",
        "CurfewTimetable.ADDRESS_REQUIRED",
        _set("conditions.curfew.timetable.0.address_type", None),
        "conditions.curfew.timetable[0].address_type",
    ),  # fmt: skip
    Case(
        "no last name",
        "DeviceWearer.LAST_NAME_REQUIRED",
        _set("device_wearer.last_name", ""),
        "device_wearer.last_name",
    ),  # fmt: skip
    Case(
        "last name of 201",
        "DeviceWearer.LAST_NAME_MAX_LENGTH",
        _set("device_wearer.last_name", _long()),
        "device_wearer.last_name",
    ),  # fmt: skip
    Case(
        "preferred name of 201",
        "DeviceWearer.ALIAS_MAX_LENGTH",
        _set("device_wearer.aliases", [_long()]),
        "device_wearer.aliases[0]",
    ),  # fmt: skip
    Case(
        "adult answer missing",
        "DeviceWearer.IS_ADULT_REQUIRED",
        _set("device_wearer.is_adult", None),
        "device_wearer.is_adult",
    ),  # fmt: skip
    Case(
        "no date of birth",
        "DeviceWearer.DOB_REQUIRED",
        _set("device_wearer.date_of_birth", None),
        "device_wearer.date_of_birth",
    ),  # fmt: skip
    Case(
        "interpreter answer missing",
        "DeviceWearer.INTERPRETER_REQUIRED",
        _set("device_wearer.interpreter_required", None),
        "device_wearer.interpreter_required",
    ),  # fmt: skip
    Case(
        "zone without duration",
        "EnforcementZone.DURATION_REQUIRED",
        _set("conditions.exclusion_zones.0.duration", None),
        "DIFFERENCE:zone-description",
    ),  # fmt: skip
    Case(
        "zone ending in the past",
        "EnforcementZone.END_DATE_MUST_BE_IN_FUTURE",
        _set("conditions.exclusion_zones.0.end", "2026-11-01T06:00:00Z"),
        "conditions.exclusion_zones[0].end",
    ),  # fmt: skip
    Case(
        "zone without a start",
        "EnforcementZone.START_DATE_REQUIRED",
        _set("conditions.exclusion_zones.0.start", None),
        "DIFFERENCE:condition-dates",
    ),  # fmt: skip
    Case(
        "PNC of 201",
        "IdentityNumbers.PNC_ID_MAX_LENGTH",
        _set("device_wearer.pnc", _long()),
        "device_wearer.pnc",
    ),  # fmt: skip
    Case(
        "NOMIS ID of 201",
        "IdentityNumbers.NOMIS_ID_MAX_LENGTH",
        _set("device_wearer.nomis_id", _long()),
        "device_wearer.nomis_id",
    ),  # fmt: skip
    Case(
        "CRN of 201",
        "IdentityNumbers.DELIUS_ID_MAX_LENGTH",
        _set("device_wearer.crn", _long()),
        "device_wearer.crn",
    ),  # fmt: skip
    Case(
        "prison number of 201",
        "IdentityNumbers.PRISON_NUMBER_MAX_LENGTH",
        _set("device_wearer.prison_number", _long()),
        "device_wearer.prison_number",
    ),  # fmt: skip
    Case(
        "Home Office reference of 201",
        "IdentityNumbers.HOME_OFFICE_REFERENCE_NUMBER_MAX_LENGTH",
        _set("device_wearer.home_office_reference", _long()),
        "device_wearer.home_office_reference",
    ),  # fmt: skip
    Case(
        "no responsible organisation",
        "InterestedParties.RESPONSIBLE_ORGANISATION_REQUIRED",
        _set("interested_parties.responsible_organisation", None),
        "interested_parties.responsible_organisation",
    ),  # fmt: skip
    Case(
        "no responsible officer",
        "InterestedParties.RESPONSIBLE_OFFICER_FULL_NAME_REQUIRED",
        _set("interested_parties.responsible_officer_name", ""),
        "interested_parties.responsible_officer_name",
    ),  # fmt: skip
    Case(
        "responsible officer name of 201",
        "InterestedParties.RESPONSIBLE_OFFICER_NAME_MAX_LENGTH",
        _set("interested_parties.responsible_officer_name", _long()),
        "interested_parties.responsible_officer_name",
    ),  # fmt: skip
    Case(
        "responsible officer phone of 201",
        "InterestedParties.RESPONSIBLE_OFFICER_TELEPHONE_NUMBER_MAX_LENGTH",
        _set("interested_parties.responsible_officer_phone", "0" * 201),
        "interested_parties.responsible_officer_phone",
    ),  # fmt: skip
    Case(
        "responsible organisation email of 201",
        "InterestedParties.RESPONSIBLE_ORGANISATION_EMAIL_MAX_LENGTH",
        _set(
            "interested_parties.responsible_organisation_email",
            "a" * 60 + "@" + ("b" * 60 + ".") * 2 + "c" * 14 + ".com",
        ),
        "interested_parties.responsible_organisation_email",
    ),  # fmt: skip
    Case(
        "delivery unit outside the region",
        "ProbationDeliveryUnit.DELIVERY_UNIT_NOT_IN_REGION",
        _set("interested_parties.delivery_unit", "TAMESIDE"),
        "interested_parties.delivery_unit",
    ),  # fmt: skip
    Case(
        "an unknown offence",
        "InstallationAndRisk.OFFENCE_VALID",
        _set("offence_risk.offence_category", "PIRACY_ON_THE_THAMES"),
        "offence_risk.offence_category",
    ),  # fmt: skip
    Case(
        "an unknown risk category",
        "InstallationAndRisk.RISK_CATEGORY_VALID",
        _set("offence_risk.risk_categories", ["GRUMPY"]),
        "offence_risk.risk_categories[0]",
    ),  # fmt: skip
    Case(
        "appointment without a start",
        "MandatoryAttendance.START_DATE_REQUIRED",
        _add_attendance(start=None),
        "conditions.attendance[0].start",
    ),  # fmt: skip
    Case(
        "appointment ending in the past",
        "MandatoryAttendance.END_DATE_MUST_BE_IN_FUTURE",
        _add_attendance(start="2026-11-01T10:00:00Z", end="2026-11-01T12:00:00Z"),
        "conditions.attendance[0].end",
    ),  # fmt: skip
    Case(
        "appointment ending before it starts",
        "MandatoryAttendance.END_DATE_MUST_BE_AFTER_START_DATE",
        _add_attendance(end="2026-12-01T09:00:00Z"),
        "conditions.attendance[0].end",
    ),  # fmt: skip
    Case(
        "appointment without its purpose",
        "MandatoryAttendance.PURPOSE_REQUIRED",
        _add_attendance(name=""),
        "conditions.attendance[0].name",
    ),  # fmt: skip
    Case(
        "appointment purpose of 201",
        "MandatoryAttendance.PURPOSE_MAX_LENGTH",
        _add_attendance(name=_long()),
        "conditions.attendance[0].name",
    ),  # fmt: skip
    Case(
        "no monitoring start",
        "MonitoringConditions.START_DATE_REQUIRED",
        _set("monitoring.start", None),
        "monitoring.start",
    ),  # fmt: skip
    Case(
        "responsible adult without a name",
        "ResponsibleAdult.FULL_NAME_REQUIRED",
        _all(_YJS, _set("responsible_adult.full_name", "")),
        "responsible_adult.full_name",
    ),  # fmt: skip
    Case(
        "responsible adult name of 201",
        "ResponsibleAdult.FULL_NAME_MAX_LENGTH",
        _all(_YJS, _set("responsible_adult.full_name", _long())),
        "responsible_adult.full_name",
    ),  # fmt: skip
    Case(
        "responsible adult without a relationship",
        "ResponsibleAdult.RELATIONSHIP_REQUIRED",
        _all(_YJS, _set("responsible_adult.relationship", "")),
        "responsible_adult.relationship",
    ),  # fmt: skip
    Case(
        "relationship of 201",
        "ResponsibleAdult.RELATIONSHIP_DETAILS_MAX_LENGTH",
        _all(_YJS, _set("responsible_adult.relationship", _long())),
        "responsible_adult.relationship",
    ),  # fmt: skip
    Case(
        "trail without a start",
        "TrailMonitoringConditions.START_DATE_REQUIRED",
        _set("conditions.trail.start", None),
        "DIFFERENCE:condition-dates",
    ),  # fmt: skip
    Case(
        "trail ending in the past",
        "TrailMonitoringConditions.END_DATE_MUST_BE_IN_FUTURE",
        _set("conditions.trail.end", "2026-11-01T06:00:00Z"),
        "conditions.trail.end",
    ),  # fmt: skip
    Case(
        "trail ending before it starts",
        "TrailMonitoringConditions.END_DATE_MUST_BE_AFTER_START_DATE",
        _set("conditions.trail.end", "2026-11-23T05:00:00Z"),
        "conditions.trail.end",
    ),  # fmt: skip
    Case(
        "variation without what changed",
        "VariationDetails.TYPE_REQUIRED",
        _all(_VARIATION, _set("variation.type", None)),
        "variation.type",
    ),  # fmt: skip
    Case(
        "variation of an unknown type",
        "VariationDetails.TYPE_MUST_BE_VALID",
        _all(_VARIATION, _set("variation.type", "CHANGE_OF_HEART")),
        "variation.type",
    ),  # fmt: skip
    Case(
        "variation date not a real date",
        "VariationDetails.DATE_MUST_BE_VALID",
        _all(_VARIATION, _set("variation.date", "2026-02-30")),
        "variation.date",
    ),  # fmt: skip
    Case(
        "no installation location",
        "InstallationLocation.INSTALLATION_LOCATION_REQUIRED",
        _set("installation.location", None),
        "installation.location",
    ),  # fmt: skip
    Case(
        "installation at a prison without an appointment",
        "InstallationAppointment.APPOINTMENT_DATE_REQUIRED",
        _set("installation", {"location": "PROBATION_OFFICE", "appointment": None}),
        "installation.appointment",
    ),  # fmt: skip
    Case(
        "installation appointment without the place",
        "InstallationAppointment.PLACE_NAME_REQUIRED",
        _set(
            "installation", {"location": "IMMIGRATION_REMOVAL_CENTRE", "appointment": "2026-11-23T04:00:00Z"}
        ),
        "installation.place_name",
    ),  # fmt: skip
    Case(
        "contact number not a number",
        "ValidPhoneNumber (contactDetails)",
        _set("contact.phone", "not a phone"),
        "contact.phone",
    ),  # fmt: skip
    Case(
        "responsible adult's number not a number",
        "ValidPhoneNumber (responsible adult)",
        _all(_YJS, _set("responsible_adult.phone", "12")),
        "responsible_adult.phone",
    ),  # fmt: skip
    Case("a sex CEMO does not know", "enum Sex", _set("device_wearer.sex", "ROBOT"), "device_wearer.sex"),
    Case(
        "an unknown order type",
        "enum OrderType",
        _set("monitoring.order_type", "SIDEWAYS"),
        "monitoring.order_type",
    ),  # fmt: skip
    Case(
        "an unknown sentence type",
        "enum SentenceType",
        _set("monitoring.sentence_type", "TEA_AND_BISCUITS"),
        "monitoring.sentence_type",
    ),  # fmt: skip
    Case("an unknown scheme", "enum Pilot", _set("monitoring.scheme", "MOON_BASE"), "monitoring.scheme"),
    Case(
        "an unknown notifying organisation",
        "enum NotifyingOrganisationDDv5",
        _set("interested_parties.notifying_organisation", "NARNIA_COURT"),
        "interested_parties.notifying_organisation",
    ),  # fmt: skip
    Case(
        "an unknown prison",
        "enum Prison",
        _all(
            _set("interested_parties.notifying_organisation", "PRISON"),
            _set("interested_parties.notifying_organisation_name", "HMP_ATLANTIS"),
        ),
        "interested_parties.notifying_organisation_name",
    ),  # fmt: skip
    Case(
        "an unknown police area",
        "enum PoliceAreasDDv6",
        _all(
            _set("interested_parties.responsible_organisation", "POLICE"),
            _set("interested_parties.probation_region", None),
            _set("interested_parties.delivery_unit", None),
            _set("interested_parties.police_area", "GOTHAM"),
        ),
        "interested_parties.police_area",
    ),  # fmt: skip
    Case(
        "an unknown probation region",
        "enum ProbationServiceRegion",
        _set("interested_parties.probation_region", "ATLANTIS"),
        "interested_parties.probation_region",
    ),  # fmt: skip
    Case(
        "a DAPO clause without its date",
        "UpdateDapoDto date required",
        _set("monitoring.dapo_clauses", [{"clause": "3(a)"}]),
        "monitoring.dapo_clauses[0].date",
    ),  # fmt: skip
    Case(
        "a DAPO clause without its number",
        "UpdateDapoDto clause required",
        _set("monitoring.dapo_clauses", [{"date": "2026-11-20"}]),
        "monitoring.dapo_clauses[0].clause",
    ),  # fmt: skip
    Case(
        "a DAPO clause number over 20 characters",
        "UpdateDapoDto clause @Size(max = 20) CAUSE_TOO_LONG",
        _set("monitoring.dapo_clauses", [{"clause": "3(a)(ii) and 4(b)(iii)", "date": "2026-11-20"}]),
        "monitoring.dapo_clauses[0].clause",
    ),  # fmt: skip
)
