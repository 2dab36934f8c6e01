"""MQTT ingest (Mosquitto in production): one device message per MQTT message on `openem/telemetry/<device>`.

QoS 1 with manual acknowledgement: a message is acknowledged to the broker only after it is durably stored,
so a crash before the write means the broker redelivers it (and (device, seq) idempotency absorbs repeats).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

log = logging.getLogger("openem.telemetry.mqtt")

TOPIC = "openem/telemetry/#"


class MqttIngest:
    def __init__(self, url: str, store: Callable[[bytes, str], Any], client_id: str = "openem-ingest") -> None:
        import paho.mqtt.client as mqtt

        parsed = urlparse(url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 1883
        self.store = store
        self.received = 0
        self.errors = 0
        self._ready = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
                                  manual_ack=True)
        if parsed.username:
            self.client.username_pw_set(parsed.username, parsed.password)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any = None) -> None:
        client.subscribe(TOPIC, qos=1)
        self._ready.set()

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        try:
            sender = msg.topic.rsplit("/", 1)[-1][:64]
            self.store(bytes(msg.payload), sender)
            self.received += 1
            client.ack(msg.mid, msg.qos)
        except Exception:  # noqa: BLE001 - not acknowledged: the broker redelivers it
            self.errors += 1
            log.exception("mqtt message not stored; left unacknowledged")

    def start(self, timeout_s: float = 10.0) -> None:
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()
        if not self._ready.wait(timeout_s):
            raise TimeoutError(f"MQTT broker {self.host}:{self.port} did not accept the subscription")

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
