"""What the server gives away: HSTS in production, no caching of pages and API answers, `/metrics` only to the
scrape token or this machine, the API documentation only to signed-in users in production."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.conftest import World, make_settings

METRICS_TOKEN = "scrape-" + "x" * 24


@pytest.fixture
def production(db: Any, db_url: str, tmp_path: Any) -> World:
    from openem.platform_cli import seed_demo_users
    from openem.server import create_app

    created = seed_demo_users(db, one_off=False)
    settings = make_settings(tmp_path, db_url, OPENEM_ENV="production", OPENEM_METRICS_TOKEN=METRICS_TOKEN)
    return World(create_app(settings, db, start_dispatcher=False), db, {u: p for u, _, p in created})


def https_client(world: World, **kw: Any) -> TestClient:
    """Production cookies are Secure: the browser only sends them over HTTPS."""
    return TestClient(world.app, base_url="https://testserver", follow_redirects=True, **kw)


def user_token(world: World, username: str) -> str:
    from sqlalchemy import select

    from openem.auth.service import issue_token
    from openem.auth.tables import UserRow

    with world.db.uow() as uow:
        uid = uow.session.execute(select(UserRow.id).where(UserRow.username == username)).scalar_one()
        return issue_token(uow.session, actor="test", name="docs", user_id=uid)


def test_production_answers_tell_browsers_to_use_https_only(production, world):
    r = https_client(production).get("/sign-in")
    assert r.headers["strict-transport-security"].startswith("max-age=31536000")
    assert (
        "strict-transport-security" not in world.client().get("/sign-in").headers
    )  # development: plain HTTP


def test_pages_and_api_answers_with_personal_data_are_never_stored(world):
    c = world.signed_in("demo-order-creator-court")
    for path in ("/", "/orders", "/sign-in", "/api/me", "/api/orders", "/no-such-page", "/api/no-such-thing"):
        r = c.get(path)
        assert r.headers.get("cache-control") == "no-store", (
            path,
            r.status_code,
            r.headers.get("cache-control"),
        )
    for path in ("/static/openem.css", "/health"):
        r = c.get(path)
        assert r.status_code == 200 and "no-store" not in r.headers.get("cache-control", ""), path


def test_metrics_answer_only_the_scrape_token_or_this_machine(production):
    anyone = https_client(production)
    assert anyone.get("/metrics").status_code == 401
    assert anyone.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = anyone.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert ok.status_code == 200 and "openem_http_requests_total" in ok.text
    local = https_client(production, client=("127.0.0.1", 40000))
    assert local.get("/metrics").status_code == 200
    relayed = local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert relayed.status_code == 401  # a proxy on this machine does not make its clients local


def test_metrics_without_a_configured_token_answer_only_this_machine(world):
    assert world.client().get("/metrics", headers={"Authorization": "Bearer anything"}).status_code == 401
    local = TestClient(world.app, client=("::1", 40000))
    assert local.get("/metrics").status_code == 200


def test_api_documentation_needs_a_signed_in_user_in_production(production):
    anyone = https_client(production)
    for path in ("/api/openapi.json", "/api/docs"):
        r = anyone.get(path)
        assert r.status_code == 401 and r.json()["error"] == "unauthenticated", path
    auth = {"Authorization": f"Bearer {user_token(production, 'demo-mc-operator')}"}
    doc = anyone.get("/api/openapi.json", headers=auth)
    assert doc.status_code == 200 and "/api/orders" in doc.json()["paths"]
    assert anyone.get("/api/docs", headers=auth).status_code == 200
    signed_in = https_client(production)
    from tests.conftest import sign_in

    sign_in(signed_in, "demo-admin", production.passwords["demo-admin"])
    assert signed_in.get("/api/docs").status_code == 200


def test_api_documentation_is_open_in_development(world):
    c = world.client()
    assert c.get("/api/openapi.json").status_code == 200
    assert c.get("/api/docs").status_code == 200
    assert "/api/openapi.json" not in c.get("/api/openapi.json").json()["paths"]
