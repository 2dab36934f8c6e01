"""An administrator manages users: change roles and scopes, assign a caseload, reset a password, deactivate
(after a confirmation step) and reactivate; each change is audited, CSRF-protected and confirmed by a banner."""

import re
from datetime import UTC, datetime

from sqlalchemy import select
from tests.conftest import choose_password, sign_in

from openem.auth.tables import AuditRow, UserRow
from openem.orders.samples import sample_order


def csrf(page_text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]*)"', page_text).group(1)


def user_id(world, username: str) -> str:
    with world.db.uow() as uow:
        return uow.session.execute(select(UserRow.id).where(UserRow.username == username)).scalar_one()


def audited(world, action: str) -> list[AuditRow]:
    with world.db.uow() as uow:
        rows = uow.session.execute(select(AuditRow).where(AuditRow.action == action)).scalars().all()
        uow.session.expunge_all()
        return rows


def post(client, path: str, data: dict, page: str | None = None):
    token = csrf(client.get(page or path).text)
    return client.post(path, data={**data, "csrf_token": token})


def test_adding_a_user_says_so_and_links_to_their_page(world):
    admin = world.signed_in("demo-admin")
    r = post(
        admin,
        "/admin/users",
        {
            "username": "new-officer",
            "password": "a-long-enough-password",
            "display_name": "Nia Officer",
            "roles": ["police_officer"],
            "police_area": "MERSEYSIDE",
        },
    )
    assert r.status_code == 200
    assert "Nia Officer has been added" in r.text
    assert f'href="/admin/users/{user_id(world, "new-officer")}"' in r.text


def test_a_bad_new_user_keeps_what_was_typed_and_says_what_to_fix(world):
    admin = world.signed_in("demo-admin")
    r = post(
        admin,
        "/admin/users",
        {"username": "someone", "password": "short", "display_name": "Sam One", "roles": ["analyst"]},
    )
    assert r.status_code == 422
    assert "Password must be 12 characters or more" in r.text
    assert 'value="Sam One"' in r.text and 'value="analyst" checked' in r.text


def test_admin_changes_roles_and_scopes_and_the_user_gets_them(world):
    uid = user_id(world, "demo-police-officer")
    admin = world.signed_in("demo-admin")
    edit = admin.get(f"/admin/users/{uid}/edit")
    assert edit.status_code == 200
    version = re.search(r'name="version" value="(\d+)"', edit.text).group(1)
    r = admin.post(
        f"/admin/users/{uid}/edit",
        data={
            "csrf_token": csrf(edit.text),
            "version": version,
            "display_name": "Pat Police",
            "email": "pat@police.example",
            "roles": ["police_officer", "analyst"],
            "police_area": "cleveland",
            "organisation": "",
            "restricted": "yes",
        },
    )
    assert r.status_code == 200 and "Roles and scopes changed for Pat Police" in r.text
    assert "CLEVELAND" in r.text and "Analyst" in r.text
    [row] = audited(world, f"auth:{uid}:update")
    assert row.details["changed"]["police_area"]["to"] == "CLEVELAND"
    assert row.details["changed"]["restricted"] == {"from": False, "to": True}
    # the user's next request runs with the new scopes
    officer = world.signed_in("demo-police-officer")
    assert "analyst" in officer.get("/api/me").json()["roles"]


def test_an_edit_on_a_stale_page_is_refused_not_lost(world):
    uid = user_id(world, "demo-analyst")
    admin = world.signed_in("demo-admin")
    edit = admin.get(f"/admin/users/{uid}/edit")
    token, version = csrf(edit.text), re.search(r'name="version" value="(\d+)"', edit.text).group(1)
    form = {"csrf_token": token, "version": version, "display_name": "First", "roles": ["analyst"]}
    assert admin.post(f"/admin/users/{uid}/edit", data=form).status_code == 200
    r = admin.post(f"/admin/users/{uid}/edit", data={**form, "display_name": "Second"})
    assert r.status_code == 409 and "Someone else changed this user" in r.text
    with world.db.uow() as uow:
        assert uow.session.get(UserRow, uid).display_name == "First"


def test_admin_cannot_remove_their_own_admin_role_or_deactivate_themself(world):
    uid = user_id(world, "demo-admin")
    admin = world.signed_in("demo-admin")
    edit = admin.get(f"/admin/users/{uid}/edit")
    version = re.search(r'name="version" value="(\d+)"', edit.text).group(1)
    r = admin.post(
        f"/admin/users/{uid}/edit",
        data={"csrf_token": csrf(edit.text), "version": version, "display_name": "Me", "roles": ["analyst"]},
    )
    assert r.status_code == 422 and "cannot remove your own administrator role" in r.text
    r = post(admin, f"/admin/users/{uid}/deactivate", {}, page=f"/admin/users/{uid}")
    assert r.status_code == 422
    assert admin.get("/admin/users").status_code == 200


