"""/api/docs in a real browser under the server's own content-security policy (not bypassed): Swagger UI
comes from the server's vendor folder, lists the API's operations, and nothing is refused by the policy."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_api_docs_lists_the_operations_with_no_csp_violation(browser, server):
    context = browser.new_context(bypass_csp=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("requestfailed", lambda r: refused.append(f"failed: {r.url}"))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.log('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI))"
    )
    try:
        response = page.goto(server.base + "/api/docs")
        assert response.status == 200 and "script-src 'self'" in response.headers["content-security-policy"]
        expect(page.locator(".opblock").first).to_be_visible(timeout=15000)
        expect(page.locator(".opblock-summary-path", has_text="/health").first).to_be_visible()
        assert page.locator(".opblock").count() > 10
        assert not refused, refused
    finally:
        context.close()
