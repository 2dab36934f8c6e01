"""An administrator learns from the home page that a message is parked, finds it, and retries it; axe-core
on each page."""

import time

import httpx
import pytest
from playwright.sync_api import expect
from tests.e2e.conftest import assert_accessible, click_and_wait, sign_in

pytestmark = pytest.mark.e2e


def park_one(db_url: str) -> str:
    """A message the bus gave up on (written as the dispatcher leaves it after its last failed attempt)."""
    from openem.bus.outbox import OutboxRow
    from openem.core.ids import new_id
    from openem.core.time import utcnow
    from openem.store.db import Database

    db = Database(db_url)
    mid = new_id("MSG")
    with db.uow() as uow:
        uow.session.add(
            OutboxRow(
                id=mid,
                topic="e2e.OrderNoted",
                key="order:ORD-E2E",
                payload={"order_ref": "ORD-E2E"},
                created_at=utcnow(),
                attempts=5,
                parked_at=utcnow(),
                last_error="LookupError: order ORD-E2E not loaded",
            )
        )
    db.dispose()
    return mid


def test_an_administrator_sees_the_parked_message_and_retries_it(page, server):
    mid = park_one(server.db_url)
    sign_in(page, server, "demo-admin")
    banner = page.locator(".govuk-notification-banner")
    expect(banner).to_contain_text("1 message has failed every delivery and is parked")
    assert_accessible(page)
    click_and_wait(page, banner.get_by_role("link", name="Check and retry parked messages"))
    expect(page.get_by_role("heading", name="Parked messages")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=mid)
    expect(row).to_contain_text("order:ORD-E2E")
    expect(row).to_contain_text("LookupError: order ORD-E2E not loaded")
    assert_accessible(page)
    click_and_wait(page, row.get_by_role("button", name=f"Retry {mid}"))
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("1 message sent again")
    assert_accessible(page)
    # the server's dispatcher sends it (this topic has no handler, so it is simply delivered)
    deadline = time.monotonic() + 30
    while httpx.get(server.base + "/health").json()["parked"] and time.monotonic() < deadline:
        time.sleep(0.05)
    page.reload()
    expect(page.locator("main")).to_contain_text("No messages are parked")
