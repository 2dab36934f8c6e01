"""MQTT ingest (Mosquitto in production): one device message per MQTT message on `openem/telemetry/<device>`.

QoS 1 with manual acknowledgement: a message is acknowledged to the broker only after it is durably stored,
so a crash before the write means the broker redelivers it (and (device, seq) idempotency absorbs repeats).
`start()` returns once the broker has acknowledged the subscription (SUBACK), not merely the connection:
a message published after `start()` returns is delivered.
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
    def __init__(
        self, url: str, store: Callable[[bytes, str], Any], client_id: str = "openem-ingest"
    ) -> None:
        import paho.mqtt.client as mqtt

        parsed = urlparse(url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 1883
        self.store = store
        self.received = 0
        self.errors = 0
        self._ready = threading.Event()  # set by the SUBACK (or by a refusal, with `_refused` saying why)
        self._refused = ""
        self._subscribe_mid: int | None = None
        version = mqtt.CallbackAPIVersion.VERSION2  # type: ignore[attr-defined]
        self.client = mqtt.Client(version, client_id=client_id, clean_session=False, manual_ack=True)
        if parsed.username:
            self.client.username_pw_set(parsed.username, parsed.password)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any = None) -> None:
        if getattr(reason, "is_failure", False):
            self._refused = f"refused the connection: {reason}"
            self._ready.set()
            return
        # on every (re)connection; callbacks run on the network thread, so the SUBACK comes after this returns
        _, self._subscribe_mid = client.subscribe(TOPIC, qos=1)

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, reasons: Any, props: Any = None) -> None:
        if mid != self._subscribe_mid:
            return
        failed = [str(r) for r in reasons if getattr(r, "is_failure", False)]
        if failed:
            self._refused = f"refused the subscription to {TOPIC}: {', '.join(failed)}"
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
        """Connect and subscribe; return when the broker has acknowledged the subscription. Raises
        TimeoutError when it has not within `timeout_s`, ConnectionError when it refused."""
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()
        if not self._ready.wait(timeout_s) or self._refused:
            self.client.loop_stop()
            self.client.disconnect()
            if self._refused:
                raise ConnectionError(f"MQTT broker {self.host}:{self.port} {self._refused}")
            raise TimeoutError(
                f"MQTT broker {self.host}:{self.port} did not acknowledge the subscription to "
                f"{TOPIC} within {timeout_s:g} s"
            )

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
