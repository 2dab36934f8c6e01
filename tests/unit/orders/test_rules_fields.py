from __future__ import annotations

import pytest

from openem.orders.rules import validate_order

from .conftest import NOW, codes, only_codes


def test_sample_order_is_valid(order):
    assert validate_order(order, now=NOW) == []


def test_missing_date_of_birth_is_reported_with_govuk_message(order):
    del order["device_wearer"]["date_of_birth"]
    errors = validate_order(order, now=NOW)
    assert [(e.code, e.field, e.message) for e in errors] == [
        ("required", "device_wearer.date_of_birth", "Enter the device wearer's date of birth")
    ]


@pytest.mark.parametrize(
    "postcode", ["SW1A 1AA", "sw1a1aa", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "EC1A 1BB"]
)
def test_real_postcode_formats_pass(order, postcode):
    order["addresses"][0]["postcode"] = postcode
    assert "postcode_format" not in only_codes(order)


@pytest.mark.parametrize(
    "postcode", ["SW1A", "12345", "QQ1 1AA", "SW1A 1A", "LS1 4APX", "<script>", "V1 1AA"]
)
def test_bad_postcodes_are_refused(order, postcode):
    order["addresses"][0]["postcode"] = postcode
    errors = [e for e in validate_order(order, now=NOW) if e.code == "postcode_format"]
    assert errors and errors[0].field == "addresses[0].postcode"
    assert errors[0].message == "Postcode must be a real UK postcode, like SW1A 1AA"


def test_scottish_postcode_is_outside_england_and_wales(order):
    order["addresses"][0]["postcode"] = "EH1 1YZ"
    assert ("postcode_outside_england_wales", "addresses[0].postcode") in codes(order)


def test_script_tag_in_name_is_refused_not_stripped(order):
    order["device_wearer"]["first_name"] = "<script>alert(1)</script>"
    assert ("name_format", "device_wearer.first_name") in codes(order)
    assert order["device_wearer"]["first_name"].startswith("<script>")


@pytest.mark.parametrize("name", ["Siân", "O'Neill", "Price-Davies", "Zoë", "Mary Ann", "St. John"])
def test_real_names_pass(order, name):
    order["device_wearer"]["last_name"] = name
    assert "name_format" not in only_codes(order)


def test_control_characters_are_reported(order):
    order["device_wearer"]["last_name"] = "Smith\x00\x1b[2J"
    assert ("control_characters", "device_wearer.last_name") in codes(order)


def test_very_long_string_is_reported(order):
    order["addresses"][0]["line1"] = "x" * 100_000
    assert ("too_long", "addresses[0].line1") in codes(order)


def test_wrong_types_get_field_errors(order):
    order["device_wearer"]["is_adult"] = "perhaps"
    order["monitoring"]["start"] = 12
    found = codes(order)
    assert ("wrong_type", "device_wearer.is_adult") in found
    assert ("wrong_type", "monitoring.start") in found


def test_unknown_field_is_reported(order):
    order["device_wearer"]["favourite_colour"] = "blue"
    assert ("unknown_field", "device_wearer.favourite_colour") in codes(order)


def test_not_an_object():
    assert [e.code for e in validate_order([1, 2], now=NOW)] == ["wrong_type"]


def test_unknown_reference_codes(order):
    order["offence_risk"]["offence_category"] = "JAYWALKING"
    order["interested_parties"]["notifying_organisation_name"] = "NOWHERE_CROWN_COURT"
    found = codes(order)
    assert ("unknown_code", "offence_risk.offence_category") in found
    assert ("unknown_code", "interested_parties.notifying_organisation_name") in found


def test_delivery_unit_must_be_in_region(order):
    order["interested_parties"]["probation_region"] = "WALES"
    order["interested_parties"]["delivery_unit"] = "LEEDS"
    assert ("delivery_unit_region_mismatch", "interested_parties.delivery_unit") in codes(order)


@pytest.mark.parametrize(
    "cohort,order_type,agency,ok",
    [
        ("COURT_BAIL", "BAIL", "POLICE", True),
        ("COURT_BAIL", "BAIL", "PROBATION", False),
        ("IMMIGRATION_BAIL", "IMMIGRATION", "HOME_OFFICE", True),
        ("IMMIGRATION_BAIL", "IMMIGRATION", "POLICE", False),
        ("COURT_SENTENCE", "COMMUNITY", "HOME_OFFICE", False),
        ("COURT_SENTENCE", "COMMUNITY", "YJS", False),  # YJS only for youths
    ],
)
def test_responsible_agency_matches_cohort(order, cohort, order_type, agency, ok):
    order["monitoring"].update(cohort=cohort, order_type=order_type)
    order["device_wearer"]["home_office_reference"] = "HO-123456"
    order["interested_parties"].update(responsible_organisation=agency, police_area="KENT")
    assert ("agency_cohort_mismatch" in only_codes(order)) is not ok


def test_order_type_must_match_cohort(order):
    order["monitoring"]["order_type"] = "IMMIGRATION"
    assert ("order_type_cohort_mismatch", "monitoring.order_type") in codes(order)


def test_identifier_formats(order):
    order["device_wearer"].update(pnc="not-a-pnc", nomis_id="1234", crn="X12")
    found = codes(order)
    for key in ("pnc", "nomis_id", "crn"):
        assert ("identifier_format", f"device_wearer.{key}") in found


def test_curfew_address_must_be_one_of_the_orders_addresses(order):
    order["conditions"]["curfew"]["timetable"][2]["address_type"] = "SECONDARY"
    assert ("curfew_address_not_in_order", "conditions.curfew.timetable[2].address_type") in codes(order)


def test_email_and_phone_formats(order):
    order["interested_parties"]["notifying_team_email"] = "not an email"
    order["contact"]["phone"] = "call me"
    found = codes(order)
    assert ("email_format", "interested_parties.notifying_team_email") in found
    assert ("phone_format", "contact.phone") in found


def test_no_condition_is_refused(order):
    order["conditions"] = {}
    assert ("required", "conditions") in codes(order)


def test_no_fixed_abode_needs_no_primary_address(order):
    order["addresses"] = []
    order["device_wearer"]["no_fixed_abode"] = True
    order["installation"]["location"] = "PROBATION_OFFICE"
    order["installation"]["place_name"] = "Leeds probation office"
    del order["conditions"]["curfew"]
    order["conditions"]["trail"] = {"start": order["monitoring"]["start"], "end": order["monitoring"]["end"]}
    assert validate_order(order, now=NOW) == []


def test_region_without_delivery_unit(order):
    del order["interested_parties"]["delivery_unit"]
    assert ("required", "interested_parties.delivery_unit") in codes(order)


def test_immigration_bail_may_have_no_location_condition(order):
    order["monitoring"].update(cohort="IMMIGRATION_BAIL", order_type="IMMIGRATION")
    order["device_wearer"]["home_office_reference"] = "HO-123456"
    order["interested_parties"].update(
        notifying_organisation="HOME_OFFICE",
        notifying_organisation_name=None,  # CEMO: a name only for courts, prisons and YCS
        responsible_organisation="HOME_OFFICE",
        probation_region=None,
        delivery_unit=None,
    )
    order["conditions"] = {}
    assert validate_order(order, now=NOW) == []
    order["monitoring"].update(cohort="COURT_BAIL", order_type="BAIL")
    assert ("required", "conditions") in codes(order)


def test_phone_written_forms(order):
    for phone in ("(0121) 496 0017", "+44 (0)808 157 0657", "07700-900-982"):
        order["contact"]["phone"] = phone
        assert "phone_format" not in only_codes(order)
