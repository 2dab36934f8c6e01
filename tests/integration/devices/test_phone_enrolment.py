"""A phone enrolled by `openem devices enrol` sends what Traccar Client sends to the URL it printed; the
messages are stored and read back like any device's; every wrong request is refused with a reason (never a
500), and the good messages of a mixed report are kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from openem.auth.tables import AuditRow
from openem.cli import main
from openem.devices import queries as device_queries
from openem.devices.tables import DeviceEnrolmentRow, DeviceRow
from openem.telemetry.queries import messages_by_key
from openem.telemetry.tables import TelemetryMessageRow, TelemetryRejectionRow
from openem.telemetry.web import api


@pytest.fixture
def cli_env(monkeypatch, world, db_url, tmp_path):
    monkeypatch.setenv("OPENEM_DATABASE_URL", db_url)
    monkeypatch.setenv("OPENEM_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("OPENEM_PUBLIC_URL", raising=False)
    api._buckets.clear()
    yield
    api._buckets.clear()


def enrol(capsys, device_id: str, kind: str = "NFD", *extra: str) -> str:
    assert main(["devices", "enrol", device_id, "--kind", kind, *extra]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    url = out[-1]
    assert url.startswith("http://127.0.0.1:8000/ingest/osmand/") and " " not in url
    return url.removeprefix("http://127.0.0.1:8000")


def _fix(device_id: str, minutes_ago: float = 1.0, **extra: str) -> dict[str, str]:
    t = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes_ago)
    return {"id": device_id, "lat": "53.8", "lon": "-1.55", "timestamp": str(int(t.timestamp())),
            "accuracy": "12", **extra}  # fmt: skip


def _stored(world, device_id: str) -> list[TelemetryMessageRow]:
    with world.db.sessions() as s:
        return list(s.scalars(select(TelemetryMessageRow).where(TelemetryMessageRow.device_id == device_id)))


def test_enrol_prints_the_url_last_and_keeps_only_the_hash(world, cli_env, capsys):
    path = enrol(capsys, "PHONE-1", "VICTIM")
    token = path.rsplit("/", 1)[1]
    with world.db.sessions() as s:
        row = s.scalars(select(DeviceEnrolmentRow)).one()
        assert row.device_id == "PHONE-1" and row.kind == "VICTIM" and row.revoked_at is None
        assert token not in row.token_hash and len(row.token_hash) == 64
        assert s.get(DeviceRow, "PHONE-1").device_kind == "VICTIM"
        actions = s.scalars(select(AuditRow.action)).all()
    assert "devices:PHONE-1:enrol" in actions


def test_a_phone_get_post_form_and_json_are_stored_and_readable(world, cli_env, capsys):
    path = enrol(capsys, "PHONE-1")
    c = world.client()
    assert c.get(path, params=_fix("PHONE-1", 4)).json()["accepted"] == 1
    assert c.post(path, params=_fix("PHONE-1", 3)).json()["accepted"] == 1
    assert c.post(path, data=_fix("PHONE-1", 2, batt="80")).json()["accepted"] == 2
    t = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    body = {"device_id": "PHONE-1", "location": {"timestamp": t.isoformat(), "is_moving": True,
            "coords": {"latitude": 53.81, "longitude": -1.54, "accuracy": 6, "speed": 2.0, "heading": 10},
            "battery": {"level": 0.5, "is_charging": False}}}  # fmt: skip
    r = c.post(path, json=body)
    assert r.status_code == 200 and r.json()["accepted"] == 2, r.text
    rows = _stored(world, "PHONE-1")
    assert sorted(r.type for r in rows) == ["battery", "battery", "gps", "gps", "gps", "gps"]
    with world.db.sessions() as s:  # read back through telemetry's public queries, as any device's
        read = messages_by_key(s, [(r.device_id, r.seq) for r in rows])
    assert len(read) == 6 and any(m.payload.get("accuracy_m") == 6.0 for m in read)


def test_wrong_links_and_ids_are_refused_with_a_reason_and_nothing_stored(world, cli_env, capsys):
    path = enrol(capsys, "PHONE-1")
    enrol(capsys, "PHONE-2")
    c = world.client()
    cases = [
        (path, {k: v for k, v in _fix("PHONE-1").items() if k != "id"}, 422, "missing_id"),
        (path, _fix("PHONE-2"), 403, "id_not_enrolled"),  # another enrolled phone's id: still not this link's
        (path, _fix("UNKNOWN-9"), 403, "id_not_enrolled"),
        (path[:-3] + "abc", _fix("PHONE-1"), 404, "unknown_token"),
        ("/ingest/osmand/short", _fix("PHONE-1"), 404, "unknown_token"),
    ]
    for url, params, status, code in cases:
        r = c.post(url, params=params)
        assert r.status_code == status and r.json()["error"] == code and r.json()["message"], (url, r.text)
    r = c.post(path, json={"location": {"coords": {"latitude": 53.8, "longitude": -1.5}}})
    assert r.status_code == 422 and r.json()["error"] == "missing_id"
    assert _stored(world, "PHONE-1") == [] and _stored(world, "PHONE-2") == []


def test_a_revoked_link_is_refused_and_a_new_one_works(world, cli_env, capsys):
    old = enrol(capsys, "PHONE-1")
    assert main(["devices", "enrol", "PHONE-1", "--kind", "NFD"]) == 1  # a second live one needs --replace
    assert "already has a live enrolment" in capsys.readouterr().err
    assert main(["devices", "revoke-enrolment", "PHONE-1", "--reason", "phone lost"]) == 0
    c = world.client()
    r = c.post(old, params=_fix("PHONE-1"))
    assert r.status_code == 410 and r.json()["error"] == "revoked_token"
    new = enrol(capsys, "PHONE-1")
    assert c.post(new, params=_fix("PHONE-1")).json()["accepted"] == 1
    newer = enrol(capsys, "PHONE-1", "NFD", "--replace")
    assert c.post(new, params=_fix("PHONE-1", 2)).status_code == 410
    assert c.post(newer, params=_fix("PHONE-1", 3)).json()["accepted"] == 1
    assert main(["devices", "enrolments", "PHONE-1"]) == 0
    listing = capsys.readouterr().out
    assert listing.count("revoked") == 2 and listing.count("live") == 1
    with world.db.sessions() as s:
        actions = s.scalars(select(AuditRow.action)).all()
    assert "devices:PHONE-1:revoke_enrolment" in actions


def test_a_fitted_kind_cannot_be_enrolled_as_a_phone(world, cli_env, capsys):
    with world.db.uow() as uow:
        uow.session.add(DeviceRow(device_id="TAG-1", device_kind="GPS_TAG"))
    assert main(["devices", "enrol", "TAG-1", "--kind", "NFD"]) == 1
    assert "GPS_TAG" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["devices", "enrol", "TAG-1", "--kind", "GPS_TAG"])


def test_hostile_reports_keep_the_good_messages_and_never_answer_500(world, cli_env, capsys):
    path = enrol(capsys, "PHONE-1")
    c = world.client()
    far = datetime.now(UTC) + timedelta(days=400)
    r = c.post(path, params={**_fix("PHONE-1"), "timestamp": str(int(far.timestamp()))})
    assert r.status_code == 200 and r.json()["accepted"] == 0 and r.json()["rejected"] == 1
    r = c.post(path, params={**_fix("PHONE-1", 5), "lat": "95.0"})
    assert r.status_code == 200 and r.json()["rejected"] == 1
    r = c.post(path, params={**_fix("PHONE-1", 6), "lon": "nan"})
    assert r.status_code == 200 and r.json()["rejected"] == 1
    good = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    mixed = {"device_id": "PHONE-1", "location": [
        {"timestamp": good.isoformat(), "coords": {"latitude": 53.8, "longitude": -1.55, "accuracy": 5}},
        {"timestamp": good.isoformat(), "coords": {"latitude": 153.8, "longitude": -1.55}},
        {"timestamp": far.isoformat(), "coords": {"latitude": 53.8, "longitude": -1.55}},
        {"timestamp": "yesterday", "coords": {"latitude": 53.8}},
        "not an object",
    ]}  # fmt: skip
    r = c.post(path, json=mixed)
    assert r.status_code == 200 and r.json()["accepted"] == 1 and r.json()["rejected"] == 4, r.text
    huge = c.post(path, content=b'{"device_id": "PHONE-1", "pad": "' + b"x" * 70_000 + b'"}',
                  headers={"Content-Type": "application/json"})  # fmt: skip
    assert huge.status_code == 413 and huge.json()["error"] == "too_large"
    long_query = c.get(path, params={**_fix("PHONE-1"), "cell": "x" * 5000})
    assert long_query.status_code == 413
    for body, ctype in [(b"{not json", "application/json"), (b"\xff\xfe\x00", "application/json"),
                        (b"[" * 5000, "application/json"), (b"--x\r\nbroken", "multipart/form-data; boundary=x"),
                        (b"id=PHONE-1&lat=%ZZ", "application/x-www-form-urlencoded")]:  # fmt: skip
        r = c.post(path, content=body, headers={"Content-Type": ctype})
        assert 400 <= r.status_code < 500 or r.json().get("accepted") == 0, (body[:20], r.status_code, r.text)
    rows = _stored(world, "PHONE-1")
    assert [r.type for r in rows] == ["gps"] and rows[0].payload["accuracy_m"] == 5.0
    with world.db.sessions() as s:
        reasons = s.scalars(select(TelemetryRejectionRow.reason)).all()
    assert len(reasons) >= 7


def test_a_flooding_phone_gets_429_with_the_limit_and_nothing_of_the_flood_is_stored(world, cli_env, capsys,
                                                                                       monkeypatch):  # fmt: skip
    path = enrol(capsys, "PHONE-1")
    monkeypatch.setattr(api, "PHONE_BURST", 3.0)
    monkeypatch.setattr(api, "PHONE_RATE_PER_S", 0.001)
    c = world.client()
    answers = [c.post(path, params=_fix("PHONE-1", 10 - i)) for i in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert (
        int(answers[-1].headers["Retry-After"]) >= 1 and "reports a second" in answers[-1].json()["message"]
    )
    assert len(_stored(world, "PHONE-1")) == 3


def test_a_client_guessing_links_is_throttled(world, cli_env, capsys):
    path = enrol(capsys, "PHONE-1")
    c = world.client()
    answers = [
        c.get(f"/ingest/osmand/{'A' * 31}{i % 10}", params=_fix("PHONE-1")).status_code for i in range(25)
    ]
    assert answers[0] == 404 and answers[-1] == 429
    assert c.get(path, params=_fix("PHONE-1")).status_code == 429  # even the right link, from that address
    with world.db.sessions() as s:
        assert device_queries.enrolment_verdict(s, path.rsplit("/", 1)[1], "PHONE-1").ok
