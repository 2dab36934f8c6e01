"""Events notify publishes: a message reached an inbox or channel; an official acknowledged it."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from openem.bus.messages import Event, message_type


@message_type
@dataclasses.dataclass(frozen=True)
class MessageDelivered(Event):
    topic: ClassVar[str] = "notify.MessageDelivered"
    subject_kind: str = ""
    subject_id: str = ""
    subject_version: int = 1
    order_ref: str = ""
    channel: str = ""  # inbox | email | webhook
    address: str = ""
    at: str = ""


@message_type
@dataclasses.dataclass(frozen=True)
class MessageAcknowledged(Event):
    topic: ClassVar[str] = "notify.MessageAcknowledged"
    subject_kind: str = ""
    subject_id: str = ""
    order_ref: str = ""
    inbox: str = ""
    by: str = ""
    at: str = ""