def test_caseload_is_assigned_and_removed_and_the_practitioner_sees_the_case(world):
    c = world.signed_in("demo-order-creator-court")
    doc = sample_order(datetime.now(UTC))
    r = c.post("/api/orders", json=doc, headers={"X-CSRF-Token": csrf(c.get("/orders").text)})
    assert r.status_code == 201, r.text
    ref = r.json()["ref"]
    uid = user_id(world, "demo-probation-practitioner")
    admin = world.signed_in("demo-admin")
    r = post(admin, f"/admin/users/{uid}/caseload", {"order_ref": "ORD-NOSUCH1"}, page=f"/admin/users/{uid}")
    assert r.status_code == 422 and "There is no order ORD-NOSUCH1" in r.text
    r = post(admin, f"/admin/users/{uid}/caseload", {"order_ref": "not a ref!"}, page=f"/admin/users/{uid}")
    assert r.status_code == 422 and "Enter an order reference like" in r.text
    r = post(admin, f"/admin/users/{uid}/caseload", {"order_ref": ref.lower()}, page=f"/admin/users/{uid}")
    assert r.status_code == 200 and "Order added to the caseload of" in r.text and ref in r.text
    assert audited(world, f"auth:{uid}:assign_case")[0].records == [uid, ref]
    practitioner = world.signed_in("demo-probation-practitioner")
    assert practitioner.get(f"/api/orders/{ref}").status_code == 200
    r = post(admin, f"/admin/users/{uid}/caseload/remove", {"order_ref": ref}, page=f"/admin/users/{uid}")
    assert "Order removed from the caseload of" in r.text
    assert audited(world, f"auth:{uid}:unassign_case")
    assert practitioner.get(f"/api/orders/{ref}").status_code == 404


def test_password_reset_shows_a_one_off_password_once_and_signs_the_user_out(world):
    uid = user_id(world, "demo-analyst")
    analyst = world.signed_in("demo-analyst")
    admin = world.signed_in("demo-admin")
    r = post(admin, f"/admin/users/{uid}/reset-password", {}, page=f"/admin/users/{uid}")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    password = re.search(r'id="new-password"[^>]*>([^<]+)<', r.text).group(1)
    assert len(password) >= 12
    assert password not in admin.get(f"/admin/users/{uid}").text
    assert analyst.get("/api/me").status_code == 401  # their old session has ended
    assert sign_in(world.client(), "demo-analyst", world.passwords["demo-analyst"]).status_code == 401
    fresh = world.client()
    page = sign_in(fresh, "demo-analyst", password)
    assert "Choose a new password" in page.text  # a one-off password must be changed before anything else
    assert fresh.get("/api/me").status_code == 403
    assert choose_password(fresh, page, "four unrelated words here").url.path == "/"
    assert fresh.get("/api/me").status_code == 200
    [row] = audited(world, f"auth:{uid}:reset_password")
    assert password not in str(row.details)


def test_deactivation_asks_first_then_reactivation_lets_the_user_back(world):
    uid = user_id(world, "demo-field-officer")
    officer = world.signed_in("demo-field-officer")
    admin = world.signed_in("demo-admin")
    page = admin.get(f"/admin/users/{uid}")
    assert (
        f'href="/admin/users/{uid}/deactivate"' in page.text
    )  # a link to the question, not a button that acts
    confirm = admin.get(f"/admin/users/{uid}/deactivate")
    assert "Are you sure you want to deactivate" in confirm.text
    assert officer.get("/api/me").status_code == 200  # nothing has happened yet
    r = admin.post(f"/admin/users/{uid}/deactivate", data={"csrf_token": csrf(confirm.text)})
    assert "has been deactivated and signed out" in r.text
    assert officer.get("/api/me").status_code == 401
    r = post(admin, f"/admin/users/{uid}/reactivate", {}, page=f"/admin/users/{uid}")
    assert "has been reactivated" in r.text
    assert audited(world, f"auth:{uid}:deactivate") and audited(world, f"auth:{uid}:activate")
    assert world.signed_in("demo-field-officer").get("/api/me").status_code == 200


def test_every_change_needs_the_csrf_token_and_the_permission(world):
    uid = user_id(world, "demo-analyst")
    admin = world.signed_in("demo-admin")
    for path in ("/edit", "/caseload", "/caseload/remove", "/reset-password", "/deactivate", "/reactivate"):
        r = admin.post(f"/admin/users/{uid}{path}", data={"order_ref": "ORD-1", "roles": ["analyst"]})
        assert r.status_code == 403, path
    operator = world.signed_in("demo-mc-operator")
    token = csrf(operator.get("/").text)
    for path in ("", "/edit", "/deactivate"):
        assert operator.get(f"/admin/users/{uid}{path}").status_code == 403
    assert operator.post(f"/admin/users/{uid}/reset-password", data={"csrf_token": token}).status_code == 403
    assert not audited(world, f"auth:{uid}:reset_password")


def test_the_banner_cannot_be_made_to_say_something_else(world):
    admin = world.signed_in("demo-admin")
    uid = user_id(world, "demo-analyst")
    r = admin.get(f"/admin/users/{uid}?done=<script>alert(1)</script>")
    assert (
        r.status_code == 200 and "govuk-notification-banner" not in r.text and "<script>alert" not in r.text
    )
    assert admin.get("/admin/users/USR-NOSUCH").status_code == 404
