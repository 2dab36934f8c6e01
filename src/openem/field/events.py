"""Events the field capability publishes (past tense, JSON-safe, through the outbox).

`VisitReminderDue` is for notify/ to deliver (in-app or by a channel it owns); `OrderErrorReported` feeds an
attempt that found the order wrong back to order entry; `AddressLocated` / `AddressCheckNeeded` say what the
postcode lookup found for an order's address, so that order entry can show or correct the pin."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from openem.bus.messages import Event, message_type


@message_type
@dataclasses.dataclass(frozen=True)
class VisitReminderDue(Event):
    """Remind the wearer of a booked visit `hours_before` it (the appointment is in UTC, ISO)."""

    topic: ClassVar[str] = "field.VisitReminderDue"
    visit_id: str
    order_ref: str
    person_id: str
    appointment_at: str
    hours_before: int
    location: str


@message_type
@dataclasses.dataclass(frozen=True)
class OrderErrorReported(Event):
    """A field officer found the order wrong at a visit (wrong address, wrong person, wrong conditions)."""

    topic: ClassVar[str] = "field.OrderErrorReported"
    order_ref: str
    visit_id: str
    person_id: str
    reported_by: str
    reported_at: str
    note: str


@message_type
@dataclasses.dataclass(frozen=True)
class AddressLocated(Event):
    topic: ClassVar[str] = "field.AddressLocated"
    order_ref: str
    visit_id: str
    postcode: str
    lat: float
    lon: float
    source: str


@message_type
@dataclasses.dataclass(frozen=True)
class AddressCheckNeeded(Event):
    """The address could not be placed (postcode missing, malformed or unknown): check it before planning."""

    topic: ClassVar[str] = "field.AddressCheckNeeded"
    order_ref: str
    visit_id: str
    postcode: str
    reason: str
    message: str


@message_type
@dataclasses.dataclass(frozen=True)
class DayReplanned(Event):
    topic: ClassVar[str] = "field.DayReplanned"
    officer: str
    day: str
    reason: str
    visits: list[str]
    unplanned: list[str]


@message_type
@dataclasses.dataclass(frozen=True)
class RegionDayPlanned(Event):
    """A region's day was planned with its officers: each officer's visits in order (a pair shares one route),
    the pairs, and the visits left out (the reasons are on the plan and in the audit)."""

    topic: ClassVar[str] = "field.RegionDayPlanned"
    region: str
    day: str
    routes: dict[str, list[str]]
    crews: list[list[str]]
    unplanned: list[str]


@message_type
@dataclasses.dataclass(frozen=True)
class AddressPinCorrected(Event):
    """The order's creator moved the pin of one of its addresses (audited): routing uses it at once; order
    entry and the monitoring engine can take the coordinates for the address (`address_type`)."""

    topic: ClassVar[str] = "field.AddressPinCorrected"
    order_ref: str
    address_type: str
    postcode: str
    lat: float
    lon: float
    before_lat: float | None
    before_lon: float | None
    corrected_by: str
    corrected_at: str
