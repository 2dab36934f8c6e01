"""Events breaches publishes (through the outbox)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from openem.bus.messages import Event, message_type


@message_type
@dataclasses.dataclass(frozen=True)
class BreachOpened(Event):
    topic: ClassVar[str] = "breaches.BreachOpened"
    breach_id: str = ""
    incident_id: str = ""
    person_id: str = ""
    order_ref: str = ""
    agency: str = ""
    team: str = ""


@message_type
@dataclasses.dataclass(frozen=True)
class PackIssued(Event):
    """A pack version is ready: notify delivers it to the responsible inboxes and their channels."""

    topic: ClassVar[str] = "breaches.PackIssued"
    breach_id: str = ""
    version: int = 1
    order_ref: str = ""
    person_id: str = ""
    agency: str = ""
    team: str = ""
    officer: str = ""
    urgency: str = "standard"
    title: str = ""
    summary: str = ""
    sha256: str = ""
    link: str = ""
    pack: dict[str, object] = dataclasses.field(default_factory=dict)  # the JSON pack (for webhooks)


@message_type
@dataclasses.dataclass(frozen=True)
class ReminderDue(Event):
    """No outcome recorded in time: `level` remind (the team) or escalate (the team's managers)."""

    topic: ClassVar[str] = "breaches.ReminderDue"
    breach_id: str = ""
    order_ref: str = ""
    team: str = ""
    officer: str = ""
    level: str = "remind"
    title: str = ""
    link: str = ""


@message_type
@dataclasses.dataclass(frozen=True)
class ResponseRecorded(Event):
    topic: ClassVar[str] = "breaches.ResponseRecorded"
    breach_id: str = ""
    order_ref: str = ""
    agency: str = ""
    step: str = ""
    value: str = ""
