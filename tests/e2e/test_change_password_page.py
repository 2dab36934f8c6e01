"""A one-off password in a real browser: signing in leads to "Choose a new password" (accessible, errors
explained), and only then to the service."""

import pytest
from playwright.sync_api import expect
from tests.e2e.conftest import assert_accessible, click_and_wait

from openem.auth.service import create_user
from openem.store.db import Database

pytestmark = pytest.mark.e2e


def test_a_one_off_password_is_changed_first_and_the_page_is_accessible(page, server):
    db = Database(server.db_url)
    with db.uow() as uow:
        user = create_user(uow.session, actor="e2e", username="e2e-one-off", password="a-one-off-password",
                           roles=["analyst"])  # fmt: skip
        user.must_change_password = True
    db.dispose()
    page.goto(server.base + "/sign-in")
    page.get_by_label("Username").fill("e2e-one-off")
    page.get_by_label("Password").fill("a-one-off-password")
    click_and_wait(page, page.get_by_role("button", name="Sign in"))
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    assert_accessible(page)
    page.goto(server.base + "/")
    assert "/change-password" in page.url  # nothing else first
    page.get_by_label("New password", exact=True).fill("my own four words")
    page.get_by_label("Confirm new password").fill("my own five words")
    click_and_wait(page, page.get_by_role("button", name="Save password and continue"))
    expect(page.locator(".govuk-error-summary")).to_contain_text("The passwords do not match")
    assert_accessible(page)
    page.get_by_label("New password", exact=True).fill("my own four words")
    page.get_by_label("Confirm new password").fill("my own four words")
    click_and_wait(page, page.get_by_role("button", name="Save password and continue"))
    expect(page.get_by_role("heading", name="Analyst", exact=True)).to_be_visible()
