"""The order lifecycle as a pure state machine over immutable records.

draft -> submitted -> accepted | rejected (with reasons) -> active (tag fitted) -> ended; an active order may
be suspended (monitoring paused: the engine judges nothing from the suspension until the resume) and resumed.
Only a draft version is editable; submitting freezes it. A variation (of an accepted or active order) or an
amendment of a rejected order is a new draft version copied from the last one. When a variation is accepted
the version it replaces becomes superseded and the new one takes its place (active if the old one was).
"""

from __future__ import annotations

import copy
import dataclasses
from datetime import datetime
from typing import Any

from openem.core.errors import Conflict
from openem.core.time import iso
from openem.orders.model import OrderStatus, RequestType

S = OrderStatus

#: action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[OrderStatus], OrderStatus]] = {
    "submit": (frozenset({S.DRAFT}), S.SUBMITTED),
    "accept": (frozenset({S.SUBMITTED}), S.ACCEPTED),
    "reject": (frozenset({S.SUBMITTED}), S.REJECTED),
    "activate": (frozenset({S.ACCEPTED}), S.ACTIVE),
    "end": (frozenset({S.ACCEPTED, S.ACTIVE, S.SUSPENDED}), S.ENDED),
    "suspend": (frozenset({S.ACTIVE}), S.SUSPENDED),
    "resume": (frozenset({S.SUSPENDED}), S.ACTIVE),
}
#: request type of a new version -> statuses of the latest version it may follow
NEW_VERSION_FROM: dict[RequestType, frozenset[OrderStatus]] = {
    RequestType.VARIATION: frozenset({S.ACCEPTED, S.ACTIVE}),
    RequestType.AMEND_REJECTED: frozenset({S.REJECTED}),
    RequestType.REINSTALL: frozenset({S.ACTIVE}),
    RequestType.REVOCATION: frozenset({S.ACCEPTED, S.ACTIVE}),
    RequestType.END_MONITORING: frozenset({S.ACCEPTED, S.ACTIVE}),
}


@dataclasses.dataclass(frozen=True)
class OrderVersion:
    version: int
    status: OrderStatus
    request_type: RequestType
    document: dict[str, Any]
    created_by: str
    created_at: str
    submitted_at: str | None = None
    decided_at: str | None = None
    rejection_reasons: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class OrderRecord:
    """An order and all its versions (oldest first)."""

    ref: str
    person_id: str | None
    versions: tuple[OrderVersion, ...]

    @property
    def latest(self) -> OrderVersion:
        return self.versions[-1]

    @property
    def current(self) -> OrderVersion | None:
        """The version in force (accepted or active), if any."""
        for v in reversed(self.versions):
            if v.status in (S.ACCEPTED, S.ACTIVE, S.SUSPENDED, S.ENDED):
                return v
        return None

    def replace_latest(self, version: OrderVersion) -> OrderRecord:
        return dataclasses.replace(self, versions=(*self.versions[:-1], version))


def next_status(status: OrderStatus, action: str) -> OrderStatus:
    """The status after `action`, or Conflict if the action is not allowed from `status`."""
    if action not in TRANSITIONS:
        raise ValueError(f"unknown action {action!r}")
    sources, target = TRANSITIONS[action]
    if status not in sources:
        raise Conflict(f"You cannot {action} an order that is {status.value.lower()}", code="order_state")
    return target


def require_editable(version: OrderVersion) -> None:
    if version.status is not S.DRAFT:
        raise Conflict(
            f"Only a draft can be changed. This version is {version.status.value.lower()}",
            code="order_frozen",
        )


def new_draft(
    ref: str, document: dict[str, Any], actor: str, at: datetime, person_id: str | None = None
) -> OrderRecord:
    doc = copy.deepcopy(document)
    doc.update(ref=ref, version=1, request_type=doc.get("request_type") or RequestType.NEW.value)
    if person_id:
        doc["person_id"] = person_id
    version = OrderVersion(1, S.DRAFT, RequestType(doc["request_type"]), doc, actor, iso(at))
    return OrderRecord(ref, person_id or doc.get("person_id"), (version,))


def add_version(record: OrderRecord, request_type: RequestType, actor: str, at: datetime) -> OrderRecord:
    """A new draft version copied from the last one (variation, amendment of a rejection, ...)."""
    allowed = NEW_VERSION_FROM.get(request_type)
    if allowed is None:
        raise Conflict(
            f"A {request_type.value} request cannot be made on an existing order", code="order_state"
        )
    latest = record.latest
    if latest.status not in allowed:
        raise Conflict(
            f"You cannot make a {request_type.value.lower().replace('_', ' ')} request while the order is {latest.status.value.lower()}",
            code="order_state",
        )
    doc = copy.deepcopy(latest.document)
    doc.update(version=latest.version + 1, request_type=request_type.value)
    version = OrderVersion(latest.version + 1, S.DRAFT, request_type, doc, actor, iso(at))
    return dataclasses.replace(record, versions=(*record.versions, version))


def apply(record: OrderRecord, action: str, at: datetime, reasons: tuple[str, ...] = ()) -> OrderRecord:
    """Move the latest version through `action`; accepting a variation supersedes the version it replaces."""
    latest = record.latest
    status = next_status(latest.status, action)
    stamp = iso(at)
    changes: dict[str, Any] = {"status": status}
    if action == "submit":
        changes["submitted_at"] = stamp
    if action in ("accept", "reject"):
        changes["decided_at"] = stamp
    if action == "reject":
        changes["rejection_reasons"] = tuple(reasons)
    versions = list(record.versions)
    if action == "accept" and latest.request_type is not RequestType.NEW:
        previous = record.current
        if previous is not None and previous.status in (S.ACCEPTED, S.ACTIVE):
            if previous.status is S.ACTIVE and latest.request_type is not RequestType.REINSTALL:
                changes["status"] = S.ACTIVE  # a variation of a fitted order applies at once
            versions[versions.index(previous)] = dataclasses.replace(previous, status=S.SUPERSEDED)
    versions[-1] = dataclasses.replace(latest, **changes)
    return dataclasses.replace(record, versions=tuple(versions))


def suspend(record: OrderRecord, actor: str, at: datetime, reason: str, until: str | None) -> OrderRecord:
    """Suspend the active order from `at`: its document records the suspension (the engine reads it)."""
    record = apply(record, "suspend", at)
    latest = record.latest
    doc = copy.deepcopy(latest.document)
    entry = {
        "reason": reason,
        "from": iso(at),
        "until": until,
        "by": actor,
        "resumed_at": None,
        "resumed_by": None,
    }
    doc["suspensions"] = [*(doc.get("suspensions") or []), entry]
    return record.replace_latest(dataclasses.replace(latest, document=doc))


def resume(record: OrderRecord, actor: str, at: datetime) -> OrderRecord:
    """Resume a suspended order from `at`."""
    record = apply(record, "resume", at)
    latest = record.latest
    doc = copy.deepcopy(latest.document)
    suspensions = [dict(s) for s in doc.get("suspensions") or []]
    if suspensions:
        suspensions[-1].update(resumed_at=iso(at), resumed_by=actor)
    doc["suspensions"] = suspensions
    return record.replace_latest(dataclasses.replace(latest, document=doc))


def current_suspension(version: OrderVersion) -> dict[str, Any] | None:
    """The open suspension of a suspended version, or None."""
    if version.status is not S.SUSPENDED:
        return None
    entries = version.document.get("suspensions") or []
    return dict(entries[-1]) if entries else None
