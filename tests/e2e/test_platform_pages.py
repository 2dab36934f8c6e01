"""The platform's pages in a real browser, each checked with axe-core."""

import pytest
from playwright.sync_api import expect
from tests.e2e.conftest import assert_accessible, click_and_wait, sign_in

pytestmark = pytest.mark.e2e


def test_sign_in_page_is_accessible_and_explains_errors(page, server):
    page.goto(server.base + "/")
    assert page.url.startswith(server.base + "/sign-in")
    assert_accessible(page)
    click_and_wait(page, page.get_by_role("button", name="Sign in"))
    summary = page.locator(".govuk-error-summary")
    assert "Enter your username" in summary.inner_text()
    assert_accessible(page)
    page.get_by_label("Username").fill("demo-admin")
    page.get_by_label("Password").fill("definitely-wrong")
    click_and_wait(page, page.get_by_role("button", name="Sign in"))
    assert "Enter a correct username and password" in page.locator(".govuk-error-summary").inner_text()


def test_each_role_lands_on_its_home_page(page, server):
    for username, heading in [
        ("demo-mc-operator", "Monitoring centre operator"),
        ("demo-order-creator-prison", "Order creator (prison)"),
        ("demo-analyst", "Analyst"),
    ]:
        page.context.clear_cookies()
        sign_in(page, server, username)
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        assert_accessible(page)


def test_admin_manages_users_and_checks_the_audit_chain(page, server):
    sign_in(page, server, "demo-admin")
    click_and_wait(page, page.get_by_role("link", name="Manage users"))
    expect(page.get_by_role("heading", name="Manage users")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Username").fill("e2e-police")
    page.get_by_label("Temporary password (12 characters or more)").fill("a-very-long-password")
    page.get_by_label("Police force code").fill("MERSEYSIDE")
    page.get_by_label("Police officer").check()
    click_and_wait(page, page.get_by_role("button", name="Add user"))
    expect(page.get_by_role("cell", name="e2e-police", exact=True)).to_be_visible()
    page.goto(server.base + "/admin/audit")
    assert "Audit chain intact" in page.locator(".govuk-panel").inner_text()
    assert_accessible(page)


def test_forbidden_page_is_explained_and_accessible(page, server):
    sign_in(page, server, "demo-field-officer")
    response = page.goto(server.base + "/admin/users")
    assert response.status == 403
    expect(page.get_by_role("heading", name="You do not have permission")).to_be_visible()
    assert_accessible(page)


def test_sign_out(page, server):
    sign_in(page, server, "demo-analyst")
    click_and_wait(page, page.get_by_role("button", name="Sign out"))
    assert "/sign-in" in page.url
    page.goto(server.base + "/")
    assert "/sign-in" in page.url


def test_home_page_screenshot(page, server, tmp_path):
    sign_in(page, server, "demo-mc-operator")
    path = tmp_path / "home.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
