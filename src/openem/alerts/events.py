"""Events alerts publishes. `alerts.IncidentEscalated` carries the `incident` dict of docs contracts."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from openem.bus.messages import Event, key_from, message_type


@message_type
@dataclasses.dataclass(frozen=True)
class IncidentEscalated(Event):
    topic: ClassVar[str] = "alerts.IncidentEscalated"
    incident: dict[str, Any] = dataclasses.field(default_factory=dict)

    def key(self) -> str:
        return key_from(self.topic, lambda name: self.incident.get(name))
