"""MQTT ingest is ready only when the broker has acknowledged its subscription (SUBACK), so nothing a device
publishes after `start()` returns can be missed. A stand-in for paho's client plays the broker: it accepts
the connection at once and answers the subscription only when the test says so."""

import threading
from types import SimpleNamespace

import pytest

from openem.telemetry.mqtt import TOPIC, MqttIngest


class Reason(SimpleNamespace):
    def __str__(self) -> str:
        return self.name


GRANTED = Reason(is_failure=False, name="Granted QoS 1")
NOT_AUTHORISED = Reason(is_failure=True, name="Not authorized")


class Broker:
    def __init__(self, ingest: MqttIngest) -> None:
        self.on_connect = ingest.client.on_connect
        self.on_subscribe = ingest.client.on_subscribe
        self.subscriptions: list[tuple[str, int]] = []
        self.subscribed = threading.Event()

    def connect(self, host: str, port: int, keepalive: int = 60) -> int:
        return 0

    def loop_start(self) -> None:  # paho's network thread: the connection is accepted
        threading.Thread(target=self.on_connect, args=(self, None, {}, GRANTED, None), daemon=True).start()

    def subscribe(self, topic: str, qos: int = 0) -> tuple[int, int]:
        self.subscriptions.append((topic, qos))
        self.subscribed.set()
        return 0, 41

    def suback(self, reason: Reason = GRANTED, mid: int = 41) -> None:
        assert self.subscribed.wait(30)
        self.on_subscribe(self, None, mid, [reason], None)

    def loop_stop(self) -> None:
        pass

    def disconnect(self) -> None:
        pass


def ingest_and_broker(*acks: tuple[Reason, int]) -> tuple[MqttIngest, Broker]:
    """An ingest whose broker sends `acks` (reason, mid) once the subscription is sent."""
    ingest = MqttIngest("mqtt://127.0.0.1:1", lambda raw, sender: None)
    broker = ingest.client = Broker(ingest)
    for reason, mid in acks:
        threading.Thread(target=broker.suback, args=(reason, mid), daemon=True).start()
    return ingest, broker


def test_start_waits_for_the_suback_and_fails_clearly_without_one():
    ingest, broker = ingest_and_broker((GRANTED, 40))  # the acknowledgement of another request does not count
    with pytest.raises(
        TimeoutError, match="did not acknowledge the subscription to openem/telemetry/# within"
    ):
        ingest.start(timeout_s=0.5)
    assert broker.subscriptions == [(TOPIC, 1)]


def test_start_returns_once_the_broker_has_acknowledged_the_subscription():
    ingest, broker = ingest_and_broker((GRANTED, 41))
    ingest.start(timeout_s=30)
    assert broker.subscriptions == [(TOPIC, 1)]


def test_a_refused_subscription_is_a_clear_error():
    ingest, _ = ingest_and_broker((NOT_AUTHORISED, 41))
    with pytest.raises(
        ConnectionError, match="refused the subscription to openem/telemetry/#: Not authorized"
    ):
        ingest.start(timeout_s=30)
