"""What an operator sees and does about parked messages: the page and its Retry buttons (CSRF-protected,
audited), the home-page banner, /health, /metrics and the `openem bus` commands."""

import json
import re

import pytest
from sqlalchemy import select
from tests.integration.bus.events import OrderNoted, local_dispatcher, publish, until_parked

from openem.auth.tables import AuditRow, UserRow
from openem.bus import outbox
from openem.bus.outbox import OutboxRow
from openem.bus.registry import Registry
from openem.cli import main

PAGE = "/admin/parked-messages"


@pytest.fixture
def parked(world):
    """ORD-A's first message parked (its handler kept failing), its second held behind it; ORD-B's delivered.
    Returns (dispatcher, handled, the parked message, fix())."""
    outbox.install(world.db)
    handled, broken = [], {"ORD-A"}

    def handler(payload, uow):
        if payload["order_ref"] in broken:
            raise LookupError(f"order {payload['order_ref']} not loaded")
        handled.append((payload["order_ref"], payload["n"]))

    registry = Registry()
    registry.on(OrderNoted.topic, "notes", handler)
    publish(world.db, OrderNoted("ORD-A", 1), OrderNoted("ORD-A", 2), OrderNoted("ORD-B", 1))
    dispatcher = local_dispatcher(world.db, registry)
    [message] = until_parked(dispatcher, world.db)
    return dispatcher, handled, message, broken.clear


def csrf(page_text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page_text).group(1)


def audit_actions(db, prefix: str) -> list[tuple[str, str]]:
    with db.uow() as uow:
        rows = uow.session.execute(select(AuditRow).where(AuditRow.action.like(f"{prefix}%"))).scalars().all()
        return [(r.actor, r.action) for r in rows]


def user_id(db, username: str) -> str:
    with db.uow() as uow:
        return uow.session.execute(select(UserRow.id).where(UserRow.username == username)).scalar_one()


def test_the_page_lists_the_parked_message_and_its_retry_delivers_it_then_the_one_held_behind_it(
    world, parked
):
    dispatcher, handled, message, fix = parked
    admin = world.signed_in("demo-admin")
    page = admin.get(PAGE)
    assert page.status_code == 200
    for shown in (
        OrderNoted.topic,
        message.message_id,
        "order:ORD-A",
        "LookupError: order ORD-A not loaded",
        "1 held behind it",
        "Retry all 1 message",
    ):
        assert shown in page.text, shown
    assert f'action="{PAGE}/{message.message_id}/retry"' in page.text

    fix()
    done = admin.post(f"{PAGE}/{message.message_id}/retry", data={"csrf_token": csrf(page.text)})
    assert (
        done.status_code == 200
        and "1 message sent again" in done.text
        and "No messages are parked" in done.text
    )
    assert audit_actions(world.db, "bus:") == [
        (user_id(world.db, "demo-admin"), f"bus:{message.message_id}:retry")
    ]
    assert dispatcher.drain() == 2
    assert handled == [("ORD-B", 1), ("ORD-A", 1), ("ORD-A", 2)]


def test_retry_all_re_queues_every_parked_message_and_is_audited_once(world, parked):
    _, _, message, _ = parked
    admin = world.signed_in("demo-admin")
    done = admin.post(f"{PAGE}/retry-all", data={"csrf_token": csrf(admin.get(PAGE).text)})
    assert "1 message sent again" in done.text
    assert audit_actions(world.db, "bus:") == [(user_id(world.db, "demo-admin"), "bus:parked:retry-all")]
    with world.db.uow() as uow:
        assert (
            uow.session.execute(
                select(OutboxRow.parked_at).where(OutboxRow.id == message.message_id)
            ).scalar_one()
            is None
        )


def test_a_retry_without_the_forms_token_or_by_a_user_without_the_permission_is_refused(world, parked):
    _, _, message, _ = parked
    admin = world.signed_in("demo-admin")
    assert admin.post(f"{PAGE}/{message.message_id}/retry", data={}).status_code == 403
    operator = world.signed_in("demo-mc-operator")
    assert operator.get(PAGE).status_code == 403
    token = csrf(operator.get("/").text)
    assert operator.post(f"{PAGE}/retry-all", data={"csrf_token": token}).status_code == 403
    assert "No messages are parked" not in admin.get(PAGE).text  # still parked
    assert audit_actions(world.db, "bus:") == []


def test_retrying_a_message_no_longer_parked_says_so(world, parked):
    _, _, message, _ = parked
    admin = world.signed_in("demo-admin")
    token = csrf(admin.get(PAGE).text)
    admin.post(f"{PAGE}/{message.message_id}/retry", data={"csrf_token": token})
    again = admin.post(f"{PAGE}/{message.message_id}/retry", data={"csrf_token": token})
    assert again.status_code == 200 and "That message is no longer parked" in again.text


def test_the_home_page_tells_administrators_and_only_them(world, parked):
    assert "1 message has failed every delivery and is parked" in world.signed_in("demo-admin").get("/").text
    assert "parked" not in world.signed_in("demo-mc-operator").get("/").text


def test_health_says_degraded_with_the_parked_count_and_metrics_show_it(world, parked):
    dispatcher, _, _, fix = parked
    dispatcher.refresh_metrics()
    health = world.client().get("/health")
    assert (
        health.status_code == 200 and health.json()["status"] == "degraded" and health.json()["parked"] == 1
    )
    from fastapi.testclient import TestClient

    scraper = TestClient(world.app, client=("127.0.0.1", 40000))  # a scraper on this machine (exposure rules)
    assert "openem_bus_parked_messages 1.0" in scraper.get("/metrics").text
    fix()
    with world.db.uow() as uow:
        from openem.bus.parking import requeue

        requeue(uow.session)
    dispatcher.drain()
    health = world.client().get("/health").json()
    assert {k: health[k] for k in ("status", "database", "parked", "database_kind")} | {"version": ""} == {
        "status": "ok",
        "version": "",
        "database": "ok",
        "parked": 0,
        "database_kind": "sqlite" if world.db.is_sqlite else "postgresql",
    }


def test_the_cli_lists_parked_messages_and_retries_them_by_id_audited(
    world, parked, db_url, tmp_path, monkeypatch, capsys
):
    dispatcher, handled, message, fix = parked
    monkeypatch.setenv("OPENEM_DATABASE_URL", db_url)
    monkeypatch.setenv("OPENEM_VAR_DIR", str(tmp_path / "var"))
    assert main(["bus", "parked", "--json"]) == 0
    [listed] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {k: listed[k] for k in ("id", "topic", "key", "attempts", "held")} == {
        "id": message.message_id,
        "topic": OrderNoted.topic,
        "key": "order:ORD-A",
        "attempts": 3,
        "held": 1,
    }
    assert listed["error"] == "LookupError: order ORD-A not loaded"

    assert main(["bus", "retry"]) == 2
    assert main(["bus", "retry", "MSG-NO-SUCH"]) == 1
    assert "MSG-NO-SUCH is not a parked message" in capsys.readouterr().err
    fix()
    assert main(["bus", "retry", message.message_id]) == 0
    assert audit_actions(world.db, "bus:") == [("cli", f"bus:{message.message_id}:retry")]
    assert dispatcher.drain() == 2 and handled[-2:] == [("ORD-A", 1), ("ORD-A", 2)]
    assert main(["bus", "parked"]) == 0 and "0 parked message(s)" in capsys.readouterr().err
