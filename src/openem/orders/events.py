"""Events the orders capability publishes (past tense, JSON-safe, carried through the outbox)."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from openem.bus.messages import Event, message_type


@message_type
@dataclasses.dataclass(frozen=True)
class OrderSubmitted(Event):
    """A version was submitted (field books the install visit for NEW / REINSTALL requests)."""

    topic: ClassVar[str] = "orders.OrderSubmitted"
    order_ref: str
    version: int
    request_type: str
    person_id: str | None
    submitted_by: str
    submitted_at: str
    order: dict[str, Any]


@message_type
@dataclasses.dataclass(frozen=True)
class OrderAccepted(Event):
    topic: ClassVar[str] = "orders.OrderAccepted"
    order_ref: str
    version: int
    request_type: str
    accepted_by: str
    accepted_at: str
    order: dict[str, Any]


@message_type
@dataclasses.dataclass(frozen=True)
class OrderRejected(Event):
    topic: ClassVar[str] = "orders.OrderRejected"
    order_ref: str
    version: int
    rejected_by: str
    rejected_at: str
    reasons: list[str]


@message_type
@dataclasses.dataclass(frozen=True)
class OrderVaried(Event):
    """An accepted variation: monitoring rules change from `effective_at`. `diff` is a list of
    {"field", "before", "after"}; `variation_types` codes come from variation_types.csv."""

    topic: ClassVar[str] = "orders.OrderVaried"
    order_ref: str
    version: int
    previous_version: int
    variation_types: list[str]
    diff: list[dict[str, Any]]
    effective_at: str
    order: dict[str, Any]


@message_type
@dataclasses.dataclass(frozen=True)
class OrderEnded(Event):
    """Monitoring ends: remove the tag and collect the equipment."""

    topic: ClassVar[str] = "orders.OrderEnded"
    order_ref: str
    version: int
    person_id: str | None
    ended_by: str
    ended_at: str
    reason: str


@message_type
@dataclasses.dataclass(frozen=True)
class OrderSuspended(Event):
    """Monitoring of an active order is paused from `suspended_from`: the engine raises nothing for it until
    `OrderResumed`. `until` is the planned resume (ISO date), if any; `order` is the document in force."""

    topic: ClassVar[str] = "orders.OrderSuspended"
    order_ref: str
    version: int
    person_id: str | None
    suspended_by: str
    suspended_from: str
    until: str | None
    reason: str
    order: dict[str, Any]


@message_type
@dataclasses.dataclass(frozen=True)
class OrderResumed(Event):
    """Monitoring of a suspended order resumes from `resumed_at`; `order` is the document in force."""

    topic: ClassVar[str] = "orders.OrderResumed"
    order_ref: str
    version: int
    person_id: str | None
    resumed_by: str
    resumed_at: str
    order: dict[str, Any]
