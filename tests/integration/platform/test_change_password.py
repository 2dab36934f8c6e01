"""A password someone else gave a user (`openem users reset-password`, an administrator's reset, the demo's
one-off passwords) must be changed at the next sign-in, on a "Choose a new password" page, before anything
else: every other page leads there and the API refuses the session with a 403 saying why."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from tests.conftest import choose_password, make_settings, sign_in

from openem.auth.tables import AuditRow, UserRow
from openem.cli import main

NEW = "four unrelated words here"


def reset_by_cli(world, db_url, tmp_path, monkeypatch, capsys, username: str) -> str:
    monkeypatch.setenv("OPENEM_DATABASE_URL", db_url)
    monkeypatch.setenv("OPENEM_VAR_DIR", str(tmp_path / "var"))
    assert main(["users", "reset-password", username]) == 0
    out = capsys.readouterr().out
    assert "must choose a new password" in out
    return re.search(rf"new password for {username}: (\S+)", out).group(1)


def audit_rows(world, action: str) -> list[tuple[str, dict]]:
    with world.db.uow() as uow:
        rows = uow.session.execute(select(AuditRow).where(AuditRow.action == action).order_by(AuditRow.seq))
        return [(r.outcome, dict(r.details or {})) for r in rows.scalars()]


def user_id(world, username: str) -> str:
    with world.db.uow() as uow:
        return uow.session.execute(select(UserRow.id).where(UserRow.username == username)).scalar_one()


def form(client, page, password: str, confirm: str):
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)
    return client.post(
        "/change-password", data={"password": password, "confirm": confirm, "csrf_token": token, "next": "/"}
    )


def test_a_reset_password_leads_to_choose_a_new_one_before_anything_else(
    world, db_url, tmp_path, monkeypatch, capsys
):
    given = reset_by_cli(world, db_url, tmp_path, monkeypatch, capsys, "demo-mc-operator")
    client = world.client()
    page = sign_in(client, "demo-mc-operator", given)
    assert page.url.path == "/change-password"
    assert '<h1 class="govuk-heading-l">Choose a new password</h1>' in page.text
    assert 'href="/alerts"' not in page.text  # no menu to pages that are not open yet

    # every page leads back to the change; the API says what to do
    assert client.get("/alerts").url.path == "/change-password"
    assert client.get("/").url.path == "/change-password"
    me = client.get("/api/me")
    assert me.status_code == 403
    assert me.json()["error"] == "password_change_required"
    assert "must choose a new password" in me.json()["message"]
    assert client.get("/api/alerts").status_code == 403

    # chosen: the pages and the API open, with a fresh session
    old_cookie = client.cookies.get("openem_session")
    home = choose_password(client, page, NEW)
    assert home.url.path == "/" and "Choose a new password" not in home.text
    assert client.cookies.get("openem_session") != old_cookie
    assert client.get("/api/me").json()["username"] == "demo-mc-operator"

    # the new password signs in straight to the service; the given one no longer does
    again = world.client()
    assert sign_in(again, "demo-mc-operator", NEW).url.path == "/"
    assert sign_in(world.client(), "demo-mc-operator", given).status_code == 401
    uid = user_id(world, "demo-mc-operator")
    assert audit_rows(world, f"auth:{uid}:change_password") == [("ok", {"required": True})]


@pytest.mark.parametrize(
    ("password", "confirm", "field", "message"),
    [
        ("", "", "password", "Enter a new password"),
        ("short one", "short one", "password", "Password must be 12 characters or more"),
        ("x" * 201, "x" * 201, "password", "Password must be 200 characters or fewer"),
        (
            "i am demo-analyst really",
            "i am demo-analyst really",
            "password",
            "must not contain your username",
        ),
        (NEW, "", "confirm", "Confirm your new password"),
        (NEW, NEW + " but not", "confirm", "The passwords do not match"),
    ],
)
def test_a_new_password_that_breaks_a_rule_is_refused_with_the_reason(
    world, db_url, tmp_path, monkeypatch, capsys, password, confirm, field, message
):
    given = reset_by_cli(world, db_url, tmp_path, monkeypatch, capsys, "demo-analyst")
    client = world.client()
    page = sign_in(client, "demo-analyst", given)
    r = form(client, page, password, confirm)
    assert r.status_code == 422
    assert "There is a problem" in r.text and message in r.text
    assert f'href="#{field}"' in r.text and f'id="{field}-error"' in r.text
    assert r.text.count("<title>Error: Choose a new password") == 1
    assert client.get("/api/me").status_code == 403  # still to be chosen
    [(outcome, details)] = audit_rows(world, f"auth:{user_id(world, 'demo-analyst')}:change_password")
    assert outcome == "denied" and any(message in p for p in details["problems"])
    assert not password or password not in str(details)  # the password itself is never audited


def test_the_given_password_cannot_be_kept(world, db_url, tmp_path, monkeypatch, capsys):
    given = reset_by_cli(world, db_url, tmp_path, monkeypatch, capsys, "demo-analyst")
    client = world.client()
    page = sign_in(client, "demo-analyst", given)
    r = form(client, page, given, given)
    assert r.status_code == 422 and "must be different from the password you were given" in r.text
    assert form(client, r, NEW, NEW).url.path == "/"


def test_the_change_needs_the_form_token_and_a_signed_in_session(
    world, db_url, tmp_path, monkeypatch, capsys
):
    assert world.client().get("/change-password").url.path == "/sign-in"
    given = reset_by_cli(world, db_url, tmp_path, monkeypatch, capsys, "demo-analyst")
    client = world.client()
    sign_in(client, "demo-analyst", given)
    r = client.post("/change-password", data={"password": NEW, "confirm": NEW, "csrf_token": "forged"})
    assert r.status_code == 403
    assert client.get("/api/me").status_code == 403
    # a user who was not given a password is not held on the page
    signed = world.signed_in("demo-admin")
    assert signed.get("/change-password").url.path == "/"


def test_the_demo_one_off_passwords_must_be_changed_at_the_first_sign_in(db, db_url, tmp_path):
    from fastapi.testclient import TestClient

    from openem.platform_cli import seed_demo_users
    from openem.server import create_app

    passwords = {u: p for u, _, p in seed_demo_users(db)}  # as `openem demo` writes to var/demo-users.txt
    app = create_app(make_settings(tmp_path, db_url), db, start_dispatcher=False)
    client = TestClient(app, follow_redirects=True)
    page = sign_in(client, "demo-order-creator-court", passwords["demo-order-creator-court"])
    assert page.url.path == "/change-password"
    assert client.get("/orders").url.path == "/change-password"
    assert choose_password(client, page, NEW).url.path == "/"
    assert client.get("/orders").status_code == 200


def test_an_administrator_reset_on_the_pages_is_changed_at_the_next_sign_in(world):
    uid = user_id(world, "demo-field-officer")
    admin = world.signed_in("demo-admin")
    token = re.search(r'name="csrf_token" value="([^"]*)"', admin.get(f"/admin/users/{uid}").text).group(1)
    r = admin.post(f"/admin/users/{uid}/reset-password", data={"csrf_token": token})
    assert "must choose a new one" in r.text
    given = re.search(r'id="new-password"[^>]*>([^<]+)<', r.text).group(1)
    client = world.client()
    page = sign_in(client, "demo-field-officer", given)
    assert page.url.path == "/change-password"
    assert choose_password(client, page, NEW).url.path == "/"
