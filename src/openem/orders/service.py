"""Use cases over an `OrderRepository` and a unit of work. Each takes the acting user id, adds its events
(published through the outbox) and one audit entry (action `orders:<ORDER_REF>:<verb>`) to the unit of work,
which writes them in its own commit, and returns a `ServiceResult` saying what it recorded. Validation
failures raise `OrderInvalid` carrying field errors (and record nothing).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Collection, Iterable, Mapping
from datetime import date
from typing import Any, Protocol

import openem.auth  # noqa: F401  (registers the audit writer that records this service's audit entries)
from openem.bus.messages import Event
from openem.core.errors import Conflict, Invalid, NotFound
from openem.core.ids import new_id
from openem.core.time import Clock, iso, local_date
from openem.orders import events as ev
from openem.orders import lifecycle
from openem.orders.diff import diff_orders, variation_types
from openem.orders.documents import missing_documents
from openem.orders.lifecycle import OrderRecord
from openem.orders.model import LIST_SECTIONS, SECTIONS, OrderStatus, RequestType
from openem.orders.rules import ValidationError, validate_order
from openem.orders.rules.acknowledge import acknowledge
from openem.orders.rules.duplicates import PossibleDuplicate, find_possible_duplicates, match_keys
from openem.orders.rules.structure import check_structure

AuditEntry = tuple[str, str, dict[str, Any]]


class Unit(Protocol):
    """Where a use case's events and audit entries go: `openem.store.db.UnitOfWork` (written in its commit), or
    `InMemoryUnit` in tests."""

    def add_event(self, event_obj: Any) -> None: ...

    def add_audit(
        self,
        *,
        actor: str,
        action: str,
        records: Iterable[str] = (),
        purpose: str = "",
        outcome: str = "ok",
        details: dict[str, Any] | None = None,
    ) -> None: ...


class InMemoryUnit:
    """Collects events and audit entries in lists (the in-memory counterpart of the store's unit of work)."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.audit: list[dict[str, Any]] = []

    def add_event(self, event_obj: Any) -> None:
        self.events.append(event_obj)

    def add_audit(
        self,
        *,
        actor: str,
        action: str,
        records: Iterable[str] = (),
        purpose: str = "",
        outcome: str = "ok",
        details: dict[str, Any] | None = None,
    ) -> None:
        self.audit.append(
            {
                "actor": actor,
                "action": action,
                "records": list(records),
                "purpose": purpose,
                "outcome": outcome,
                "details": dict(details or {}),
            }
        )


class OrderRepository(Protocol):
    """Persistence of order records. `add` a new record, `get` by reference, `save` a changed record
    (implementations may check that `record.versions` only grew or its latest version changed),
    `active_documents` yields the current document of every accepted or active order (duplicate checks), or,
    given `keys` (`rules.duplicates.match_keys`), at least those sharing one of the keys."""

    def get(self, ref: str) -> OrderRecord | None: ...

    def add(self, record: OrderRecord) -> None: ...

    def save(self, record: OrderRecord) -> None: ...

    def active_documents(self, keys: Collection[str] | None = None) -> Iterable[dict[str, Any]]: ...


class InMemoryOrderRepository:
    def __init__(self) -> None:
        self._records: dict[str, OrderRecord] = {}

    def get(self, ref: str) -> OrderRecord | None:
        return self._records.get(ref)

    def add(self, record: OrderRecord) -> None:
        if record.ref in self._records:
            raise Conflict(f"Order {record.ref} already exists")
        self._records[record.ref] = record

    def save(self, record: OrderRecord) -> None:
        if record.ref not in self._records:
            raise NotFound(f"Order {record.ref} not found")
        self._records[record.ref] = record

    def active_documents(self, keys: Collection[str] | None = None) -> Iterable[dict[str, Any]]:
        for record in self._records.values():
            current = record.current
            if current is not None and current.status in (OrderStatus.ACCEPTED, OrderStatus.ACTIVE):
                if keys is None or match_keys(current.document) & set(keys):
                    yield current.document


class OrderInvalid(Invalid):
    """The order (or a section) has errors; `errors` are field-level and safe to show."""

    def __init__(
        self, errors: list[ValidationError], message: str = "There is a problem with the order"
    ) -> None:
        super().__init__(message, code="order_invalid")
        self.errors = errors


class PossibleDuplicates(Conflict):
    def __init__(self, duplicates: list[PossibleDuplicate]) -> None:
        refs = ", ".join(d.order_ref for d in duplicates)
        super().__init__(
            f"This person may already have an active order ({refs}). Check and confirm before submitting",
            code="possible_duplicate",
        )
        self.duplicates = duplicates


@dataclasses.dataclass(frozen=True)
class ServiceResult:
    """The record after a use case and what it recorded (already added to the unit of work)."""

    record: OrderRecord
    events: tuple[Event, ...]
    audit: AuditEntry


class OrderService:
    def __init__(
        self,
        repo: OrderRepository,
        clock: Clock | None = None,
        policy: Mapping[str, Any] | None = None,
        *,
        unit: Unit,
    ) -> None:
        self.repo = repo
        self.clock = clock or Clock()
        self.policy = policy
        self.unit = unit

    # -- helpers -------------------------------------------------------------------------------------
    def _get(self, ref: str) -> OrderRecord:
        record = self.repo.get(ref)
        if record is None:
            raise NotFound(f"Order {ref} not found")
        return record

    def _done(
        self, record: OrderRecord, events: tuple[Event, ...], verb: str, actor: str, **details: Any
    ) -> ServiceResult:
        """Record the use case's events and audit entry in the unit of work."""
        audit = (f"orders:{record.ref}:{verb}", actor, {"version": record.latest.version, **details})
        for event in events:
            self.unit.add_event(event)
        self.unit.add_audit(actor=actor, action=audit[0], records=[record.ref], details=audit[2])
        return ServiceResult(record, events, audit)

    # -- use cases -----------------------------------------------------------------------------------
    def create_draft(
        self, actor: str, document: dict[str, Any] | None = None, person_id: str | None = None
    ) -> ServiceResult:
        doc = copy.deepcopy(document or {})
        errors = check_structure(doc)
        if errors:
            raise OrderInvalid(errors)
        record = lifecycle.new_draft(new_id("ORD"), doc, actor, self.clock.now(), person_id)
        self.repo.add(record)
        return self._done(record, (), "create", actor)

    def update_section(self, actor: str, ref: str, name: str, value: Any) -> ServiceResult:
        """Replace one section of the draft (shape-checked; completeness is checked on submit)."""
        record = self._get(ref)
        lifecycle.require_editable(record.latest)
        if name not in SECTIONS and name not in LIST_SECTIONS and name != "thresholds":
            raise OrderInvalid(
                [ValidationError("unknown_field", name, f"{name} is not a section of an order")]
            )
        errors = check_structure({name: value})
        if errors:
            raise OrderInvalid(errors)
        doc = copy.deepcopy(record.latest.document)
        doc[name] = copy.deepcopy(value)
        record = record.replace_latest(dataclasses.replace(record.latest, document=doc))
        self.repo.save(record)
        return self._done(record, (), "update", actor, section=name)

    def validate(self, ref: str) -> list[ValidationError]:
        return validate_order(self._get(ref).latest.document, now=self.clock.now(), policy=self.policy)

    def submit(
        self,
        actor: str,
        ref: str,
        confirmed_not_duplicates: Iterable[str] = (),
        acknowledged: Iterable[str] = (),
        document_types: Collection[str] | None = None,
    ) -> ServiceResult:
        """Validate and freeze the draft. Refuses with `OrderInvalid` (field errors) or, for a new order,
        `PossibleDuplicates` unless each possible duplicate's ref is in `confirmed_not_duplicates`.
        `acknowledged` ("code:field") accepts flags (rules/acknowledge.py: openem's stricter rules CEMO does
        not have) the person has checked; they are recorded in the order's `acknowledgements` and audited.
        `document_types`, the types of the documents uploaded to the order, when given, must include the one
        its notifying organisation issues (`documents.missing_documents`: licence, court order)."""
        record = self._get(ref)
        lifecycle.require_editable(record.latest)
        now = self.clock.now()
        doc = record.latest.document
        errors = validate_order(doc, now=now, policy=self.policy)
        wanted = set(acknowledged)
        checked = [e for e in errors if f"{e.code}:{e.field}" in wanted]
        added: list[dict[str, str]] = []
        if checked:
            doc = copy.deepcopy(doc)
            added = acknowledge(doc, checked, "USER")
            record = record.replace_latest(dataclasses.replace(record.latest, document=doc))
            errors = validate_order(doc, now=now, policy=self.policy)
        if document_types is not None:
            errors = errors + missing_documents(doc, set(document_types))
        if errors:
            raise OrderInvalid(errors)
        if record.latest.request_type is RequestType.NEW:
            confirmed = set(confirmed_not_duplicates)
            duplicates = [
                d
                for d in find_possible_duplicates(doc, self.repo.active_documents(match_keys(doc)))
                if d.order_ref not in confirmed
            ]
            if duplicates:
                raise PossibleDuplicates(duplicates)
        record = lifecycle.apply(record, "submit", now)
        self.repo.save(record)
        latest = record.latest
        event = ev.OrderSubmitted(
            order_ref=ref,
            version=latest.version,
            request_type=latest.request_type.value,
            person_id=record.person_id,
            submitted_by=actor,
            submitted_at=iso(now),
            order=copy.deepcopy(doc),
        )
        details: dict[str, Any] = {"confirmed_not_duplicates": sorted(set(confirmed_not_duplicates))}
        if added:
            details["acknowledged"] = [f"{a['code']}:{a['field']}" for a in added]
        return self._done(record, (event,), "submit", actor, **details)

    def accept(self, actor: str, ref: str) -> ServiceResult:
        record = self._get(ref)
        previous = record.current
        now = self.clock.now()
        record = lifecycle.apply(record, "accept", now)
        self.repo.save(record)
        latest = record.latest
        doc = copy.deepcopy(latest.document)
        events: list[Event] = [
            ev.OrderAccepted(ref, latest.version, latest.request_type.value, actor, iso(now), doc)
        ]
        details: dict[str, Any] = {}
        if latest.request_type is RequestType.VARIATION and previous is not None:
            changes = diff_orders(previous.document, latest.document)
            kinds = variation_types(previous.document, latest.document, changes)
            events.append(
                ev.OrderVaried(
                    ref,
                    latest.version,
                    previous.version,
                    kinds,
                    [c.to_dict() for c in changes],
                    iso(now),
                    doc,
                )
            )
            details["variation_types"] = kinds
        return self._done(record, tuple(events), "accept", actor, **details)

    def reject(self, actor: str, ref: str, reasons: Iterable[str]) -> ServiceResult:
        reasons = tuple(r.strip() for r in reasons if isinstance(r, str) and r.strip())
        if not reasons:
            raise OrderInvalid([ValidationError("required", "reasons", "Enter why the order is rejected")])
        record = self._get(ref)
        now = self.clock.now()
        record = lifecycle.apply(record, "reject", now, reasons)
        self.repo.save(record)
        event = ev.OrderRejected(ref, record.latest.version, actor, iso(now), list(reasons))
        return self._done(record, (event,), "reject", actor, reasons=list(reasons))

    def activate(self, actor: str, ref: str) -> ServiceResult:
        """The tag was fitted."""
        record = lifecycle.apply(self._get(ref), "activate", self.clock.now())
        self.repo.save(record)
        return self._done(record, (), "activate", actor)

    def vary(self, actor: str, ref: str, request_type: RequestType = RequestType.VARIATION) -> ServiceResult:
        """Start a new draft version copied from the last (variation, amend rejected, reinstall...)."""
        try:
            request_type = RequestType(request_type)
        except ValueError:
            raise OrderInvalid(
                [ValidationError("not_allowed_value", "request_type", "Select a valid request type")]
            ) from None
        record = lifecycle.add_version(self._get(ref), request_type, actor, self.clock.now())
        self.repo.save(record)
        return self._done(record, (), request_type.value.lower(), actor)

    def amend_rejected(self, actor: str, ref: str) -> ServiceResult:
        return self.vary(actor, ref, RequestType.AMEND_REJECTED)

    def end(self, actor: str, ref: str, reason: str) -> ServiceResult:
        if not isinstance(reason, str) or not reason.strip():
            raise OrderInvalid([ValidationError("required", "reason", "Enter why monitoring is ending")])
        now = self.clock.now()
        record = lifecycle.apply(self._get(ref), "end", now)
        self.repo.save(record)
        event = ev.OrderEnded(
            ref, record.latest.version, record.person_id, actor, iso(now), reason.strip()[:500]
        )
        return self._done(record, (event,), "end", actor, reason=reason.strip()[:500])

    def suspend(self, actor: str, ref: str, reason: str, until: str | None = None) -> ServiceResult:
        """Pause monitoring of an active order now. `until` (YYYY-MM-DD, optional) is the planned resume: the
        order resumes only when someone resumes it (`resume`)."""
        errors = []
        if not isinstance(reason, str) or not reason.strip():
            errors.append(ValidationError("required", "reason", "Enter why monitoring is being suspended"))
        now = self.clock.now()
        planned = None
        if until:
            try:
                planned = date.fromisoformat(str(until)[:10])
            except ValueError:
                errors.append(
                    ValidationError("invalid_date", "until", "The planned resume date must be a real date")
                )
            else:
                if planned < local_date(now):
                    errors.append(
                        ValidationError(
                            "date_in_past", "until", "The planned resume date must be today or in the future"
                        )
                    )
        if errors:
            raise OrderInvalid(errors)
        text_reason = reason.strip()[:500]
        record = lifecycle.suspend(
            self._get(ref), actor, now, text_reason, planned.isoformat() if planned else None
        )
        self.repo.save(record)
        latest = record.latest
        event = ev.OrderSuspended(
            ref,
            latest.version,
            record.person_id,
            actor,
            iso(now),
            planned.isoformat() if planned else None,
            text_reason,
            latest.document,
        )
        return self._done(record, (event,), "suspend", actor, reason=text_reason)

    def resume(self, actor: str, ref: str) -> ServiceResult:
        now = self.clock.now()
        record = lifecycle.resume(self._get(ref), actor, now)
        self.repo.save(record)
        latest = record.latest
        event = ev.OrderResumed(ref, latest.version, record.person_id, actor, iso(now), latest.document)
        return self._done(record, (event,), "resume", actor)


__all__ = [
    "InMemoryOrderRepository",
    "OrderInvalid",
    "OrderRepository",
    "OrderService",
    "PossibleDuplicates",
    "InMemoryUnit",
    "ServiceResult",
    "Unit",
]
