"""What submit checks beyond the order's answers, on the pages: the document the notifying organisation issues
(a licence from a prison, the court order from a court), and openem's stricter answers (flags) that the
creator must tick on "Check your answers" before the order goes."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

from sqlalchemy import select

from openem.auth.tables import AuditRow
from openem.orders.samples import sample_order

from .pages_helpers import enter_sample, errors_of, form_for, new_order, save, stored

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _submit(client, ref: str, **extra):
    return client.post(f"/orders/{ref}/submit", data={"csrf_token": client.token, **extra})


def _upload(client, ref: str, document_type: str):
    return client.post(
        f"/orders/{ref}/documents",
        data={"document_type": document_type, "csrf_token": client.token},
        files={"file": (f"{document_type.lower()}.pdf", PDF, "application/pdf")},
    )


def _prison_order(world, creator) -> str:
    doc = sample_order(datetime.now(UTC), cohort="POST_RELEASE")
    ref = new_order(creator)
    enter_sample(creator, ref, doc)
    assert stored(world, ref)["interested_parties"]["notifying_organisation"] == "PRISON"
    return ref


def _audit(world, action: str) -> list[AuditRow]:
    with world.db.uow() as uow:
        rows = uow.session.execute(select(AuditRow).where(AuditRow.action == action)).scalars().all()
        uow.session.expunge_all()
        return list(rows)


def test_a_prison_order_without_its_licence_is_refused_at_submit_naming_the_licence(world, creator):
    ref = _prison_order(world, creator)
    r = _submit(creator, ref)
    assert r.status_code == 422 and r.text.count("govuk-error-summary") >= 1
    assert "<title>Error: Check your answers" in r.text
    links = errors_of(r.text)
    [(href, message)] = [(h, m) for h, m in links if "documents" in h]
    assert message == "Upload the licence: an order from this organisation needs the licence"
    # the link leads to the question that answers it: the type of document, showing the same error
    page = creator.get(href.split("#")[0])
    assert href.endswith("#document_type") and 'id="document_type"' in page.text
    assert "govuk-form-group--error" in page.text and unescape(page.text).count(message) >= 1
    assert re.search(r'<option value="LICENCE" selected>', page.text)  # the document it needs, chosen
    assert not _audit(world, f"orders:{ref}:submit")  # nothing submitted
    assert creator.get(f"/orders/{ref}").text.count("govuk-task-list") >= 1  # still a draft


def test_a_court_order_is_not_satisfied_by_a_licence_but_by_the_court_order(world, creator):
    doc = sample_order(datetime.now(UTC), cohort="COURT_BAIL")
    ref = new_order(creator)
    enter_sample(creator, ref, doc)
    assert _upload(creator, ref, "LICENCE").status_code == 200
    r = _submit(creator, ref)
    assert r.status_code == 422
    assert "Upload the court order: an order from this organisation needs the court order" in dict(
        (m, h) for h, m in errors_of(r.text)
    )
    assert _upload(creator, ref, "COURT_ORDER").status_code == 200
    r = _submit(creator, ref)
    assert r.status_code == 200 and "Order submitted" in r.text


def test_with_its_licence_uploaded_the_prison_order_is_submitted(world, creator):
    ref = _prison_order(world, creator)
    up = _upload(creator, ref, "LICENCE")
    assert up.status_code == 200 and "licence.pdf" in up.text
    r = _submit(creator, ref)
    assert r.status_code == 200 and "govuk-panel--confirmation" in r.text and ref in r.text
    assert len(_audit(world, f"orders:{ref}:submit")) == 1


def test_the_api_refuses_the_same_order_with_the_same_field_and_message(world, creator):
    ref = _prison_order(world, creator)
    r = creator.post(f"/api/orders/{ref}/submit", json={}, headers={"X-CSRF-Token": creator.token})
    assert r.status_code == 422
    errors = [e for e in r.json()["errors"] if e["code"] == "required_document"]
    assert errors == [
        {
            "code": "required_document",
            "field": "documents",
            "message": "Upload the licence: an order from this organisation needs the licence",
            **({"acknowledgeable": False} if "acknowledgeable" in errors[0] else {}),
        }
    ]


def _flagged_order(world, creator) -> tuple[str, dict]:
    """An order valid but for one flag: a first name with a digit in it (openem's stricter name rule)."""
    doc = sample_order(datetime.now(UTC), cohort="IMMIGRATION_BAIL")  # the Home Office issues no paper
    ref = new_order(creator)
    enter_sample(creator, ref, doc)
    doc["device_wearer"]["first_name"] = "Sam2"
    r = save(creator, ref, "device-wearer", form_for("device-wearer", doc))
    assert r.status_code == 422 and "Your answers have been saved" in r.text  # shown, and kept
    return ref, doc


def test_an_order_with_a_flag_is_not_submitted_until_the_creator_ticks_it(world, creator):
    ref, _ = _flagged_order(world, creator)
    r = _submit(creator, ref)
    assert r.status_code == 422
    assert ("#flag-1", "Check 1 answer and confirm") in errors_of(r.text)
    flags = r.text.split('id="flags"', 1)[1].split("</fieldset>", 1)[0]
    assert 'class="govuk-error-message"' in flags and 'aria-describedby="flags-hint flags-error"' in flags
    box = re.search(r'<input class="govuk-checkboxes__input" id="flag-1" name="acknowledged" [^>]*>', flags)
    assert box and 'value="name_format:device_wearer.first_name"' in box.group(0)
    assert "checked" not in box.group(0)  # never ticked for them
    assert "I have checked this and it is right" in flags
    assert not _audit(world, f"orders:{ref}:submit")
    assert "acknowledgements" not in stored(world, ref)


def test_ticking_the_flag_submits_the_order_and_records_who_accepted_what(world, creator):
    ref, doc = _flagged_order(world, creator)
    _submit(creator, ref)
    r = _submit(creator, ref, acknowledged="name_format:device_wearer.first_name")
    assert r.status_code == 200 and "Order submitted" in r.text
    saved = stored(world, ref)
    assert saved["device_wearer"]["first_name"] == "Sam2"  # accepted as written, not changed
    [ack] = saved["acknowledgements"]
    assert (ack["code"], ack["field"], ack["source"]) == ("name_format", "device_wearer.first_name", "USER")
    [row] = _audit(world, f"orders:{ref}:submit")
    assert row.actor and row.details["acknowledged"] == ["name_format:device_wearer.first_name"]


def test_a_tick_cannot_wave_through_a_real_error_or_another_flag(world, creator):
    ref, _ = _flagged_order(world, creator)
    # a forged tick for a required answer, and none for the flag: both still refused
    r = _submit(creator, ref, acknowledged="required:device_wearer.date_of_birth")
    assert r.status_code == 422 and ("#flag-1", "Check 1 answer and confirm") in errors_of(r.text)
    assert not _audit(world, f"orders:{ref}:submit")
    # a real error beside the flag: ticking the flag leaves the order refused for the error
    creator.post(f"/orders/{ref}/contact", data={"csrf_token": creator.token, "contact.phone": "not a phone"})
    r = _submit(creator, ref, acknowledged="name_format:device_wearer.first_name")
    assert r.status_code == 422
    assert any("#contact.phone" in h for h, _ in errors_of(r.text))
    assert not _audit(world, f"orders:{ref}:submit")
