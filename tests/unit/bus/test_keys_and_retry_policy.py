"""What a message's delivery key is (its order, else its person, else its topic), and the retry policy."""

import dataclasses
from datetime import timedelta

import pytest

from openem.bus.messages import Event, key_of_payload, message_type
from openem.bus.retry import RetryPolicy
from openem.monitoring.events import AlertRaised
from openem.orders.events import OrderAccepted, OrderEnded


@message_type
@dataclasses.dataclass(frozen=True)
class PersonMoved(Event):
    topic = "test.PersonMoved"
    person_id: str | None
    order_ref: str = ""


def test_an_order_event_and_an_alert_about_the_same_order_share_a_key():
    accepted = OrderAccepted("ORD-1", 1, "NEW", "u", "2026-12-01T00:00:00Z", {})
    ended = OrderEnded("ORD-1", 2, "PER-9", "u", "2026-12-02T00:00:00Z", "revoked")
    alert = AlertRaised(
        "ALR-1",
        "curfew",
        "HIGH",
        "PER-9",
        "ORD-1",
        "DEV-1",
        "C1",
        "2026-12-01T22:00:00Z",
        None,
        "2026-12-01T22:05:00Z",
        False,
        [],
        {},
    )
    assert accepted.key() == ended.key() == alert.key() == "order:ORD-1"


def test_without_an_order_the_person_is_the_key_and_without_either_the_topic():
    assert PersonMoved("PER-9").key() == "person:PER-9"
    assert PersonMoved(None).key() == PersonMoved("  ").key() == "test.PersonMoved"


def test_a_message_known_only_by_its_payload_gets_the_same_key():
    assert (
        key_of_payload("monitoring.AlertRaised", {"order_ref": "ORD-1", "person_id": "PER-9"})
        == "order:ORD-1"
    )
    assert key_of_payload("elsewhere.Unknown", {"person_id": "PER-9"}) == "person:PER-9"
    assert key_of_payload("elsewhere.Unknown", {"order_ref": 7}) == "elsewhere.Unknown"


def test_the_wait_doubles_up_to_its_ceiling_and_the_cap_parks():
    policy = RetryPolicy(max_attempts=5, base_s=2, max_s=10)
    assert [policy.backoff(n) for n in (1, 2, 3, 4)] == [timedelta(seconds=s) for s in (2, 4, 8, 10)]
    assert [policy.exhausted(n) for n in (4, 5)] == [False, True]


def test_the_policy_comes_from_the_environment_and_bad_values_are_refused_clearly():
    assert RetryPolicy.from_env({}) == RetryPolicy(5, 2.0, 300.0)
    assert (
        RetryPolicy.from_env({"OPENEM_BUS_MAX_ATTEMPTS": "8", "OPENEM_BUS_RETRY_BASE_S": "0.5"}).max_attempts
        == 8
    )
    with pytest.raises(ValueError, match="OPENEM_BUS_MAX_ATTEMPTS must be at least 1"):
        RetryPolicy.from_env({"OPENEM_BUS_MAX_ATTEMPTS": "0"})
    with pytest.raises(ValueError, match="bus retry settings"):
        RetryPolicy.from_env({"OPENEM_BUS_RETRY_BASE_S": "soon"})
