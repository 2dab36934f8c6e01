"""Events the monitoring capability publishes: `AlertRaised` carries one alert record (JSON-safe)."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from openem.bus.messages import Event, message_type


@message_type
@dataclasses.dataclass(frozen=True)
class AlertRaised(Event):
    topic: ClassVar[str] = "monitoring.AlertRaised"

    alert_id: str
    kind: str
    severity: str
    person_id: str
    order_ref: str
    device_id: str
    condition_id: str
    start: str
    end: str | None
    detected_at: str
    late_detected: bool
    evidence: list[list[Any]]
    details: dict[str, Any]

    @classmethod
    def from_alert(cls, alert: dict[str, Any]) -> AlertRaised:
        fields = {k: v for k, v in alert.items() if k != "id"}
        return cls(alert_id=alert["id"], **fields)
