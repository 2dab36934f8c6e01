"""Order-entry pages on SQLite and PostgreSQL: lists, task list, section forms with field errors (hostile input
included), check answers and submit, duplicates, review, variation with its changes, bulk import, receipt."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from html import unescape

from openem.orders.bulk import COLUMNS
from openem.orders.samples import sample_order

from .pages_helpers import enter_sample, errors_of, new_order, save, stored


def test_a_new_order_starts_on_a_task_list_and_is_listed_for_its_creator_only(world, creator):
    ref = new_order(creator)
    page = creator.get(f"/orders/{ref}").text
    assert "govuk-task-list" in page and "Cannot start yet" in page and "Incomplete" in page
    assert "OrderVersion(" not in page and "'request_type'" not in page  # no document dumped into the page
    assert ref in creator.get("/orders?tab=draft").text
    assert ref not in creator.get("/orders?tab=submitted").text
    assert ref not in creator.get("/orders?q=nobody-by-this-name").text
    police = world.signed_in("demo-police-officer")
    assert ref not in police.get("/orders").text
    assert police.get(f"/orders/{ref}").status_code == 404


def test_starting_an_order_needs_the_form_token(creator):
    start = creator.get("/orders/new")
    assert start.status_code == 200 and 'action="/orders/new"' in start.text
    r = creator.post("/orders/new", data={"csrf_token": "forged"})
    assert r.status_code == 403


def test_hostile_input_gets_field_errors_linked_to_the_fields(world, creator):
    ref = new_order(creator)
    r = save(
        creator,
        ref,
        "device-wearer",
        {
            "device_wearer.first_name": "<script>alert(1)</script>",
            "device_wearer.last_name": "x" * 20_000,
            "device_wearer.date_of_birth-day": "31",
            "device_wearer.date_of_birth-month": "2",
            "device_wearer.date_of_birth-year": "2000",
            "device_wearer.is_adult": "perhaps",
        },
    )
    assert r.status_code == 422
    hrefs = dict(errors_of(r.text))
    assert "#device_wearer.date_of_birth" in hrefs and "real date" in hrefs["#device_wearer.date_of_birth"]
    assert "#device_wearer.is_adult" in hrefs
    assert 'id="device_wearer.date_of_birth"' in r.text and "govuk-form-group--error" in r.text
    assert "<script>alert(1)</script>" not in r.text
    # with the dates fixed the long name is refused by the model, still as a field error
    r = save(
        creator,
        ref,
        "device-wearer",
        {"device_wearer.first_name": "<script>alert(1)</script>", "device_wearer.last_name": "x" * 20_000},
    )
    assert r.status_code == 422
    assert any(h == "#device_wearer.last_name" for h, _ in errors_of(r.text))
    assert "<script>alert(1)</script>" not in r.text
    r = save(creator, ref, "device-wearer", {"device_wearer.first_name": "Bad\x07name"})
    assert r.status_code == 422 and any(h == "#device_wearer.first_name" for h, _ in errors_of(r.text))


def test_dates_and_times_are_read_as_london_time(world, creator):
    ref = new_order(creator)
    data = {
        "monitoring.start-day": "1",
        "monitoring.start-month": "7",
        "monitoring.start-year": "2031",
        "monitoring.start-time": "09:30",
        "monitoring.end-day": "1",
        "monitoring.end-month": "12",
        "monitoring.end-year": "2031",
        "monitoring.end-time": "09:30",
    }
    save(creator, ref, "monitoring", data)
    doc = stored(world, ref)
    assert doc["monitoring"]["start"] == "2031-07-01T08:30:00Z"  # BST
    assert doc["monitoring"]["end"] == "2031-12-01T09:30:00Z"  # GMT
    r = save(creator, ref, "monitoring", {**data, "monitoring.start-time": "25:99"})
    assert r.status_code == 422 and any("real time" in m for _, m in errors_of(r.text))


def test_an_order_entered_through_the_pages_is_submitted_and_accepted(world, creator, operator):
    doc = sample_order(datetime.now(UTC))
    ref = new_order(creator)
    enter_sample(creator, ref, doc)
    saved = stored(world, ref)
    for section in ("device_wearer", "interested_parties", "monitoring", "installation"):
        expected = {k: v for k, v in doc[section].items() if v not in (None, [], "")}
        assert {k: saved[section].get(k) for k in expected} == expected, section
    assert saved["conditions"]["curfew"]["timetable"] == doc["conditions"]["curfew"]["timetable"]
    tasks = creator.get(f"/orders/{ref}").text
    assert "Incomplete" not in tasks
    check = creator.get(f"/orders/{ref}/check-answers").text
    assert (
        doc["device_wearer"]["last_name"] in check
        and f"/orders/{ref}/curfew#conditions.curfew.start" in check
    )
    r = creator.post(f"/orders/{ref}/submit", data={"csrf_token": creator.token})
    assert r.status_code == 200 and "govuk-panel--confirmation" in r.text and ref in r.text
    receipt = creator.get(f"/orders/{ref}/receipt")
    assert receipt.status_code == 200 and doc["device_wearer"]["first_name"] in receipt.text
    assert ref in operator.get("/orders").text  # the monitoring centre starts on submitted orders
    assert ref not in operator.get("/orders?tab=draft").text
    r = operator.post(f"/orders/{ref}/accept", data={"csrf_token": operator.token})
    assert r.status_code == 200 and "The order has been accepted" in r.text
    assert stored(world, ref) == saved | {}  # the accepted version is the one entered
    # the creator may not accept their own order
    assert creator.post(f"/orders/{ref}/accept", data={"csrf_token": creator.token}).status_code == 403


def test_submitting_an_incomplete_order_links_each_error_to_its_page(world, creator):
    ref = new_order(creator)
    save(creator, ref, "device-wearer", {"device_wearer.first_name": "Sam"})
    r = creator.post(f"/orders/{ref}/submit", data={"csrf_token": creator.token})
    assert r.status_code == 422
    links = errors_of(r.text)
    assert (
        f"/orders/{ref}/device-wearer?check=1#device_wearer.last_name",
        "Enter the device wearer's last name",
    ) in links
    page = creator.get(links[0][0].split("#")[0]).text
    assert "govuk-form-group--error" in page and links[0][1].replace("'", "&#39;") in page
    assert stored(world, ref).get("device_wearer", {}).get("first_name") == "Sam"


def test_possible_duplicates_must_be_confirmed_one_by_one(world, creator, operator):
    doc = sample_order(datetime.now(UTC))
    first = new_order(creator)
    enter_sample(creator, first, doc)
    creator.post(f"/orders/{first}/submit", data={"csrf_token": creator.token})
    operator.post(f"/orders/{first}/accept", data={"csrf_token": operator.token})
    second = new_order(creator)
    enter_sample(creator, second, doc)
    r = creator.post(f"/orders/{second}/submit", data={"csrf_token": creator.token})
    assert (
        r.status_code == 409 and f'value="{first}"' in r.text and 'name="confirmed_not_duplicates"' in r.text
    )
    # GOV.UK: the summary links to the first box, and the question carries the same message beside it
    [(href, message)] = errors_of(r.text)
    box = r.text.split('id="duplicates"')[1].split("</fieldset>")[0]
    assert href == "#dup-1" and 'id="dup-1"' in box and "duplicates-error" in box.split(">")[1]
    assert (
        f'class="govuk-error-message"><span class="govuk-visually-hidden">Error:</span> {message}'
        in unescape(box)
    )
    r = creator.post(
        f"/orders/{second}/submit", data={"csrf_token": creator.token, "confirmed_not_duplicates": first}
    )
    assert r.status_code == 200 and "Order submitted" in r.text


def test_reject_needs_reasons_then_the_creator_amends_and_a_variation_shows_its_changes(
    world, creator, operator
):
    doc = sample_order(datetime.now(UTC) + timedelta(days=1))
    ref = new_order(creator)
    enter_sample(creator, ref, doc)
    creator.post(f"/orders/{ref}/submit", data={"csrf_token": creator.token})
    r = operator.post(f"/orders/{ref}/reject", data={"csrf_token": operator.token, "reasons": "  "})
    assert r.status_code == 422 and "Enter why the order is rejected" in r.text
    r = operator.post(
        f"/orders/{ref}/reject",
        data={"csrf_token": operator.token, "reasons": "Wrong court\n<b>Check the PNC</b>"},
    )
    assert "Wrong court" in r.text and "&lt;b&gt;Check the PNC&lt;/b&gt;" in r.text
    assert ref in creator.get("/orders?tab=rejected").text
    creator.post(f"/orders/{ref}/vary", data={"csrf_token": creator.token, "request_type": "AMEND_REJECTED"})
    creator.post(f"/orders/{ref}/submit", data={"csrf_token": creator.token})
    operator.post(f"/orders/{ref}/accept", data={"csrf_token": operator.token})
    r = creator.post(f"/orders/{ref}/vary", data={"csrf_token": creator.token})
    assert "govuk-task-list" in r.text and "Version history" in r.text
    save(creator, ref, "contact", {"contact.phone": "07700 900999"})
    draft = creator.get(f"/orders/{ref}").text
    assert "Changes so far in version 3" in draft and "contact.phone" in draft
    creator.post(f"/orders/{ref}/submit", data={"csrf_token": creator.token})
    page = operator.post(f"/orders/{ref}/accept", data={"csrf_token": operator.token}).text
    changes = page.split('id="changes"', 1)[1].split("</table>", 1)[0]
    assert "contact.phone" in changes and "07700 900999" in changes and "device_wearer" not in changes
    assert "Contact details: Device wearer&#39;s phone number" in changes  # the question as it was asked


GOOD = {
    "case_ref": "C1", "court_code": "ABERDARE_MAGISTRATES_COURT", "first_name": "Alex", "last_name": "Smith",
    "date_of_birth": "1990-01-01", "sex": "MALE", "gender": "MALE", "pnc": "2019/0123456A",
    "address_line1": "1 High Street", "address_town": "Cardiff", "postcode": "CF10 1EP", "cohort": "COURT_BAIL",
    "order_type": "BAIL", "start_time": "12:00", "end_time": "12:00", "curfew_start": "19:00",
    "curfew_end": "07:00", "curfew_days": "ALL", "responsible_organisation": "POLICE", "police_area": "SOUTH_WALES",
    "probation_region": "", "delivery_unit": "", "officer_name": "Pat Officer", "officer_email": "pat@example.gov.uk",
    "team_email": "court@example.gov.uk",
}  # fmt: skip


def court_csv(*rows) -> bytes:
    start = datetime.now(UTC).date() + timedelta(days=3)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(COLUMNS)
    for r in rows:
        r = {"start_date": start.isoformat(), "end_date": (start + timedelta(days=90)).isoformat(), **r}
        w.writerow([r[c] for c in COLUMNS])
    return buf.getvalue().encode()


def test_bulk_import_reports_each_bad_row_and_imports_nothing(world, creator):
    before = creator.get("/orders?tab=draft").text.count("/orders/ORD-")
    data = court_csv(GOOD, {**GOOD, "case_ref": "C2", "postcode": "<script>NOPE"})
    r = creator.post("/orders/import", data={"csrf_token": creator.token}, files={"file": ("r.csv", data)})
    assert r.status_code == 422
    table = r.text.split('id="row-errors"', 1)[1]
    assert "addresses[0].postcode" in table and "<script>NOPE" not in r.text
    assert creator.get("/orders?tab=draft").text.count("/orders/ORD-") == before
    r = creator.post(
        "/orders/import",
        data={"csrf_token": creator.token},
        files={"file": ("r.csv", court_csv(GOOD, {**GOOD, "case_ref": "C2", "first_name": "Jo"}))},
    )
    assert r.status_code == 200 and "2 orders imported" in r.text
    assert creator.get("/orders?tab=draft").text.count("/orders/ORD-") == before + 2
    r = creator.post(
        "/orders/import", data={"csrf_token": creator.token}, files={"file": ("r.csv", b"\xff\xfe\x00")}
    )
    assert r.status_code == 422 and "UTF-8" in r.text


def test_the_receipt_is_printable_html_and_a_pdf_when_weasyprint_is_installed(world, creator):
    ref = new_order(creator)
    save(creator, ref, "device-wearer", {"device_wearer.first_name": "Robin"})
    r = creator.get(f"/orders/{ref}/receipt")
    assert r.status_code == 200 and "Robin" in r.text and "Receipt for order" in r.text
    pdf = creator.get(f"/orders/{ref}/receipt.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")


# -- form conversion (pure) ------------------------------------------------------------------------------


def test_on_a_variation_the_monitoring_condition_question_stays_with_the_monitoring_tasks(
    world, creator, operator
):
    ref = new_order(creator)
    enter_sample(creator, ref, sample_order(datetime.now(UTC) + timedelta(days=1)))
    creator.post(f"/orders/{ref}/submit", data={"csrf_token": creator.token})
    operator.post(f"/orders/{ref}/accept", data={"csrf_token": operator.token})
    page = creator.post(f"/orders/{ref}/vary", data={"csrf_token": creator.token}).text
    assert '<h2 class="govuk-heading-m">The variation</h2>' in page  # the variation's own group is last
    # the error summary's "#conditions" link must land on the condition tasks, not on the variation's
    block = page.split('id="conditions"')[1].split("</ul>")[0]
    assert "at least one monitoring condition" in block and f"/orders/{ref}/curfew" in block
    assert f"/orders/{ref}/variation" not in block
    monitoring = page.split('<h2 class="govuk-heading-m">Monitoring</h2>')[1].split("<h2")[0]
    assert 'id="conditions"' in monitoring
