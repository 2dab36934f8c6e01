"""Brute force: sign-in lockout per account and throttling per client address (held in the database), an
audited unlock, answers that reveal neither whether an account exists nor whether a locked account's
password was right, and bearer-token guessing throttled per address (429 with Retry-After)."""

import os
import re
import subprocess
import sys
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from openem.auth.tables import AuditRow, SignInThrottleRow
from openem.core.time import utcnow

LOCKED = "too many attempts to sign in"


def client(world, address):
    return TestClient(world.app, follow_redirects=True, client=(address, 50000))


def attempt(c, username, password):
    page = c.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)
    return c.post(
        "/sign-in", data={"username": username, "password": password, "csrf_token": token, "next": "/"}
    )


def error_text(resp):
    return re.search(r'id="username-error"[^>]*>.*?</span>\s*(.*?)</p>', resp.text, re.S).group(1).strip()


def signed_in(c):
    return c.get("/api/me").status_code == 200


def test_25_wrong_passwords_then_the_right_one_is_refused_until_an_audited_unlock(world, db_url):
    user, right = "demo-analyst", world.passwords["demo-analyst"]
    attacker = client(world, "198.51.100.7")
    answers = [attempt(attacker, user, f"wrong-password-{i}") for i in range(25)]
    assert [r.status_code for r in answers[:4]] == [401] * 4
    assert all(r.status_code == 429 for r in answers[4:])
    assert LOCKED in error_text(answers[4]).lower()
    assert int(answers[-1].headers["Retry-After"]) > 0
    r = attempt(attacker, user, right)
    assert r.status_code == 429 and not signed_in(attacker)
    owner = client(world, "203.0.113.20")  # the real user, from elsewhere: the account itself is locked
    assert attempt(owner, user, right).status_code == 429 and not signed_in(owner)

    env = {**os.environ, "OPENEM_DATABASE_URL": db_url, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-m", "openem.cli", "users", "unlock", user.upper()],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "unlocked" in done.stdout
    attempt(owner, user, right)
    assert signed_in(owner)
    with world.db.uow() as uow:
        unlocks = (
            uow.session.execute(select(AuditRow).where(AuditRow.action.like("auth:%:unlock"))).scalars().all()
        )
    assert [(u.actor, u.details["username"], u.details["was_locked"]) for u in unlocks] == [
        ("cli", user, True)
    ]


def test_a_locked_accounts_right_password_gets_the_same_answer_as_a_wrong_one(world):
    user = "demo-field-officer"
    c = client(world, "198.51.100.8")
    for i in range(5):
        attempt(c, user, f"wrong-password-{i}")
    right = attempt(c, user, world.passwords[user])
    wrong = attempt(c, user, "another-wrong-one")
    assert right.status_code == wrong.status_code == 429
    assert error_text(right) == error_text(wrong)
    assert (
        right.headers["Retry-After"] == wrong.headers["Retry-After"]
        or abs(int(right.headers["Retry-After"]) - int(wrong.headers["Retry-After"])) <= 1
    )
    assert not signed_in(c)


def test_an_unknown_username_locks_the_same_way_so_lockouts_do_not_reveal_accounts(world):
    real, made_up = client(world, "198.51.100.9"), client(world, "198.51.100.10")
    answers_real = [attempt(real, "demo-mc-operator", f"wrong-{i}-password") for i in range(6)]
    answers_made_up = [attempt(made_up, "nobody-by-this-name", f"wrong-{i}-password") for i in range(6)]
    assert [r.status_code for r in answers_real] == [r.status_code for r in answers_made_up]
    assert [error_text(r) for r in answers_real] == [error_text(r) for r in answers_made_up]


def test_the_lockout_ends_by_itself_and_the_next_one_lasts_longer(world):
    user, right = "demo-admin", world.passwords["demo-admin"]
    c = client(world, "198.51.100.11")
    for i in range(5):
        attempt(c, user, f"wrong-{i}-password")
    with world.db.uow() as uow:
        first = uow.session.get(SignInThrottleRow, "account:demo-admin")
        first_lock = first.locked_until - first.window_start
        uow.session.execute(update(SignInThrottleRow).values(locked_until=utcnow() - timedelta(seconds=1)))
    for i in range(5):
        attempt(c, user, f"wrong-{i}-again")
    with world.db.uow() as uow:
        second = uow.session.get(SignInThrottleRow, "account:demo-admin")
        assert second.locked_until - second.window_start == 2 * first_lock
        uow.session.execute(update(SignInThrottleRow).values(locked_until=utcnow() - timedelta(seconds=1)))
    attempt(c, user, right)
    assert signed_in(c)


def test_one_address_guessing_many_accounts_is_throttled(world):
    c = client(world, "198.51.100.12")
    answers = [attempt(c, f"guess-{i}", "some-wrong-password") for i in range(21)]
    assert [r.status_code for r in answers[:19]] == [401] * 19
    assert answers[19].status_code == 429 and answers[20].status_code == 429
    assert int(answers[20].headers["Retry-After"]) > 0
    # a real account's right password from that address waits too; from another address it works
    assert attempt(c, "demo-analyst", world.passwords["demo-analyst"]).status_code == 429
    other = client(world, "203.0.113.21")
    attempt(other, "demo-analyst", world.passwords["demo-analyst"])
    assert signed_in(other)


def test_wrong_bearer_tokens_are_throttled_per_address_with_retry_after(world):
    from openem.auth.service import issue_token

    with world.db.uow() as uow:
        good = issue_token(uow.session, actor="test", name="gw", device_scope="gateway-1")
    guesser = client(world, "198.51.100.13")
    answers = [guesser.get("/api/me", headers={"Authorization": f"Bearer oem_guess{i}"}) for i in range(21)]
    assert [r.status_code for r in answers[:19]] == [401] * 19
    assert answers[19].status_code == 429 and answers[20].status_code == 429
    assert answers[20].json()["error"] == "too_many_requests" and int(answers[20].headers["Retry-After"]) > 0
    # refused unchecked while throttled, even a right token; other addresses are unaffected
    assert (
        guesser.post(
            "/api/telemetry/batch", headers={"Authorization": f"Bearer {good}"}, content=b"[]"
        ).status_code
        == 429
    )
    elsewhere = client(world, "203.0.113.22")
    assert (
        elsewhere.post(
            "/api/telemetry/batch", headers={"Authorization": f"Bearer {good}"}, content=b"[]"
        ).status_code
        != 429
    )
    with world.db.uow() as uow:
        row = uow.session.get(SignInThrottleRow, "token-address:198.51.100.13")
        assert row.locked_until > utcnow()


def test_an_administrator_sees_the_lockout_and_unlocks_it_on_the_users_page(world):
    user = "demo-police-officer"
    c = client(world, "198.51.100.14")
    for i in range(5):
        attempt(c, user, f"wrong-{i}-password")
    admin = world.signed_in("demo-admin")
    page = admin.get("/admin/users")
    assert "Locked out" in page.text
    with world.db.uow() as uow:
        from openem.auth.tables import UserRow

        user_id = uow.session.execute(select(UserRow.id).where(UserRow.username == user)).scalar_one()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    done = admin.post(f"/admin/users/{user_id}/unlock", data={"csrf_token": token})
    assert done.status_code == 200 and "Locked out" not in done.text
    attempt(c, user, world.passwords[user])
    assert signed_in(c)
    with world.db.uow() as uow:
        unlock = uow.session.execute(
            select(AuditRow).where(AuditRow.action == f"auth:{user_id}:unlock")
        ).scalar_one()
    assert unlock.details["was_locked"] is True and unlock.actor != "cli"


def test_parallel_guesses_at_one_account_get_no_more_than_the_allowed_failures(world):
    import threading

    statuses, lock = [], threading.Lock()

    def guess(n):
        c = TestClient(
            world.app, follow_redirects=True, raise_server_exceptions=False, client=(f"192.0.2.{n}", 1)
        )
        got = [attempt(c, "demo-analyst", f"wrong-{n}-{i}-password").status_code for i in range(4)]
        with lock:
            statuses.extend(got)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [401] * 4 + [429] * 12
