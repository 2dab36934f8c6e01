"""The demo as a newcomer meets it: each scoped role's user sees work in the simulated world, the fleet shows a
live alert (from the paced part, not the backlog) within a bounded wall time, and passwords go to a file."""

from __future__ import annotations

import re
import socket
import stat
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from tests.conftest import choose_password, make_settings, sign_in

from openem.alerts.tables import AlertRow
from openem.demo import say_users
from openem.demo_fleet import (
    FleetProgress,
    demo_scopes,
    demo_start,
    demo_world,
    load_world_into,
    stream_fleet,
)
from openem.platform_cli import seed_demo_users
from openem.sim.stream import Pacer

NOW = datetime.now(UTC)
SPEED = 60.0  # the demo's default: a live alert within its first real minute


@pytest.fixture(scope="module")
def sim_world():
    return demo_world(NOW, wearers=80, days=1)


@pytest.fixture
def demo(sim_world, sqlite_url, tmp_path):
    from openem.server import create_app
    from openem.store.db import Database

    db = Database(sqlite_url)
    _, token = load_world_into(db, sim_world, NOW)
    until = demo_start(sim_world, NOW, SPEED) + timedelta(seconds=SPEED * 600)  # as the demo does
    passwords = {u: p for u, _, p in seed_demo_users(db, demo_scopes(sim_world, until))}
    app = create_app(make_settings(tmp_path, sqlite_url), db)
    yield app, db, token, passwords
    db.dispose()


def _client(app, passwords, username):
    from fastapi.testclient import TestClient

    c = TestClient(app, follow_redirects=True)
    # the demo's passwords are one-off: the first sign-in chooses a new one
    choose_password(c, sign_in(c, username, passwords[username]), "correct horse battery staple")
    return c


def test_each_scoped_role_sees_orders_of_the_world_on_first_sign_in(demo):
    app, _, _, passwords = demo
    for username in (
        "demo-probation-practitioner",
        "demo-police-officer",
        "demo-field-officer",
        "demo-order-creator-prison",
        "demo-order-creator-home-office",
    ):
        page = _client(app, passwords, username).get("/orders?tab=all").text
        assert re.search(r"ORD-\d{11}", page), f"{username} sees no order"


def _serve(app):
    import uvicorn

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


def test_the_fleet_at_high_speed_shows_a_live_alert_within_a_bounded_time(demo, sim_world):
    app, db, token, passwords = demo
    speed = SPEED
    start = demo_start(sim_world, NOW, speed)
    assert start < NOW
    server, thread, url = _serve(app)
    progress = FleetProgress()
    fleet = threading.Thread(
        target=stream_fleet,
        args=(app.state.settings, url, token, sim_world, start, speed, progress),
        daemon=True,
    )
    fleet.start()
    live_alert = None
    deadline = time.monotonic() + 240  # the backlog first: sent at once, processed as it arrives
    try:
        while progress.live_since is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert progress.live_since is not None, f"the backlog was not sent: {progress}"
        # an alert detected from data the server received after the whole backlog: the engine at work, live
        deadline = time.monotonic() + 60
        while live_alert is None and time.monotonic() < deadline:
            with db.uow() as uow:
                row = uow.session.execute(
                    select(AlertRow).where(AlertRow.detected_at > progress.live_since).limit(1)
                ).scalar_one_or_none()
                live_alert = row and (row.kind, row.start, row.detected_at)
            if live_alert is None:
                time.sleep(0.5)
        assert live_alert is not None, f"no live alert: {progress}"
        assert progress.live  # it came from the paced part, after the backlog
        police, officer = [], _client(app, passwords, "demo-police-officer")
        deadline = time.monotonic() + 120
        while not police and time.monotonic() < deadline:  # once the fleet has run a little
            police = officer.get("/api/alerts").json() or time.sleep(1.0) or []
        assert police, f"the police user's force has no alert: {progress}"
    finally:
        progress.finished = True
        server.should_exit = True
        thread.join(timeout=10)


def test_the_pacer_never_sends_ahead_of_the_real_clock():
    wall = [1_000_000.0]
    pacer = Pacer(3600.0, start=wall[0] - 100, clock=lambda: 0.0, wall=lambda: wall[0])
    assert pacer.wait_s(wall[0] - 50) == pytest.approx(50 / 3600)  # in the past: paced at 3,600x
    assert pacer.wait_s(wall[0] + 30) == pytest.approx(30.0)  # in the future: waits for the clock


def test_passwords_go_to_a_private_file_and_a_second_run_says_where(tmp_path, capsys):
    path = say_users(tmp_path, [("demo-admin", "Administrator", "s3cret-pass")])
    assert "s3cret-pass" in path.read_text() and stat.S_IMODE(path.stat().st_mode) == 0o600
    out = capsys.readouterr().out
    assert str(path) in out and "s3cret-pass" not in out
    say_users(tmp_path, [])
    assert str(path) in capsys.readouterr().out
    path.unlink()
    say_users(tmp_path, [])
    assert "openem users reset-password" in capsys.readouterr().out
