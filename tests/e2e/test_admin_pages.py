"""An administrator's pages in a real browser, at 1,280 and 390 px, each checked with axe-core: a user's roles
and scopes changed, a caseload assigned, a password reset, a deactivation confirmed and undone; the audit log
filtered, paged and exported."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from tests.e2e.conftest import assert_accessible, click_and_wait, sign_in

pytestmark = pytest.mark.e2e


def check_both_widths(page: Any) -> None:
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_admin_changes_a_user_and_confirms_before_deactivating(page, server):
    sign_in(page, server, "demo-admin")
    page.goto(server.base + "/admin/users")
    click_and_wait(page, page.get_by_role("link", name="Manage demo-police-officer"))
    expect(page.get_by_role("heading", level=2, name="Roles and scopes")).to_be_visible()
    check_both_widths(page)
    click_and_wait(page, page.get_by_role("link", name="Change police force code"))
    check_both_widths(page)
    page.get_by_label("Police force code").fill("CLEVELAND")
    page.get_by_label("Analyst").check()
    click_and_wait(page, page.get_by_role("button", name="Save changes"))
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Roles and scopes changed for"
    )
    expect(page.locator(".govuk-summary-list")).to_contain_text("CLEVELAND")
    check_both_widths(page)

    page.get_by_label("Add an order to the caseload").fill("not a ref")
    click_and_wait(page, page.get_by_role("button", name="Add to caseload"))
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter an order reference like")
    check_both_widths(page)

    click_and_wait(page, page.get_by_role("button", name="Reset password"))
    expect(page.get_by_role("heading", name="Password reset")).to_be_visible()
    assert len(page.locator("#new-password").inner_text()) >= 12
    check_both_widths(page)
    click_and_wait(page, page.get_by_role("button", name="Return to demo-police-officer"))

    click_and_wait(page, page.get_by_role("button", name="Deactivate demo-police-officer"))
    expect(page.get_by_role("heading", name="Are you sure you want to deactivate")).to_be_visible()
    check_both_widths(page)
    click_and_wait(page, page.get_by_role("button", name="Yes, deactivate demo-police-officer"))
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("has been deactivated")
    click_and_wait(page, page.get_by_role("button", name="Reactivate demo-police-officer"))
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("has been reactivated")


def test_admin_adds_a_user_and_is_told(page, server):
    sign_in(page, server, "demo-admin")
    page.goto(server.base + "/admin/users")
    page.get_by_label("Username").fill("e2e-practitioner")
    page.get_by_label("Full name").fill("Pru Practitioner")
    page.get_by_label("Temporary password (12 characters or more)").fill("a-very-long-password")
    page.get_by_label("Probation practitioner").check()
    click_and_wait(page, page.get_by_role("button", name="Add user"))
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Pru Practitioner has been added"
    )
    check_both_widths(page)


def test_admin_filters_pages_and_exports_the_audit_log(page, server):
    sign_in(page, server, "demo-admin")
    page.goto(server.base + "/admin/audit")
    assert "Audit chain intact" in page.locator(".govuk-panel").inner_text()
    check_both_widths(page)
    page.get_by_label("Action starts with").fill("auth:")
    click_and_wait(page, page.get_by_role("button", name="Apply filters"))
    assert "action=auth%3A" in page.url
    rows = page.locator("tbody .govuk-table__row")
    assert rows.count() >= 1
    assert all(t.startswith("auth:") for t in page.locator("tbody td:nth-child(4)").all_inner_texts())
    expect(page.locator("tbody")).to_contain_text("Administrator")  # the demo admin's name, not only its id
    check_both_widths(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="(CSV)").click()
    text = open(download.value.path(), encoding="utf-8").read()
    assert text.splitlines()[0].startswith("seq,when_london")
    if page.locator(".govuk-pagination").count():
        click_and_wait(page, page.get_by_role("link", name="Next page"))
        assert "page=2" in page.url and "action=auth%3A" in page.url
