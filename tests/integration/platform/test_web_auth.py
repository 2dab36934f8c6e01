"""Sign-in, sessions, CSRF, role checks and bad input, against SQLite and PostgreSQL."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from tests.conftest import choose_password, sign_in

from openem.auth.tables import AuditRow, WebSessionRow
from openem.core.time import utcnow


def test_health_and_metrics(world):
    c = world.client()
    assert c.get("/health").json()["status"] == "ok"
    m = TestClient(world.app, client=("127.0.0.1", 40000)).get("/metrics")  # a scraper on this machine
    assert m.status_code == 200 and "openem_http_requests_total" in m.text


def test_signed_out_pages_redirect_to_sign_in_and_api_says_401(world):
    c = world.client()
    r = c.get("/admin/users")
    assert r.url.path == "/sign-in" and "next=/admin/users" in str(r.url)
    r = c.get("/api/me")
    assert r.status_code == 401 and r.json()["error"] == "unauthenticated"


def test_wrong_password_is_refused_with_a_clear_message_and_audited(world):
    c = world.client()
    r = sign_in(c, "demo-admin", "wrong-password-123")
    assert r.status_code == 401
    assert "Enter a correct username and password" in r.text
    assert c.get("/api/me").status_code == 401
    with world.db.uow() as uow:
        failed = (
            uow.session.execute(select(AuditRow).where(AuditRow.action == "auth:login:failed"))
            .scalars()
            .all()
        )
    assert failed and failed[-1].outcome == "denied"


def test_each_role_gets_its_own_home_page(world):
    expectations = {
        "demo-mc-operator": "Alerts",
        "demo-order-creator-court": "Create an order",
        "demo-admin": "Manage users",
        "demo-probation-practitioner": "Your cases",
    }
    for username, link in expectations.items():
        c = world.signed_in(username)
        page = c.get("/")
        assert page.status_code == 200 and link in page.text, username


def test_role_reaching_another_roles_page_is_forbidden_and_audited(world):
    c = world.signed_in("demo-police-officer")
    r = c.get("/admin/users")
    assert r.status_code == 403 and "You do not have permission" in r.text
    r = c.get("/api/users")
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    with world.db.uow() as uow:
        denied = uow.session.execute(select(AuditRow).where(AuditRow.outcome == "denied")).scalars().all()
    assert any(a.action.startswith("web:/admin/users") for a in denied)


def test_expired_session_is_told_to_sign_in_again(world):
    c = world.signed_in("demo-admin")
    assert c.get("/api/me").status_code == 200
    with world.db.uow() as uow:
        uow.session.execute(update(WebSessionRow).values(expires_at=utcnow() - timedelta(minutes=1)))
    r = c.get("/api/me")
    assert r.status_code == 401 and "expired" in r.json()["message"]
    page = c.get("/admin/users")
    assert page.url.path == "/sign-in" and "Your session has expired" in page.text


def test_sign_out_ends_the_session(world):
    c = world.signed_in("demo-admin")
    page = c.get("/")
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    c.post("/sign-out", data={"csrf_token": token})
    assert c.get("/api/me").status_code == 401


def test_missing_or_wrong_csrf_token_is_refused(world):
    c = world.signed_in("demo-admin")
    body = {"username": "newbie", "password": "a-long-password-1", "roles": ["analyst"]}
    r = c.post("/api/users", json=body)
    assert r.status_code == 403 and "expired or was not sent from this site" in r.json()["message"]
    r = c.post("/api/users", json=body, headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403
    r = c.post(
        "/admin/users", data={"username": "newbie", "password": "a-long-password-1", "roles": "analyst"}
    )
    assert r.status_code == 403


def test_admin_adds_a_user_through_the_form_and_bad_input_is_explained(world):
    import re

    c = world.signed_in("demo-admin")
    page = c.get("/admin/users")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = c.post(
        "/admin/users",
        data={"csrf_token": token, "username": "pp2", "password": "short", "roles": "probation_practitioner"},
    )
    assert r.status_code == 422 and "12 characters or more" in r.text
    r = c.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "pp2",
            "password": "a-long-password-1",
            "roles": "probation_practitioner",
            "email": "pp2@example.org",
        },
    )
    assert r.status_code == 200 and "pp2" in r.text
    new = world.client()
    page = sign_in(new, "pp2", "a-long-password-1")
    assert page.status_code == 200 and page.url.path == "/change-password"  # the password was temporary
    choose_password(new, page, "four unrelated words here")
    assert new.get("/api/me").json()["roles"] == ["probation_practitioner"]


def test_malformed_json_and_wrong_types_get_422_with_a_message(world):
    c = world.signed_in("demo-admin")
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/").text).group(1)
    h = {"X-CSRF-Token": token, "content-type": "application/json"}
    r = c.post("/api/users", content=b'{"username": "x", ', headers=h)
    assert r.status_code == 422 and r.json()["message"] == "The request body is not valid JSON"
    r = c.post(
        "/api/users", json={"username": "x", "password": 5, "roles": "admin"}, headers={"X-CSRF-Token": token}
    )
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} >= {"password", "roles"}


def test_oversized_body_gets_413(world):
    c = world.signed_in("demo-admin")
    big = b"x" * (world.app.state.settings.max_body_bytes + 10)
    r = c.post("/api/users", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "too large" in r.json()["message"]


def test_bearer_token_authenticates_api_calls(world):
    from openem.auth.service import issue_token
    from openem.auth.tables import UserRow

    with world.db.uow() as uow:
        uid = uow.session.execute(select(UserRow.id).where(UserRow.username == "demo-admin")).scalar_one()
        token = issue_token(uow.session, actor="test", name="t", user_id=uid)
    c = world.client()
    assert c.get("/api/users", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    r = c.get("/api/users", headers={"Authorization": "Bearer oem_nope"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_requests_carry_a_request_id_and_security_headers(world):
    r = world.client().get("/health", headers={"X-Request-ID": "abc123"})
    assert r.headers["x-request-id"] == "abc123"
    assert (
        r.headers["x-frame-options"] == "DENY"
        and "default-src 'self'" in r.headers["content-security-policy"]
    )
